"""Loading the demo: create what is missing, through the services where they exist."""

import contextlib
import logging

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test.utils import override_settings

from sandbox_portal.accounts.models import Role, User
from sandbox_portal.audit.context import reset_request_id, set_request_id
from sandbox_portal.audit.services import record

from ..models import (
    Application,
    Cohort,
    EndpointChangeStatus,
    Firm,
    FirmMembership,
    MembershipRole,
    Node,
    Personnel,
    Project,
    Zone,
    ZoneRegistration,
)
from ..services import content, firms, node_changes
from . import evidence
from .cases import cases
from .data import (
    COHORT,
    DEMO_PASSWORD,
    FIRMS,
    PEOPLE,
    PROJECTS,
    REFERENCE_NODE,
    ZONES,
    chain_url,
    nodes_of,
)
from .pdf import pdf_bytes
from .steps import days_from_today


def load(stdout=None):
    """Load what is missing of the demo; return a line for each thing created."""
    return Loader(stdout).load()


@contextlib.contextmanager
def quiet(name):
    """Only warnings and errors from logger ``name`` while the block runs."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


class Loader:
    """Creates what is missing and counts what it created."""

    def __init__(self, stdout=None):
        self.stdout = stdout
        self.created = []
        self.cast = {}
        self.chain_answers = None

    def say(self, message):
        self.created.append(message)
        if self.stdout is not None:
            self.stdout.write(f"  + {message}")

    def load(self):
        # Demo addresses are fictional: loading the demo sends no mail. The test runs'
        # JSON-RPC requests are not worth a log line each on the console.
        with (
            override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
            quiet("httpx"),
        ):
            token = set_request_id()
            try:
                with transaction.atomic():
                    self.people()
                    zones = self.zones()
                    cohort = self.cohort()
                    firm_rows = {key: self.firm(key, spec, zones) for key, spec in FIRMS.items()}
                    projects = {key: self.projects(key, firm_rows[key]) for key in FIRMS}
                    node_rows = {key: self.nodes(key, firm_rows[key]) for key in FIRMS}
            finally:
                reset_request_id(token)
            for case in cases():
                self.case(case, firm_rows, projects, node_rows, cohort)
            self.reports()
            self.traces()
        return self.created

    def reports(self):
        from assessments.reports.demo import render_demo_reports

        for line in render_demo_reports(self.cast["olivia"]):
            self.say(line)

    def traces(self):
        from assessments.traces.demo import upload_demo_traces

        titles = [case.fields["title"] for case in cases()]
        demo_cases = Application.objects.filter(
            title__in=titles, firm__name__in=[spec["name"] for spec in FIRMS.values()]
        )
        for line in upload_demo_traces(demo_cases, lambda app: app.created_by):
            self.say(line)

    # People and set-up without a service of their own.

    def people(self):
        for username, (first, last, email, role) in PEOPLE.items():
            user = User.objects.filter(username=username).first()
            if user is None and username == "amir":
                continue  # joins Firm A by invitation, below
            if user is None:
                user = User(
                    username=username, first_name=first, last_name=last, email=email, role=role
                )
                user.is_staff = user.is_superuser = role == Role.STAFF
                user.set_password(DEMO_PASSWORD)
                user.save()
                record(
                    actor=self.cast.get("staff"),
                    action="account.create",
                    target=user,
                    after={"username": username, "role": role, "email": email},
                )
                self.say(f"user {username} ({user.get_role_display()})")
            self.cast[username] = user

    def zones(self):
        rows = {}
        for name, kind, policies in ZONES:
            zone = Zone.objects.filter(name=name).first()
            if zone is None:
                zone = Zone.objects.create(name=name, kind=kind, policies=policies)
                record(
                    actor=self.cast["staff"],
                    action="zone.create",
                    target=zone,
                    after={"name": name, "kind": kind},
                )
                self.say(f"zone {name}")
            rows[name] = zone
        return rows

    def cohort(self):
        cohort = Cohort.objects.filter(name=COHORT).first()
        if cohort is None:
            cohort = Cohort.objects.create(
                name=COHORT,
                intake_opens=days_from_today(-60),
                intake_closes=days_from_today(30),
                capacity=12,
            )
            record(
                actor=self.cast["staff"],
                action="cohort.create",
                target=cohort,
                after={
                    "name": COHORT,
                    "intake_opens": cohort.intake_opens,
                    "intake_closes": cohort.intake_closes,
                    "capacity": cohort.capacity,
                },
            )
            self.say(f"cohort {COHORT}")
        return cohort

    def firm(self, key, spec, zones):
        staff = self.cast["staff"]
        firm = Firm.objects.filter(name=spec["name"]).first()
        if firm is None:
            firm = Firm.objects.create(
                name=spec["name"],
                legal_name=spec["legal_name"],
                registration_number=spec["registration_number"],
                contact_email=spec["contact_email"],
            )
            record(actor=staff, action="firm.create", target=firm, after={"name": firm.name})
            self.say(f"firm {firm.name}")
        admin = self.cast[spec["admin"]]
        if not FirmMembership.objects.filter(firm=firm, user=admin).exists():
            membership = FirmMembership.objects.create(
                firm=firm, user=admin, role=MembershipRole.ADMIN, invited_by=staff
            )
            record(
                actor=staff,
                action="firm.add_admin",
                target=membership,
                after={"username": admin.username, "role": MembershipRole.ADMIN},
            )
            self.say(f"{admin.username} as admin of {firm.name}")
        if key == "a":
            self.invite_amir(firm, admin)
        for zone_name, address, number in spec["zones"]:
            zone = zones[zone_name]
            if not ZoneRegistration.objects.filter(firm=firm, zone=zone).exists():
                firms.save_zone_registration(
                    firm,
                    actor=admin,
                    fields={
                        "zone": zone,
                        "registered_address": address,
                        "registration_number": number,
                        "registered_on": days_from_today(-400),
                    },
                )
                self.say(f"{firm.name} registered in {zone_name}")
        for name, role, on_site in spec["personnel"]:
            if not Personnel.objects.filter(firm=firm, name=name).exists():
                firms.save_personnel(
                    firm, actor=admin, fields={"name": name, "role": role, "on_site": on_site}
                )
                self.say(f"{name} ({role}) at {firm.name}")
        return firm

    def invite_amir(self, firm, admin):
        first, last, email, _role = PEOPLE["amir"]
        user = User.objects.filter(username="amir").first()
        if user is None:
            membership = firms.invite_member(
                firm,
                actor=admin,
                username="amir",
                email=email,
                first_name=first,
                last_name=last,
                role=MembershipRole.MEMBER,
            )
            user = membership.user
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            record(
                actor=self.cast["staff"],
                action="account.set_demo_password",
                target=user,
                after={"username": user.username},
            )
            self.say(f"user amir, invited by {admin.username} to {firm.name}")
        self.cast["amir"] = user

    def projects(self, key, firm):
        admin = self.cast[FIRMS[key]["admin"]]
        rows = {}
        for name, category, description in PROJECTS[key]:
            project = Project.objects.filter(firm=firm, name=name).first()
            if project is None:
                project = firms.save_project(
                    firm,
                    actor=admin,
                    fields={"name": name, "category": category, "description": description},
                )
                self.say(f"project {name} ({project.get_category_display()})")
            rows[name] = project
        return rows

    def nodes(self, key, firm):
        admin = self.cast[FIRMS[key]["admin"]]
        operator = f"{firm.name} infrastructure team"
        rows = {}
        for label, url, location in nodes_of(key):
            node = Node.objects.filter(firm=firm, label=label).first()
            if node is None:
                node = firms.save_node(
                    firm,
                    actor=admin,
                    fields={
                        "label": label,
                        "endpoint_url": url,
                        "location": location,
                        "operator": operator,
                    },
                )
                self.say(f"node {label} at {url}")
            elif label == REFERENCE_NODE and node.endpoint_url != url:
                # CHAIN_PORT changed since the last load: follow it. On a case in review the
                # move is a request the case officer approves, as for any firm.
                node = firms.save_node(
                    firm,
                    actor=admin,
                    node=node,
                    fields={"endpoint_url": url},
                    reason="The reference node listens on another port.",
                )
                pending = node.endpoint_changes.filter(status=EndpointChangeStatus.PENDING)
                for change in pending.filter(requested_url=url):
                    node_changes.approve_change(change, actor=self.cast["olivia"])
                node.refresh_from_db()
                self.say(f"node {label} moved to {node.endpoint_url}")
            rows[label] = node
        return rows

    def case(self, case, firm_rows, projects, node_rows, cohort):
        firm = firm_rows[case.firm]
        title = case.fields["title"]
        if Application.objects.filter(firm=firm, title=title).exists():
            return
        token = set_request_id()
        try:
            with transaction.atomic():
                fields = dict(case.fields)
                if fields.pop("in_cohort", False):
                    fields["cohort"] = cohort
                app = content.create_application(
                    actor=self.cast[case.author],
                    project=projects[case.firm][case.project],
                    fields=fields,
                    answers=case.answers,
                    nodes=[node_rows[case.firm][label] for label in case.nodes],
                )
                for kind, filename, doc_title, paragraphs in case.documents:
                    content.upload_document(
                        app,
                        actor=self.cast[case.author],
                        kind=kind,
                        uploaded=SimpleUploadedFile(
                            filename, pdf_bytes(doc_title, paragraphs), "application/pdf"
                        ),
                    )
                for step in case.steps:
                    if getattr(step, "needs_reference_node", False) and not self.chain():
                        continue
                    app = step(app, self.cast)
        finally:
            reset_request_id(token)
        self.say(f"case {app.reference} {title} ({app.get_state_display()})")
        for run in app.test_runs.order_by("pk").prefetch_related("suite_runs"):
            verdict = {True: "passed", False: "FAILED", None: "no verdict"}[run.passed]
            self.say(f"test run {run.pk} of {app.reference}: {', '.join(run.suites)} ({verdict})")

    def chain(self):
        """Whether the reference node answers; asked once, and said once when it does not."""
        if self.chain_answers is None:
            self.chain_answers = evidence.reference_node_answers()
            if not self.chain_answers and self.stdout is not None:
                self.stdout.write(
                    f"  ! The reference node at {chain_url()} does not answer: evidence "
                    "skipped, the cases are built without test runs (to include them, load "
                    "the demo into an empty database while the node runs, as make run does)."
                )
        return self.chain_answers
