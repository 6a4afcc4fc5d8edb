import hashlib
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from applications import queries
from applications.actions import available_actions
from applications.demo import DEMO_PASSWORD, LOGINS
from applications.models import (
    Application,
    Document,
    FirmMembership,
    Node,
    RequestForInformation,
    State,
)
from applications.services import lifecycle
from sandbox_portal.accounts.models import User
from sandbox_portal.audit.models import AuditEvent
from sandbox_portal.audit.services import verify_chain

DEMO_USERNAMES = {"alice", "amir", "bella", "olivia", "victor", "audrey", "staff"}


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Application, AuditEvent, Document, User, Node, RequestForInformation)
    }


def load():
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_it_loads_the_demo_and_a_second_run_adds_nothing(db, no_reference_node):
    first = load()
    after_first = counts()
    second = load()

    assert "Demo loaded" in first
    assert after_first["Application"] >= 9
    assert "already loaded" in second
    assert counts() == after_first


def test_it_does_not_move_a_case_that_changed_since_the_last_load(demo):
    victor = User.objects.get(username="victor")
    case = Application.objects.get(state=State.RECOMMENDED)
    lifecycle.decide(case, actor=victor, outcome="reject", rationale="Basis risk too high.")
    before = counts()

    assert "already loaded" in load()
    assert counts() == before
    assert Application.objects.get(pk=case.pk).state == State.REJECTED


def test_each_demo_login_authenticates_with_the_demo_password(demo):
    assert {username for username, _ in LOGINS} == DEMO_USERNAMES
    for username in DEMO_USERNAMES:
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert user.get_full_name() and user.email, username


def test_it_refuses_a_demo_login_with_another_password(demo):
    assert authenticate(username="alice", password="pw") is None
    assert authenticate(username="staff", password="") is None


def test_the_demo_people_have_their_roles(demo):
    people = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}

    assert people["olivia"].is_case_officer
    assert people["victor"].is_approver
    assert people["audrey"].is_auditor
    assert people["staff"].is_portal_staff
    assert people["staff"].is_staff and people["staff"].is_superuser
    assert not any(people[name].is_staff for name in DEMO_USERNAMES - {"staff"})
    roles = {
        (m.user.username, m.firm.legal_name, m.role)
        for m in FirmMembership.objects.select_related("user", "firm")
    }
    assert roles == {
        ("alice", "Northgate Payments Ltd", "admin"),
        ("amir", "Northgate Payments Ltd", "member"),
        ("bella", "Tidewater Markets plc", "admin"),
    }


def test_audrey_sees_exactly_her_one_case(demo):
    audrey = User.objects.get(username="audrey")
    alice = User.objects.get(username="alice")

    visible = list(queries.applications_for(audrey))

    assert len(visible) == 1
    assert visible[0].state == State.IN_SANDBOX
    assert visible[0].firm.memberships.filter(user=alice, role="admin").exists()
    assert visible[0].decision.conditions.exists()
    assert visible[0].firm_reports.filter(kind="periodic").exists()


def test_the_demo_has_cases_in_at_least_six_states(demo):
    states = set(Application.objects.values_list("state", flat=True))

    assert len(states) >= 6
    assert {
        State.DRAFT,
        State.SUBMITTED,
        State.AWAITING_FIRM,
        State.TECHNICAL_TESTING,
        State.RECOMMENDED,
        State.IN_SANDBOX,
        State.REJECTED,
        State.WITHDRAWN,
    } <= states
    assert Application.objects.filter(
        state=State.SUBMITTED, firm__legal_name="Tidewater Markets plc"
    ).exists()


def test_the_recommended_case_waits_for_victor_and_not_for_olivia(demo):
    case = Application.objects.get(state=State.RECOMMENDED)
    victor = User.objects.get(username="victor")
    olivia = User.objects.get(username="olivia")

    assert case.recommended_by == olivia
    assert "decide" in {a.name for a in available_actions(victor, case)}
    assert "decide" not in {a.name for a in available_actions(olivia, case)}


def test_the_case_awaiting_the_firm_has_an_open_request(demo):
    case = Application.objects.get(state=State.AWAITING_FIRM)

    assert [rfi.is_open for rfi in case.rfis.all()] == [True]


def test_the_reference_node_points_at_chain_port(db, monkeypatch):
    monkeypatch.setenv("CHAIN_PORT", "9545")
    load()
    node = Node.objects.get(label="reference-node")
    assert node.endpoint_url == "http://127.0.0.1:9545"
    assert node.firm.memberships.filter(user__username="alice").exists()
    assert node.applications.filter(state=State.IN_SANDBOX).exists()

    monkeypatch.setenv("CHAIN_PORT", "8545")
    assert "moved to http://127.0.0.1:8545" in load()
    assert Node.objects.get(pk=node.pk).endpoint_url == "http://127.0.0.1:8545"
    # The node is on a case in the sandbox: the move is requested and approved, audited.
    assert AuditEvent.objects.filter(
        action="node.endpoint_change_approve", object_id=str(node.pk), actor__username="olivia"
    ).exists()


def test_every_demo_change_is_in_an_intact_audit_trail(demo):
    report = verify_chain()

    assert report.intact
    assert report.checked == AuditEvent.objects.count() > 100
    actors = set(AuditEvent.objects.values_list("actor_name", flat=True))
    assert {"alice", "amir", "bella", "olivia", "victor", "staff"} <= actors
    for case in Application.objects.all():
        assert AuditEvent.objects.filter(
            application_id=case.pk, action="application.create"
        ).exists()


def test_demo_documents_are_pdfs_stored_under_their_sha256(demo):
    documents = list(Document.objects.all())

    assert len(documents) >= Application.objects.count()
    for document in documents:
        data = document.file.read()
        document.file.close()
        assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
        assert hashlib.sha256(data).hexdigest() == document.sha256
        assert document.content_type == "application/pdf"


def test_it_refuses_clearly_when_a_demo_username_belongs_to_someone_else(db, no_reference_node):
    User.objects.create_user("alice", "alice@elsewhere.test", "pw", role="case_officer")

    with pytest.raises(CommandError, match="cannot be loaded"):
        load()
    assert not Application.objects.exists()


def test_the_live_demo_case_has_checked_example_traces_once(demo):
    from assessments.traces.models import CheckStatus, TraceUpload

    live = Application.objects.get(state=State.IN_SANDBOX)
    uploads = TraceUpload.objects.filter(application=live).select_related("test_run")
    assert sorted(u.kind for u in uploads) == ["consensus", "ledger"]
    for upload in uploads:
        assert upload.status == CheckStatus.CHECKED, upload.error
        assert upload.uploaded_by.memberships.filter(firm=live.firm).exists()
        suite = upload.test_run.suite_runs.get()
        assert suite.passed is True, suite.result
    load()
    assert TraceUpload.objects.filter(application=live).count() == 2
