"""Refusals: the wrong person, the wrong state, missing content. A refused
call changes nothing: the state and the audit trail stay as they were."""

import pytest

from applications.models import Application, Condition
from applications.services import IllegalTransition, PermissionDenied, ValidationError, lifecycle
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import complete_fields

from .conftest import ALL_MET, ALL_STATES, PRE_DECISION_STATES, build_case, new_draft


def _final_report(app, people):
    lifecycle.submit_report(app, actor=people.alice, kind="final", title="End", body="Done.")


def _assessed(app, people):
    lifecycle.assess_eligibility(app, actor=people.olivia, assessments=ALL_MET)


# Each service: how to call it with valid input, the state it is taken from,
# anything to prepare first, and who may take it.
SERVICES = {
    "submit": (lambda app, actor: lifecycle.submit(app, actor=actor), "draft", None, "alice"),
    "start_screening": (
        lambda app, actor: lifecycle.start_screening(app, actor=actor),
        "submitted",
        None,
        "olivia",
    ),
    "accept_for_review": (
        lambda app, actor: lifecycle.accept_for_review(app, actor=actor),
        "screening",
        None,
        "olivia",
    ),
    "request_information": (
        lambda app, actor: lifecycle.request_information(app, actor=actor, question="Why?"),
        "under_review",
        None,
        "olivia",
    ),
    "answer_information": (
        lambda app, actor: lifecycle.answer_information(app, actor=actor, answer="Because."),
        "awaiting_firm",
        None,
        "alice",
    ),
    "assess_eligibility": (
        lambda app, actor: lifecycle.assess_eligibility(app, actor=actor, assessments=ALL_MET),
        "under_review",
        None,
        "olivia",
    ),
    "send_to_testing": (
        lambda app, actor: lifecycle.send_to_testing(app, actor=actor),
        "under_review",
        _assessed,
        "olivia",
    ),
    "send_to_evaluation": (
        lambda app, actor: lifecycle.send_to_evaluation(app, actor=actor),
        "technical_testing",
        None,
        "olivia",
    ),
    "recommend": (
        lambda app, actor: lifecycle.recommend(
            app, actor=actor, recommendation="admit", rationale="Good."
        ),
        "evaluation",
        None,
        "olivia",
    ),
    "decide": (
        lambda app, actor: lifecycle.decide(app, actor=actor, outcome="admit", rationale="Yes."),
        "recommended",
        None,
        "victor",
    ),
    "start_sandbox": (
        lambda app, actor: lifecycle.start_sandbox(app, actor=actor),
        "admitted_with_conditions",
        None,
        "olivia",
    ),
    "submit_report": (
        lambda app, actor: lifecycle.submit_report(
            app, actor=actor, kind="periodic", title="Q1", body="Fine."
        ),
        "in_sandbox",
        None,
        "alice",
    ),
    "start_exit_review": (
        lambda app, actor: lifecycle.start_exit_review(app, actor=actor),
        "in_sandbox",
        _final_report,
        "alice",
    ),
    "close_exit": (
        lambda app, actor: lifecycle.close_exit(
            app, actor=actor, outcome="authorised", rationale="Ready."
        ),
        "exit_review",
        None,
        "victor",
    ),
    "withdraw": (
        lambda app, actor: lifecycle.withdraw(app, actor=actor, reason="Changed our plans."),
        "submitted",
        None,
        "alice",
    ),
}

# Who may not take each action, although the case is in the right state.
WRONG_ROLES = {
    "submit": ["olivia", "victor", "audrey", "staff", "bella"],
    "start_screening": ["alice", "victor", "audrey", "staff"],
    "accept_for_review": ["alice", "victor", "audrey", "staff"],
    "request_information": ["alice", "amir", "audrey", "staff"],
    "answer_information": ["bella", "olivia", "audrey", "staff"],
    "assess_eligibility": ["alice", "audrey", "staff"],
    "send_to_testing": ["alice", "victor", "audrey", "staff"],
    "send_to_evaluation": ["alice", "victor", "audrey", "staff"],
    "recommend": ["alice", "audrey", "staff"],
    "decide": ["olivia", "oscar", "alice", "audrey", "staff"],
    "start_sandbox": ["alice", "audrey", "staff"],
    "submit_report": ["bella", "olivia", "audrey", "staff"],
    "start_exit_review": ["bella", "audrey", "ursula", "staff"],
    "close_exit": ["olivia", "alice", "audrey", "staff"],
    "withdraw": ["amir", "bella", "olivia", "victor", "staff"],
}

# The states each action is taken from (the design's lifecycle, written out).
ALLOWED_FROM = {
    "submit": {"draft"},
    "start_screening": {"submitted"},
    "accept_for_review": {"screening"},
    "request_information": {"under_review"},
    "answer_information": {"awaiting_firm"},
    "assess_eligibility": {"screening", "under_review"},
    "send_to_testing": {"under_review"},
    "send_to_evaluation": {"technical_testing"},
    "recommend": {"evaluation"},
    "decide": {"recommended"},
    "start_sandbox": {"admitted", "admitted_with_conditions"},
    "submit_report": {"in_sandbox"},
    "start_exit_review": {"in_sandbox"},
    "close_exit": {"exit_review"},
    "withdraw": set(PRE_DECISION_STATES),
}


def _trail():
    return list(AuditEvent.objects.order_by("seq").values_list("seq", "hash"))


def test_every_service_has_a_table_of_refusals():
    assert set(SERVICES) == set(WRONG_ROLES) == set(ALLOWED_FROM)


@pytest.mark.parametrize(
    "service, username",
    [(name, who) for name, people in WRONG_ROLES.items() for who in people],
)
def test_it_refuses_an_action_to_the_wrong_role(people, case_in, service, username):
    call, state, prepare, _ = SERVICES[service]
    app = case_in(state)
    if prepare:
        prepare(app, people)
    trail = _trail()
    with pytest.raises(PermissionDenied):
        call(app, getattr(people, username))
    app.refresh_from_db()
    assert app.state == state
    assert _trail() == trail


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_it_allows_the_action_to_the_right_role(people, case_in, service):
    # The refusals above are meaningful only if the same call succeeds for the right person.
    call, state, prepare, username = SERVICES[service]
    app = case_in(state)
    if prepare:
        prepare(app, people)
    events = AuditEvent.objects.count()
    call(app, getattr(people, username))
    assert AuditEvent.objects.count() > events


@pytest.fixture
def every_state(people, project_a, node_a):
    return {state: build_case(people, project_a, state, nodes=[node_a]) for state in ALL_STATES}


def test_it_refuses_every_action_from_every_state_it_does_not_start_from(people, every_state):
    checked, failures = 0, []
    for service, (call, _, _, username) in SERVICES.items():
        for state, app in every_state.items():
            if state in ALLOWED_FROM[service]:
                continue
            trail = _trail()
            try:
                call(app, getattr(people, username))
            except IllegalTransition:
                pass
            except Exception as exc:
                failures.append(f"{service} from {state}: {exc.__class__.__name__}: {exc}")
            else:
                failures.append(f"{service} from {state}: was allowed")
            app.refresh_from_db()
            if app.state != state:
                failures.append(f"{service} from {state}: state became {app.state}")
            if _trail() != trail:
                failures.append(f"{service} from {state}: the audit trail changed")
            checked += 1
    assert not failures, "\n".join(failures)
    assert checked > 150


def test_it_names_everything_missing_from_an_empty_draft(people, project_a):
    from applications.services import content

    app = content.create_application(actor=people.alice, project=project_a)
    trail = _trail()
    with pytest.raises(ValidationError) as refused:
        lifecycle.submit(app, actor=people.alice)
    message = refused.value.messages[0]
    for missing in (
        "hypothesis",
        "success metrics",
        "test start",
        "test end",
        "exit and transition strategy",
        "eligibility answer: In scope",
        "eligibility answer: Need for sandbox support",
    ):
        assert missing in message
    app.refresh_from_db()
    assert app.state == "draft"
    assert app.submitted_at is None
    assert _trail() == trail


def test_it_names_only_what_is_missing(people, project_a):
    from applications.services import content

    fields = complete_fields() | {"exit_strategy": ""}
    app = content.create_application(
        actor=people.alice,
        project=project_a,
        fields=fields,
        answers={"in_scope": "Yes", "genuine_innovation": "Yes", "consumer_benefit": "Yes"},
    )
    with pytest.raises(ValidationError) as refused:
        lifecycle.submit(app, actor=people.alice)
    message = refused.value.messages[0]
    assert "exit and transition strategy" in message
    assert "Readiness for testing" in message
    assert "Need for sandbox support" in message
    assert "hypothesis" not in message
    assert "In scope" not in message


def test_it_refuses_a_test_plan_that_ends_before_it_starts(people, project_a):
    fields = complete_fields()
    fields["test_start"], fields["test_end"] = fields["test_end"], fields["test_start"]
    app = new_draft(people, project_a)
    Application.objects.filter(pk=app.pk).update(
        test_start=fields["test_start"], test_end=fields["test_end"]
    )
    with pytest.raises(ValidationError, match="end date after the start"):
        lifecycle.submit(app, actor=people.alice)


def test_it_refuses_submission_by_a_removed_member(people, case_in):
    from applications.models import FirmMembership
    from applications.services import firms

    app = case_in("draft")
    firms.remove_member(
        FirmMembership.objects.get(user=people.amir, firm=people.firm_a), actor=people.alice
    )
    people.amir.refresh_from_db()
    with pytest.raises(PermissionDenied):
        lifecycle.submit(app, actor=people.amir)
    app.refresh_from_db()
    assert app.state == "draft"


def test_it_refuses_to_answer_an_rfi_of_another_case(people, case_in):
    app = case_in("awaiting_firm")
    other = case_in("awaiting_firm")
    other_rfi = other.rfis.get()
    with pytest.raises(ValidationError, match="no open request"):
        lifecycle.answer_information(
            app, actor=people.alice, answer="Wrong case.", rfi_id=other_rfi.pk
        )
    other_rfi.refresh_from_db()
    assert other_rfi.is_open


def test_it_refuses_a_condition_status_change_by_anyone_but_a_regulator(people, case_in):
    app = case_in("admitted_with_conditions")
    condition = Condition.objects.get(application=app)
    for username in ("alice", "audrey", "staff"):
        with pytest.raises(PermissionDenied):
            lifecycle.set_condition_status(condition, actor=getattr(people, username), status="met")
    condition.refresh_from_db()
    assert condition.status == "open"
    lifecycle.set_condition_status(condition, actor=people.olivia, status="met", note="Done.")
    condition.refresh_from_db()
    assert (condition.status, condition.status_set_by) == ("met", people.olivia)


def test_it_refuses_an_unknown_condition_status(people, case_in):
    app = case_in("admitted_with_conditions")
    condition = Condition.objects.get(application=app)
    with pytest.raises(ValidationError):
        lifecycle.set_condition_status(condition, actor=people.olivia, status="forgotten")
    condition.refresh_from_db()
    assert condition.status == "open"
