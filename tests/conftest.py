"""Named personas and a case at each stage, shared by every test.

Personas (all with the password ``pw``):
- ``alice``: Firm A admin; ``amir``: Firm A member; ``bella``: Firm B admin;
- ``olivia``: case officer; ``oscar``: a second case officer;
- ``victor``: approver; ``vera``: a second approver;
- ``audrey``: auditor assigned to Firm A's submitted case; ``ursula``: unassigned auditor;
- ``staff``: portal staff.
"""

import datetime
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from applications.models import Criterion, Firm, FirmMembership, MembershipRole
from applications.services import content, firms, lifecycle
from assessments.evaluations.services import issue_evaluation_for
from sandbox_portal.accounts.models import Role, User

PASSWORD = "pw"

# The test nodes (Hardhat, listeners, fake servers) run on 127.0.0.1, which the portal
# refuses by default. Worker and server processes the tests start inherit this environment;
# the fixture below sets the already loaded setting of this process.
TEST_ALLOWED_NETWORKS = "127.0.0.1/32"
os.environ.setdefault("OUTGOING_ALLOWED_NETWORKS", TEST_ALLOWED_NETWORKS)


def login(client, user):
    """Log ``user`` in on a test ``client`` as the login page and the two-factor page
    would: for an account that needs a second factor (regulators, auditors, staff), with
    a confirmed authenticator device and the session marked verified by it."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from sandbox_portal.accounts import two_factor

    client.force_login(user)
    if two_factor.requires_two_factor(user):
        device = two_factor.confirmed_device(user) or TOTPDevice.objects.create(
            user=user, name="Test authenticator", confirmed=True
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def make_user(username, role, **extra):
    return User.objects.create_user(
        username,
        f"{username}@example.test",
        PASSWORD,
        role=role,
        first_name=username.title(),
        **extra,
    )


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Personas are created for every test; the production hasher would dominate
    # the run without changing what a login checks.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _loopback_nodes_allowed_for_the_session():
    # Settings are loaded before this module sets the environment; session fixtures (a
    # report rendered once, say) register loopback nodes before any per-test fixture runs.
    with override_settings(OUTGOING_ALLOWED_NETWORKS=[TEST_ALLOWED_NETWORKS]):
        yield


@pytest.fixture(autouse=True)
def _loopback_nodes_allowed(settings):
    settings.OUTGOING_ALLOWED_NETWORKS = [TEST_ALLOWED_NETWORKS]


@pytest.fixture
def people(db):
    firm_a = Firm.objects.create(name="Firm A", contact_email="a@firm-a.test")
    firm_b = Firm.objects.create(name="Firm B", contact_email="b@firm-b.test")
    users = {
        "alice": make_user("alice", Role.FIRM),
        "amir": make_user("amir", Role.FIRM),
        "bella": make_user("bella", Role.FIRM),
        "olivia": make_user("olivia", Role.CASE_OFFICER),
        "oscar": make_user("oscar", Role.CASE_OFFICER),
        "victor": make_user("victor", Role.APPROVER),
        "vera": make_user("vera", Role.APPROVER),
        "audrey": make_user("audrey", Role.AUDITOR),
        "ursula": make_user("ursula", Role.AUDITOR),
        "staff": make_user("staff", Role.STAFF, is_staff=True),
    }
    FirmMembership.objects.create(firm=firm_a, user=users["alice"], role=MembershipRole.ADMIN)
    FirmMembership.objects.create(firm=firm_a, user=users["amir"], role=MembershipRole.MEMBER)
    FirmMembership.objects.create(firm=firm_b, user=users["bella"], role=MembershipRole.ADMIN)
    return type("People", (), {**users, "firm_a": firm_a, "firm_b": firm_b})


def complete_fields():
    today = datetime.date.today()
    return {
        "title": "Instant cross-border payments",
        "summary": "Payments settled on a permissioned chain.",
        "hypothesis": "Settlement in under a second at lower cost.",
        "success_metrics": "p99 latency under 1 s; no lost payments.",
        "test_start": today + datetime.timedelta(days=30),
        "test_end": today + datetime.timedelta(days=200),
        "customer_cap": 500,
        "exit_strategy": "Apply for full authorisation.",
        "target_level": 2,
    }


@pytest.fixture
def project_a(people):
    return firms.save_project(
        people.firm_a, actor=people.alice, fields={"name": "PayChain", "category": "payment"}
    )


@pytest.fixture
def node_a(people):
    return firms.save_node(
        people.firm_a,
        actor=people.alice,
        fields={"label": "validator-1", "endpoint_url": "http://127.0.0.1:8545"},
    )


@pytest.fixture
def draft_a(people, project_a, node_a):
    """Firm A's complete draft, with a white paper."""
    app = content.create_application(
        actor=people.alice,
        project=project_a,
        fields=complete_fields(),
        answers={c.value: f"Our answer on {c.label}." for c in Criterion},
        nodes=[node_a],
    )
    content.upload_document(
        app,
        actor=people.alice,
        kind="white_paper",
        uploaded=SimpleUploadedFile("paper.pdf", b"%PDF-1.4\n% white paper\n"),
    )
    return app


@pytest.fixture
def submitted_a(people, draft_a):
    """Firm A's case, submitted, with ``audrey`` assigned as its auditor."""
    app = lifecycle.submit(draft_a, actor=people.alice)
    content.assign_auditor(app, actor=people.olivia, auditor=people.audrey)
    return app


def _evaluated(app, people):
    issue_evaluation_for(app, people.olivia)
    return app


def advance(app, people, to):
    """Walk a submitted case forward through the services to the state ``to``."""
    steps = [
        ("screening", lambda a: lifecycle.start_screening(a, actor=people.olivia)),
        ("under_review", lambda a: lifecycle.accept_for_review(a, actor=people.olivia)),
        (
            "technical_testing",
            lambda a: lifecycle.send_to_testing(
                lifecycle.assess_eligibility(
                    a,
                    actor=people.olivia,
                    assessments={c.value: ("met", "Shown.") for c in Criterion},
                ),
                actor=people.olivia,
            ),
        ),
        (
            "evaluation",
            # The evaluation stage ends with an issued access evaluation to recommend on.
            lambda a: _evaluated(lifecycle.send_to_evaluation(a, actor=people.olivia), people),
        ),
        (
            "recommended",
            lambda a: lifecycle.recommend(
                a,
                actor=people.olivia,
                recommendation="admit_with_conditions",
                rationale="Good.",
                evaluation=a.evaluations.get(status="issued"),
            ),
        ),
        (
            "admitted_with_conditions",
            lambda a: lifecycle.decide(
                a,
                actor=people.victor,
                outcome="admit_with_conditions",
                rationale="Admitted.",
                conditions=[
                    (
                        "Appoint a compliance officer",
                        datetime.date.today() + datetime.timedelta(days=60),
                    )
                ],
                testing_parameters={"max_customers": 500},
            ),
        ),
        ("in_sandbox", lambda a: lifecycle.start_sandbox(a, actor=people.olivia)),
    ]
    for state, step in steps:
        if app.state == to:
            return app
        app = step(app)
    assert app.state == to, f"cannot advance to {to}"
    return app


@pytest.fixture
def in_sandbox_a(people, submitted_a):
    return advance(submitted_a, people, "in_sandbox")
