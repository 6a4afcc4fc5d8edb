"""The authorization matrix: every route, for every persona, against Firm A's objects.

Routes come from the URL configuration itself (pages, API router routes and the admin),
so a new route that nobody classified in ``RULES`` fails ``test_every_route_is_classified``.
"""

from collections import defaultdict
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from sandbox_portal.audit.models import AuditEvent
from tests.conftest import login
from tests.security.conftest import PERSONAS
from tests.security.routes import all_routes

# Which of Firm A's objects fills a route's ``pk``, by the route name (API routes by basename).
OBJECT_OF_ROUTE = {
    "case-detail": "application",
    "case-tab": "application",
    "case-action": "application",
    "application-edit": "application",
    "document-upload": "application",
    "case-test-runs": "application",
    "run-new": "application",
    "evaluation-new": "application",
    "condition-status": "condition",
    "firm-detail": "firm",
    "member-remove": "membership",
    "project-edit": "project",
    "node-edit": "node",
    "personnel-edit": "personnel",
    "zone-registration-edit": "zone_registration",
    "document-download": "document",
    "run-detail": "test_run",
    "run-live": "test_run",
    "run-cancel": "test_run",
    "evaluation-detail": "evaluation",
    "evaluation-issue": "evaluation",
    "report-generate": "evaluation",
    "report-detail": "report",
    "report-live": "report",
    "report-download": "report",
    "case-traces": "application",
    "trace-detail": "trace_upload",
    "case-monitoring": "application",
    "case-monitoring-live": "application",
    "case-monitoring-rules": "application",
    "case-monitoring-summary": "application",
    "incident-acknowledge": "incident",
    "node-change-approve": "node_change",
    "node-change-refuse": "node_change",
}
OBJECT_OF_BASENAME = {
    "application": "application",
    "rfi": "rfi",
    "document": "document",
    "condition": "condition",
    "firm-report": "firm_report",
    "project": "project",
    "node": "node",
    "personnel": "personnel",
    "zone-registration": "zone_registration",
    "zone": "zone",
    "firm": "firm",
    "member": "membership",
    "test-run": "test_run",
    "evaluation": "evaluation",
    "report": "report",
    "trace": "trace_upload",
    "incident": "incident",
    "node-change": "node_change",
}


def _object_for(route, objects):
    name = route.key
    if name.startswith("api:"):
        basename = name[4:].rsplit("-", 1)[0]
        if basename not in OBJECT_OF_BASENAME:  # e.g. "zone-registration-detail"
            basename = name[4:].rsplit("-", 2)[0]
        if name[4:] == "application-take-action":
            basename = "application"
        return getattr(objects, OBJECT_OF_BASENAME[basename])
    return getattr(objects, OBJECT_OF_ROUTE[name])


def url_for(route, objects):
    """A concrete URL for ``route``, naming Firm A's objects."""
    values = {
        "name": "set_tier_status" if route.key == "case-action" else "documents",
        "action_name": "set_tier_status",
        "uidb64": "MQ",
        "token": "set-password",
        "object_id": objects.application.pk,
        "object_pk": objects.application.pk,
        "app_label": "applications",
        "content_type_id": 1,
        "id": objects.application.pk,
        "url": "no-such-page/",
    }
    if "pk" in route.parameters and not route.is_admin:
        values["pk"] = _object_for(route, objects).pk
    if route.is_admin:
        # The admin's own parameters (ids of users, groups, permissions) all name Firm A's case.
        values = defaultdict(lambda: objects.application.pk, values)
    return route.url(values)


# ---------------------------------------------------------------------------------------
# The rules. ``get`` is the GET status per persona, in the order of PERSONAS:
#   anonymous, alice (Firm A admin), amir (Firm A member), bella (Firm B admin),
#   olivia (case officer), victor (approver), audrey (assigned auditor), ursula (unassigned).
# LOGIN means "sent to log in": a redirect to the login page for pages, 401 for the API.
# ``may_post`` are the personas allowed to act with POST; anyone else posting an empty
# body must be refused (400/403/404/405/409, never 2xx) and change nothing.
# ---------------------------------------------------------------------------------------
LOGIN = "login"
EVERYONE = frozenset(PERSONAS)
SIGNED_IN = EVERYONE - {"anonymous"}
FIRM_USERS = frozenset({"alice", "amir", "bella"})
FIRM_A = frozenset({"alice", "amir"})
REGULATORS = frozenset({"olivia", "victor"})
SEES_FIRM_A = FIRM_A | REGULATORS | {"audrey"}


@dataclass(frozen=True)
class Rule:
    get: tuple
    may_post: frozenset


RULE_SET = {
    "public": Rule((200, 200, 200, 200, 200, 200, 200, 200), EVERYONE),
    "login-page": Rule((200, 302, 302, 302, 302, 302, 302, 302), EVERYONE),
    "post-only-public": Rule((405, 405, 405, 405, 405, 405, 405, 405), EVERYONE),
    "signed-in": Rule((LOGIN, 200, 200, 200, 200, 200, 200, 200), SIGNED_IN),
    "post-only-signed-in": Rule((LOGIN, 405, 405, 405, 405, 405, 405, 405), SIGNED_IN),
    "regulators-else-redirect": Rule((LOGIN, 302, 302, 302, 200, 200, 302, 302), REGULATORS),
    "firm-users-else-redirect": Rule((LOGIN, 200, 200, 200, 302, 302, 302, 302), FIRM_USERS),
    "firm-users": Rule((LOGIN, 200, 200, 200, 403, 403, 403, 403), FIRM_USERS),
    "firm-admins": Rule((LOGIN, 200, 403, 200, 403, 403, 403, 403), {"alice", "bella"}),
    "firm-or-regulator-or-assigned-auditor": Rule(
        (LOGIN, 200, 200, 404, 200, 200, 200, 404), SEES_FIRM_A
    ),
    # The case's tab without htmx redirects to the whole case page, open at that tab.
    "tab-of-a-visible-case": Rule((LOGIN, 302, 302, 404, 302, 302, 302, 404), SEES_FIRM_A),
    "regulator-on-a-visible-case": Rule((LOGIN, 403, 403, 404, 200, 200, 403, 404), REGULATORS),
    "firm-or-regulator-on-a-visible-case": Rule(
        (LOGIN, 200, 200, 404, 200, 200, 403, 404), FIRM_A | REGULATORS
    ),
    # Firm A's case is in the sandbox: its application can no longer be edited by anyone.
    "closed-for-editing": Rule((LOGIN, 403, 403, 404, 403, 403, 403, 404), frozenset()),
    "firm-a-users": Rule((LOGIN, 200, 200, 404, 403, 403, 403, 403), FIRM_A),
    "firm-a-admin": Rule((LOGIN, 200, 403, 404, 403, 403, 403, 403), {"alice"}),
    "firm-a-members-api": Rule((LOGIN, 200, 200, 404, 404, 404, 404, 404), FIRM_A),
    # Firm A's own users and regulators; no auditor, assigned or not.
    "firm-a-or-regulators-api": Rule(
        (LOGIN, 200, 200, 404, 200, 200, 404, 404), FIRM_A | REGULATORS
    ),
    "post-only-firm-a-admin": Rule((LOGIN, 405, 405, 405, 405, 405, 405, 405), {"alice"}),
    "post-only-regulator-on-a-visible-case": Rule(
        (LOGIN, 405, 405, 405, 405, 405, 405, 405), REGULATORS
    ),
    # The case's firm and regulators upload; the assigned auditor reads only.
    "firm-or-regulator-upload-assigned-auditor-reads": Rule(
        (LOGIN, 200, 200, 404, 200, 200, 200, 404), FIRM_A | REGULATORS
    ),
    # The Django admin: staff only; everyone else is sent to the admin's own login.
    "staff-admin": Rule((), frozenset()),
}

# THE TABLE: every route of the portal, by name, and the rule it follows.
RULES = {
    # Health, login and password pages.
    "healthz": "public",
    "login": "login-page",
    "logout": "post-only-public",
    # Enrolment or verification of the second factor (the personas are all verified).
    "two-factor": "signed-in",
    "password_reset": "public",
    "password_reset_done": "public",
    "password_reset_confirm": "public",
    "password_reset_complete": "public",
    "password_change": "signed-in",
    "password_change_done": "signed-in",
    # The API's description is public: it holds no data.
    "api-schema": "public",
    "api-docs": "public",
    "api:token": "post-only-public",
    # API collections: every signed-in user gets a list scoped to what they may see.
    "api:application-list": "signed-in",
    "api:rfi-list": "signed-in",
    "api:document-list": "signed-in",
    "api:condition-list": "signed-in",
    "api:firm-report-list": "signed-in",
    "api:project-list": "signed-in",
    "api:node-list": "signed-in",
    "api:personnel-list": "signed-in",
    "api:zone-registration-list": "signed-in",
    "api:zone-list": "signed-in",
    "api:zone-detail": "signed-in",
    "api:firm-list": "signed-in",
    "api:member-list": "signed-in",
    "api:test-run-list": "signed-in",
    "api:test-run-monitoring-summary": "post-only-signed-in",
    "api:evaluation-list": "signed-in",
    "api:report-list": "signed-in",
    "api:report-verify": "post-only-signed-in",
    "api:trace-list": "signed-in",
    "api:incident-list": "signed-in",
    "api:node-change-list": "signed-in",
    # API objects of Firm A.
    "api:application-detail": "firm-or-regulator-or-assigned-auditor",
    "api:application-actions": "firm-or-regulator-or-assigned-auditor",
    "api:application-take-action": "post-only-regulator-on-a-visible-case",
    "api:rfi-detail": "firm-or-regulator-or-assigned-auditor",
    "api:document-detail": "firm-or-regulator-or-assigned-auditor",
    "api:document-download": "firm-or-regulator-or-assigned-auditor",
    "api:condition-detail": "firm-or-regulator-or-assigned-auditor",
    "api:condition-status": "post-only-regulator-on-a-visible-case",
    "api:firm-report-detail": "firm-or-regulator-or-assigned-auditor",
    "api:project-detail": "firm-or-regulator-or-assigned-auditor",
    "api:node-detail": "firm-or-regulator-or-assigned-auditor",
    "api:personnel-detail": "firm-or-regulator-or-assigned-auditor",
    "api:zone-registration-detail": "firm-or-regulator-or-assigned-auditor",
    "api:firm-detail": "firm-or-regulator-or-assigned-auditor",
    "api:member-detail": "firm-a-members-api",
    "api:member-remove": "post-only-firm-a-admin",
    "api:test-run-detail": "firm-or-regulator-or-assigned-auditor",
    "api:test-run-cancel": "post-only-regulator-on-a-visible-case",
    "api:evaluation-detail": "firm-or-regulator-or-assigned-auditor",
    "api:evaluation-issue": "post-only-regulator-on-a-visible-case",
    "api:report-detail": "firm-or-regulator-or-assigned-auditor",
    "api:report-download": "firm-or-regulator-or-assigned-auditor",
    "api:trace-detail": "firm-or-regulator-or-assigned-auditor",
    "api:incident-detail": "firm-or-regulator-or-assigned-auditor",
    "api:incident-acknowledge": "post-only-regulator-on-a-visible-case",
    "api:node-change-detail": "firm-a-or-regulators-api",
    "api:node-change-approve": "post-only-regulator-on-a-visible-case",
    "api:node-change-refuse": "post-only-regulator-on-a-visible-case",
    # Pages: lists and dashboards, scoped to the user.
    "dashboard": "signed-in",
    "queue": "regulators-else-redirect",
    "case-list": "signed-in",
    "zones": "signed-in",
    "firm-home": "firm-users-else-redirect",
    "firm-list": "signed-in",
    "report-verify": "signed-in",
    # Pages of the firm's own physical tier and members.
    "members": "firm-users",
    "member-invite": "firm-admins",
    "member-remove": "firm-a-admin",
    "projects": "firm-users",
    "project-new": "firm-users",
    "project-edit": "firm-a-users",
    "nodes": "firm-users",
    "node-new": "firm-users",
    "node-edit": "firm-a-users",
    "personnel": "firm-users",
    "personnel-new": "firm-users",
    "personnel-edit": "firm-a-users",
    "zone-registrations": "firm-users",
    "zone-registration-new": "firm-admins",
    "zone-registration-edit": "firm-a-admin",
    "application-new": "firm-users",
    # Pages of Firm A's case and what hangs off it.
    "firm-detail": "firm-or-regulator-or-assigned-auditor",
    "case-detail": "firm-or-regulator-or-assigned-auditor",
    "case-tab": "tab-of-a-visible-case",
    "case-action": "regulator-on-a-visible-case",
    "condition-status": "regulator-on-a-visible-case",
    "application-edit": "closed-for-editing",
    "document-upload": "firm-or-regulator-on-a-visible-case",
    "document-download": "firm-or-regulator-or-assigned-auditor",
    "case-test-runs": "firm-or-regulator-or-assigned-auditor",
    "run-new": "regulator-on-a-visible-case",
    "run-detail": "firm-or-regulator-or-assigned-auditor",
    "run-live": "firm-or-regulator-or-assigned-auditor",
    "run-cancel": "post-only-regulator-on-a-visible-case",
    "evaluation-new": "regulator-on-a-visible-case",
    "evaluation-detail": "firm-or-regulator-or-assigned-auditor",
    "evaluation-issue": "post-only-regulator-on-a-visible-case",
    "report-generate": "post-only-regulator-on-a-visible-case",
    "report-detail": "firm-or-regulator-or-assigned-auditor",
    "report-live": "firm-or-regulator-or-assigned-auditor",
    "report-download": "firm-or-regulator-or-assigned-auditor",
    "case-traces": "firm-or-regulator-upload-assigned-auditor-reads",
    "trace-detail": "firm-or-regulator-or-assigned-auditor",
    # Runtime monitoring: the case's dashboard is read only for the firm and its auditor.
    "monitoring-overview": "regulators-else-redirect",
    "case-monitoring": "firm-or-regulator-or-assigned-auditor",
    "case-monitoring-live": "firm-or-regulator-or-assigned-auditor",
    "case-monitoring-rules": "regulator-on-a-visible-case",
    "case-monitoring-summary": "post-only-regulator-on-a-visible-case",
    "incident-acknowledge": "post-only-regulator-on-a-visible-case",
    # A firm's endpoint change on a node of Firm A's case: case officers decide it.
    "node-change-approve": "post-only-regulator-on-a-visible-case",
    "node-change-refuse": "post-only-regulator-on-a-visible-case",
}


def rule_of(route):
    if route.is_admin:
        return "staff-admin"
    return RULES.get(route.key)


PORTAL_ROUTES = [r for r in all_routes() if not r.is_admin]
ADMIN_ROUTES = [r for r in all_routes() if r.is_admin]
REFUSED = {400, 403, 404, 405, 409}


def test_every_route_is_classified():
    unclassified = sorted(r.key for r in all_routes() if rule_of(r) is None)
    assert not unclassified, f"routes with no rule in RULES: {unclassified}"
    unknown = sorted(set(RULES.values()) - set(RULE_SET))
    assert not unknown, f"rules used but not defined: {unknown}"


def test_the_table_names_no_route_that_does_not_exist():
    names = {r.key for r in all_routes()}
    assert not sorted(set(RULES) - names)


def _secrets_of_firm_a(objects):
    """Text that only someone who can see Firm A's objects may ever be shown."""
    return [
        objects.application.reference,
        objects.application.title,
        objects.project.name,
        objects.personnel.name,
        objects.zone_registration.registration_number,
        "Who audits the code?",
        "Appoint a compliance officer",
    ]


def _expect_sent_to_login(route, response):
    if route.is_api:
        return response.status_code == 401
    return response.status_code == 302 and response["Location"].startswith(
        reverse(settings.LOGIN_URL)
    )


def _body(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _rolled_back(send):
    """What ``send()`` answers, with whatever it wrote to the database undone."""
    point = transaction.savepoint()
    try:
        return send()
    finally:
        transaction.savepoint_rollback(point)


@pytest.mark.parametrize("route", PORTAL_ROUTES, ids=lambda r: r.key)
def test_each_persona_gets_what_the_table_says(route, firm_a_objects, clients):
    rule = RULE_SET[rule_of(route)]
    url = url_for(route, firm_a_objects)
    secrets = _secrets_of_firm_a(firm_a_objects)
    wrong = []
    for persona, expected in zip(PERSONAS, rule.get, strict=True):
        client = clients[persona].api if route.is_api else clients[persona].page
        response = _rolled_back(lambda client=client: client.get(url))
        if expected == LOGIN:
            if not _expect_sent_to_login(route, response):
                wrong.append(f"GET {persona}: {response.status_code}, expected a login demand")
        elif response.status_code != expected:
            wrong.append(f"GET {persona}: {response.status_code}, expected {expected}")
        if persona in ("bella", "ursula", "anonymous"):
            leaked = [s for s in secrets if s in _body(response)]
            if leaked:
                wrong.append(f"GET {persona}: shows Firm A's {leaked}")
    assert not wrong, f"{route.key} {url}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("route", PORTAL_ROUTES, ids=lambda r: r.key)
def test_an_empty_post_is_refused_to_everyone_not_allowed_and_never_fails(
    route, firm_a_objects, clients
):
    rule = RULE_SET[rule_of(route)]
    url = url_for(route, firm_a_objects)
    wrong = []
    for persona, get_status in zip(PERSONAS, rule.get, strict=True):
        client = clients[persona].api if route.is_api else clients[persona].page
        before = AuditEvent.objects.count()

        def send(client=client):
            response = client.post(url)
            return response, AuditEvent.objects.count()

        response, after = _rolled_back(send)
        status = response.status_code
        if status >= 500:
            wrong.append(f"POST {persona}: {status}")
            continue
        if persona in rule.may_post:
            continue
        if get_status == LOGIN:
            if not _expect_sent_to_login(route, response):
                wrong.append(f"POST {persona}: {status}, expected a login demand")
        elif get_status == 404 and status not in (404, 405):
            wrong.append(f"POST {persona}: {status}, expected 404 like its GET")
        elif status not in REFUSED and not (status == 302 and get_status == 302):
            wrong.append(f"POST {persona}: {status}, expected a refusal")
        if after != before:
            wrong.append(f"POST {persona}: {status} but it wrote an audit event")
    assert not wrong, f"{route.key} {url}:\n" + "\n".join(wrong)


ADMIN_OPEN = {"admin:login", "admin:logout"}


def test_the_admin_is_closed_to_everyone_but_staff(firm_a_objects, clients, people):
    admin_login = reverse("admin:login")
    wrong = []
    for route in ADMIN_ROUTES:
        if route.key in ADMIN_OPEN:
            continue
        url = url_for(route, firm_a_objects)
        for persona in PERSONAS:
            for method in ("get", "post"):
                response = _rolled_back(
                    lambda method=method, persona=persona: getattr(clients[persona].page, method)(
                        url
                    )
                )
                location = response.get("Location", "")
                if not (response.status_code == 302 and location.startswith(admin_login)):
                    wrong.append(f"{method.upper()} {url} {persona}: {response.status_code}")
    assert not wrong, "\n".join(wrong[:40])
    staff = Client()
    login(staff, people.staff)
    assert staff.get(reverse("admin:index")).status_code == 200


def test_the_admin_login_page_does_not_let_a_portal_user_in(clients):
    response = clients["alice"].page.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
