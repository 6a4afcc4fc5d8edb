"""Endpoint changes on nodes under review go through the case officer: the firm's new
address waits as a request, and runs, probes and the node row keep the old one until a
case officer approves it. Endpoints the outgoing-request policy refuses are refused at
registration and again at approval."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from applications.models import EndpointChangeStatus, Node, NodeEndpointChange
from applications.services import IllegalTransition, firms
from applications.services import node_changes as changes
from assessments import services as runs
from assessments.monitoring import services as monitoring
from sandbox_portal.audit.models import AuditEvent
from sandbox_portal.audit.services import verify_chain

pytestmark = pytest.mark.django_db

OLD = "http://127.0.0.1:8545"
NEW = "https://node-2.firm-a.test:8545"


@pytest.fixture(autouse=True)
def _reference_node_allowed(settings):
    # The personas' node is the reference node on 127.0.0.1, which the policy must allow.
    settings.OUTGOING_ALLOWED_NETWORKS = ["127.0.0.1/32"]


def _move(people, node, url=NEW, actor=None, **fields):
    return firms.save_node(
        people.firm_a,
        actor=actor or people.amir,
        node=node,
        fields={"endpoint_url": url, **fields},
        reason="Moving to the new data hall.",
    )


def _pending(node):
    return NodeEndpointChange.objects.get(node=node, status=EndpointChangeStatus.PENDING)


# ---- Requests ----------------------------------------------------------------------


def test_a_member_changing_the_endpoint_of_an_admitted_cases_node_makes_a_pending_request(
    people, case_in, node_a, mailoutbox, django_capture_on_commit_callbacks
):
    case_in("in_sandbox")
    with django_capture_on_commit_callbacks(execute=True):
        saved = _move(people, node_a, location="Data hall 3")

    node_a.refresh_from_db()
    assert node_a.endpoint_url == OLD, "the node keeps its address until approval"
    assert saved.endpoint_url == OLD
    assert node_a.location == "Data hall 3", "other fields still change at once"
    change = _pending(node_a)
    assert (change.old_url, change.requested_url) == (OLD, NEW)
    assert change.requested_by == people.amir
    assert change.reason == "Moving to the new data hall."
    event = AuditEvent.objects.get(action="node.endpoint_change_request")
    assert event.actor == people.amir
    assert event.before == {"endpoint_url": OLD}
    assert event.after["requested_url"] == NEW
    assert not AuditEvent.objects.filter(action="node.update", after__endpoint_url=NEW).exists()
    (mail,) = [m for m in mailoutbox if "awaits approval" in m.subject]
    assert mail.to == ["olivia@example.test"], "the case officer of the case is told"
    assert NEW in mail.body and OLD in mail.body


def test_runs_and_monitoring_use_the_old_address_until_approval(
    people, case_in, node_a, monkeypatch
):
    app = case_in("in_sandbox")
    _move(people, node_a)

    run = runs.start_run(app, actor=people.olivia, suites=["block"], node_ids=[node_a.pk])
    assert [t["endpoint"] for t in run.targets] == [OLD]

    probed = []

    def fake_probe(target, **kwargs):
        probed.append((list(target.endpoints), list(target.allowed)))
        return [{"endpoint": url, "up": False, "error": "down"} for url in target.endpoints]

    monkeypatch.setattr(monitoring.engine, "probe", fake_probe)
    assert monitoring.probe_case(app.pk) == "probed"
    assert probed == [([OLD], [OLD])], "the probe's target and allow-list are the old address"

    changes.approve_change(_pending(node_a), actor=people.olivia)
    later = runs.start_run(app, actor=people.olivia, suites=["block"], node_ids=[node_a.pk])
    assert [t["endpoint"] for t in later.targets] == [NEW]


@pytest.mark.parametrize(
    "state",
    ["screening", "under_review", "awaiting_firm", "technical_testing", "exit_review"],
)
def test_every_state_in_the_regulators_hands_needs_approval(people, case_in, node_a, state):
    case_in(state)
    _move(people, node_a)
    node_a.refresh_from_db()
    assert node_a.endpoint_url == OLD
    assert _pending(node_a).requested_url == NEW


@pytest.mark.parametrize("state", ["draft", "submitted", "withdrawn", "exited"])
def test_nodes_of_cases_not_in_review_still_change_directly(people, case_in, node_a, state):
    case_in(state)
    _move(people, node_a)
    node_a.refresh_from_db()
    assert node_a.endpoint_url == NEW
    assert not NodeEndpointChange.objects.exists()
    assert AuditEvent.objects.filter(action="node.update", after__endpoint_url=NEW).exists()


def test_a_node_no_case_uses_changes_directly(people, node_a):
    _move(people, node_a)
    node_a.refresh_from_db()
    assert node_a.endpoint_url == NEW


def test_a_second_request_withdraws_the_first(people, case_in, node_a):
    case_in("in_sandbox")
    _move(people, node_a)
    first = _pending(node_a)
    _move(people, node_a, url="https://node-3.firm-a.test:8545", actor=people.alice)

    first.refresh_from_db()
    assert first.status == EndpointChangeStatus.WITHDRAWN
    assert _pending(node_a).requested_url == "https://node-3.firm-a.test:8545"
    assert NodeEndpointChange.objects.filter(status=EndpointChangeStatus.PENDING).count() == 1
    assert AuditEvent.objects.filter(
        action="node.endpoint_change_withdraw", object_id=str(first.pk)
    ).exists()


def test_asking_again_for_the_pending_address_changes_nothing(people, case_in, node_a):
    case_in("in_sandbox")
    _move(people, node_a)
    events = AuditEvent.objects.count()
    _move(people, node_a)
    assert NodeEndpointChange.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_editing_only_the_label_keeps_the_pending_request(people, case_in, node_a):
    case_in("in_sandbox")
    _move(people, node_a)
    # The edit form sends the node's current address with the new label.
    _move(people, node_a, url=OLD, label="validator-one")
    node_a.refresh_from_db()
    assert (node_a.label, node_a.endpoint_url) == ("validator-one", OLD)
    assert _pending(node_a).requested_url == NEW


def test_another_firm_cannot_request_a_change(people, case_in, node_a):
    case_in("in_sandbox")
    with pytest.raises(PermissionDenied):
        firms.save_node(
            people.firm_a, actor=people.bella, node=node_a, fields={"endpoint_url": NEW}
        )
    assert not NodeEndpointChange.objects.exists()


# ---- Decisions ---------------------------------------------------------------------


def test_the_case_officer_approves_and_the_node_moves_audited(
    people, case_in, node_a, mailoutbox, django_capture_on_commit_callbacks
):
    case_in("in_sandbox")
    _move(people, node_a)
    with django_capture_on_commit_callbacks(execute=True):
        change = changes.approve_change(_pending(node_a), actor=people.olivia, note="Checked.")

    node_a.refresh_from_db()
    assert node_a.endpoint_url == NEW
    assert change.status == EndpointChangeStatus.APPROVED
    assert (change.decided_by, change.decision_note) == (people.olivia, "Checked.")
    event = AuditEvent.objects.get(action="node.endpoint_change_approve")
    assert event.actor == people.olivia
    assert event.object_id == str(node_a.pk)
    assert event.before == {"endpoint_url": OLD}
    assert event.after["endpoint_url"] == NEW
    assert event.after["requested_by"] == "amir"
    assert event.after["approved_by"] == "olivia"
    assert verify_chain().intact
    (mail,) = [m for m in mailoutbox if "approved" in m.subject]
    assert set(mail.to) == {"alice@example.test", "amir@example.test"}


def test_the_case_officer_refuses_with_a_note_and_the_node_stays(
    people, case_in, node_a, mailoutbox, django_capture_on_commit_callbacks
):
    case_in("in_sandbox")
    _move(people, node_a)
    with pytest.raises(ValidationError):
        changes.refuse_change(_pending(node_a), actor=people.olivia, note="  ")
    assert _pending(node_a)
    with django_capture_on_commit_callbacks(execute=True):
        change = changes.refuse_change(
            _pending(node_a), actor=people.olivia, note="Not a registered data hall."
        )

    node_a.refresh_from_db()
    assert node_a.endpoint_url == OLD
    assert change.status == EndpointChangeStatus.REFUSED
    assert AuditEvent.objects.filter(action="node.endpoint_change_refuse").exists()
    (mail,) = [m for m in mailoutbox if "refused" in m.subject]
    assert "Not a registered data hall." in mail.body


@pytest.mark.parametrize("who", ["alice", "amir", "bella", "victor", "audrey", "staff"])
def test_only_a_case_officer_decides(people, case_in, node_a, who):
    case_in("in_sandbox")
    _move(people, node_a)
    change = _pending(node_a)
    with pytest.raises(PermissionDenied):
        changes.approve_change(change, actor=getattr(people, who))
    with pytest.raises(PermissionDenied):
        changes.refuse_change(change, actor=getattr(people, who), note="No.")
    node_a.refresh_from_db()
    assert node_a.endpoint_url == OLD
    assert _pending(node_a) == change


def test_a_decided_request_cannot_be_decided_again(people, case_in, node_a):
    case_in("in_sandbox")
    _move(people, node_a)
    change = _pending(node_a)
    changes.refuse_change(change, actor=people.olivia, note="No.")
    with pytest.raises(IllegalTransition):
        changes.approve_change(change, actor=people.oscar)
    node_a.refresh_from_db()
    assert node_a.endpoint_url == OLD


def test_approval_checks_the_address_again_and_refuses_what_the_policy_now_refuses(
    people, case_in, node_a, settings
):
    case_in("in_sandbox")
    _move(people, node_a, url="http://127.0.0.1:9545")
    settings.OUTGOING_ALLOWED_NETWORKS = []
    change = changes.approve_change(_pending(node_a), actor=people.olivia)

    assert change.status == EndpointChangeStatus.REFUSED
    assert "loopback" in change.decision_note
    node_a.refresh_from_db()
    assert node_a.endpoint_url == OLD
    event = AuditEvent.objects.get(action="node.endpoint_change_refuse")
    assert event.after["refused_by_policy"] is True


# ---- Registration ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:5432/", "http://[::1]:6379/", "http://10.0.0.5:8545", "http://0.0.0.1/"],
)
def test_a_refused_endpoint_is_refused_at_registration(people, settings, url):
    settings.OUTGOING_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationError) as caught:
        firms.save_node(
            people.firm_a, actor=people.amir, fields={"label": "probe", "endpoint_url": url}
        )
    assert "endpoint_url" in caught.value.message_dict
    assert not Node.objects.exists()


def test_a_loopback_endpoint_is_allowed_when_the_setting_lists_it(people, settings):
    settings.OUTGOING_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    node = firms.save_node(
        people.firm_a,
        actor=people.amir,
        fields={"label": "local", "endpoint_url": "http://127.0.0.1:8545"},
    )
    assert node.endpoint_url == "http://127.0.0.1:8545"


def test_a_refused_endpoint_is_refused_on_edit_even_on_a_draft(people, case_in, node_a, settings):
    case_in("draft")
    settings.OUTGOING_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationError) as caught:
        _move(people, node_a, url="http://169.254.169.254/latest/")
    assert "endpoint_url" in caught.value.message_dict
    node_a.refresh_from_db()
    assert node_a.endpoint_url == OLD


def test_a_refused_endpoint_makes_no_request_on_a_supervised_node(
    people, case_in, node_a, settings
):
    case_in("in_sandbox")
    settings.OUTGOING_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationError):
        _move(people, node_a, url="http://127.0.0.1:22/")
    assert not NodeEndpointChange.objects.exists()


def test_staff_editing_a_node_in_the_admin_meet_the_same_outgoing_policy(people, node_a, settings):
    from applications.admin import NodeAdminForm

    settings.OUTGOING_ALLOWED_NETWORKS = []
    data = {"firm": people.firm_a.pk, "label": node_a.label, "endpoint_url": "http://[::1]:6379/"}
    form = NodeAdminForm(data=data, instance=node_a)
    assert not form.is_valid()
    assert "endpoint_url" in form.errors
    form = NodeAdminForm(data={**data, "endpoint_url": NEW}, instance=node_a)
    assert form.is_valid(), form.errors
