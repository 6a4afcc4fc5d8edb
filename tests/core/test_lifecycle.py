"""Every lifecycle transition from its allowed source state, and the rules the
services hold beyond the state machine: four-eyes, conditions, withdrawal,
the final report and the L0 shortcut past technical testing."""

import pytest

from applications.models import (
    Application,
    Condition,
    Decision,
    FirmReport,
    RequestForInformation,
    State,
    TierStatus,
)
from applications.services import IllegalTransition, PermissionDenied, ValidationError, lifecycle
from sandbox_portal.audit.models import AuditEvent

from .conftest import ALL_MET, PRE_DECISION_STATES, in_days


def last_event(action):
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


def assert_moved(app, actor, action, before, after):
    app.refresh_from_db()
    assert app.state == after
    event = last_event(f"application.{action}")
    assert event is not None, f"no audit event for {action}"
    assert event.actor_id == actor.pk
    assert event.application_id == app.pk
    assert event.before == {"state": before}
    assert event.after["state"] == after


def test_it_submits_a_complete_draft(people, case_in):
    app = case_in("draft")
    lifecycle.submit(app, actor=people.amir)
    assert_moved(app, people.amir, "submit", "draft", "submitted")
    assert app.submitted_at is not None
    institutional = TierStatus.objects.get(application=app, tier="institutional")
    assert institutional.status == "in_progress"


def test_it_starts_screening_and_gives_the_case_to_the_officer(people, case_in):
    app = case_in("submitted")
    lifecycle.start_screening(app, actor=people.oscar)
    assert_moved(app, people.oscar, "start_screening", "submitted", "screening")
    assert app.case_officer == people.oscar


def test_it_keeps_an_assigned_officer_when_another_screens(people, case_in):
    app = case_in("submitted")
    Application.objects.filter(pk=app.pk).update(case_officer=people.olivia)
    lifecycle.start_screening(app, actor=people.oscar)
    app.refresh_from_db()
    assert app.case_officer == people.olivia


def test_it_accepts_a_screened_case_for_review(people, case_in):
    app = case_in("screening")
    lifecycle.accept_for_review(app, actor=people.olivia, note="Complete and in scope.")
    assert_moved(app, people.olivia, "accept_for_review", "screening", "under_review")
    assert last_event("application.accept_for_review").reason == "Complete and in scope."


def test_it_requests_information_during_review(people, case_in):
    app = case_in("under_review")
    lifecycle.request_information(
        app, actor=people.victor, question="  Who operates the nodes?  ", due_date=in_days(10)
    )
    assert_moved(app, people.victor, "request_information", "under_review", "awaiting_firm")
    rfi = RequestForInformation.objects.get(application=app)
    assert rfi.question == "Who operates the nodes?"
    assert rfi.is_open
    assert rfi.raised_by == people.victor


def test_it_refuses_an_empty_question(people, case_in):
    app = case_in("under_review")
    with pytest.raises(ValidationError, match="question"):
        lifecycle.request_information(app, actor=people.olivia, question="   ")
    app.refresh_from_db()
    assert app.state == "under_review"
    assert not RequestForInformation.objects.filter(application=app).exists()


def test_it_takes_the_firms_answer_and_resumes_review(people, case_in):
    app = case_in("awaiting_firm")
    lifecycle.answer_information(app, actor=people.amir, answer="Our own staff, on site.")
    assert_moved(app, people.amir, "answer_information", "awaiting_firm", "under_review")
    rfi = RequestForInformation.objects.get(application=app)
    assert rfi.answer == "Our own staff, on site."
    assert rfi.answered_by == people.amir
    assert not rfi.is_open


def test_it_refuses_an_empty_answer(people, case_in):
    app = case_in("awaiting_firm")
    with pytest.raises(ValidationError, match="answer"):
        lifecycle.answer_information(app, actor=people.alice, answer=" ")
    app.refresh_from_db()
    assert app.state == "awaiting_firm"
    assert RequestForInformation.objects.get(application=app).is_open


def test_it_records_the_eligibility_rubric(people, case_in):
    app = case_in("under_review")
    lifecycle.assess_eligibility(
        app,
        actor=people.olivia,
        assessments={"in_scope": ("met", "A payment service."), "readiness": ("unclear", "?")},
    )
    answers = {e.criterion: e for e in app.eligibility.all()}
    assert answers["in_scope"].assessment == "met"
    assert answers["in_scope"].assessed_by == people.olivia
    assert answers["readiness"].assessment == "unclear"
    assert answers["consumer_benefit"].assessment == ""
    event = last_event("application.assess_eligibility")
    assert event.actor_id == people.olivia.pk
    assert event.before["in_scope"] == {"assessment": "", "rationale": ""}
    assert event.after["in_scope"] == {"assessment": "met", "rationale": "A payment service."}


def test_it_sends_an_assessed_case_to_testing(people, case_in):
    app = case_in("under_review")
    lifecycle.assess_eligibility(app, actor=people.olivia, assessments=ALL_MET)
    lifecycle.send_to_testing(app, actor=people.olivia)
    assert_moved(app, people.olivia, "send_to_testing", "under_review", "technical_testing")
    assert TierStatus.objects.get(application=app, tier="technical").status == "in_progress"


def test_it_refuses_testing_before_the_rubric_is_complete(people, case_in):
    app = case_in("under_review")
    lifecycle.assess_eligibility(
        app, actor=people.olivia, assessments={"in_scope": ("met", "Shown.")}
    )
    with pytest.raises(ValidationError, match="Genuine innovation"):
        lifecycle.send_to_testing(app, actor=people.olivia)
    app.refresh_from_db()
    assert app.state == "under_review"


def test_it_sends_a_tested_case_to_evaluation(people, case_in):
    app = case_in("technical_testing")
    lifecycle.send_to_evaluation(app, actor=people.oscar)
    assert_moved(app, people.oscar, "send_to_evaluation", "technical_testing", "evaluation")


def test_it_records_a_recommendation(people, case_in):
    app = case_in("evaluation")
    lifecycle.recommend(app, actor=people.olivia, recommendation="reject", rationale="Not ready.")
    assert_moved(app, people.olivia, "recommend", "evaluation", "recommended")
    assert app.recommendation == "reject"
    assert app.recommended_by == people.olivia
    assert app.recommended_at is not None


def test_it_refuses_a_recommendation_without_outcome_or_reasons(people, case_in):
    app = case_in("evaluation")
    with pytest.raises(ValidationError):
        lifecycle.recommend(app, actor=people.olivia, recommendation="maybe", rationale="Hm.")
    with pytest.raises(ValidationError, match="rationale"):
        lifecycle.recommend(app, actor=people.olivia, recommendation="admit", rationale=" ")
    app.refresh_from_db()
    assert app.state == "evaluation"


def test_it_admits_with_conditions_and_testing_parameters(people, case_in):
    app = case_in("recommended")
    lifecycle.decide(
        app,
        actor=people.victor,
        outcome="admit_with_conditions",
        rationale="Admitted under conditions.",
        conditions=[("Monthly reports", in_days(30)), ("Cap at 100 customers", in_days(5))],
        testing_parameters={"max_customers": 100},
    )
    assert_moved(app, people.victor, "decide", "recommended", "admitted_with_conditions")
    decision = Decision.objects.get(application=app)
    assert decision.decided_by == people.victor
    assert decision.testing_parameters == {"max_customers": 100}
    assert sorted(c.text for c in decision.conditions.all()) == [
        "Cap at 100 customers",
        "Monthly reports",
    ]
    assert app.decided_at == decision.decided_at
    assert TierStatus.objects.get(application=app, tier="institutional").status == "satisfied"
    event = last_event("application.decide")
    assert len(event.after["conditions"]) == 2


def test_it_admits_without_conditions(people, case_in):
    app = case_in("recommended")
    lifecycle.decide(app, actor=people.vera, outcome="admit", rationale="Admitted.")
    assert_moved(app, people.vera, "decide", "recommended", "admitted")
    assert not Condition.objects.filter(application=app).exists()


def test_it_rejects_and_the_rejection_carries_no_conditions(people, case_in):
    app = case_in("recommended")
    lifecycle.decide(app, actor=people.victor, outcome="reject", rationale="Not innovative.")
    assert_moved(app, people.victor, "decide", "recommended", "rejected")
    assert Decision.objects.get(application=app).outcome == "reject"
    assert not Condition.objects.filter(application=app).exists()
    assert TierStatus.objects.get(application=app, tier="institutional").status == "failed"


def test_it_refuses_a_rejection_that_carries_conditions(people, case_in):
    app = case_in("recommended")
    with pytest.raises(ValidationError, match="Only an admission with conditions"):
        lifecycle.decide(
            app,
            actor=people.victor,
            outcome="reject",
            rationale="No.",
            conditions=[("Something", in_days(10))],
        )
    app.refresh_from_db()
    assert app.state == "recommended"
    assert not Decision.objects.filter(application=app).exists()
    assert not Condition.objects.filter(application=app).exists()


def test_it_refuses_admission_with_conditions_without_conditions(people, case_in):
    app = case_in("recommended")
    with pytest.raises(ValidationError, match="at least one condition"):
        lifecycle.decide(
            app, actor=people.victor, outcome="admit_with_conditions", rationale="Yes, but."
        )
    app.refresh_from_db()
    assert app.state == "recommended"
    assert not Decision.objects.filter(application=app).exists()


@pytest.mark.parametrize(
    "conditions, message",
    [
        ([("  ", in_days(10))], "text is empty"),
        ([("Appoint an officer", None)], "due date"),
        ([("Appoint an officer", "2030-01-01")], "due date"),
        ([("Appoint an officer", in_days(-1))], "has passed"),
        ([("Only the text",)], "text and due date"),
    ],
)
def test_it_refuses_a_condition_without_text_or_a_future_due_date(
    people, case_in, conditions, message
):
    app = case_in("recommended")
    with pytest.raises(ValidationError, match=message):
        lifecycle.decide(
            app,
            actor=people.victor,
            outcome="admit_with_conditions",
            rationale="Yes, but.",
            conditions=conditions,
        )
    app.refresh_from_db()
    assert app.state == "recommended"
    assert not Condition.objects.filter(application=app).exists()


def test_it_refuses_a_decision_by_the_approver_who_recommended(people, case_in):
    app = case_in("recommended", recommender=people.victor)
    events = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied, match="Four-eyes"):
        lifecycle.decide(app, actor=people.victor, outcome="admit", rationale="My own case.")
    app.refresh_from_db()
    assert app.state == "recommended"
    assert AuditEvent.objects.count() == events
    # The same case is otherwise decidable: a second approver decides it.
    lifecycle.decide(app, actor=people.vera, outcome="admit", rationale="Second pair of eyes.")
    app.refresh_from_db()
    assert app.state == "admitted"


def test_it_starts_the_testing_period_of_an_admitted_case(people, case_in):
    for state in ("admitted", "admitted_with_conditions"):
        app = case_in(state)
        lifecycle.start_sandbox(app, actor=people.olivia, ends_on=in_days(90))
        assert_moved(app, people.olivia, "start_sandbox", state, "in_sandbox")
        assert app.sandbox_ends_on == in_days(90)
        assert app.sandbox_started_at is not None


def test_it_refuses_a_testing_period_that_has_already_ended(people, case_in):
    app = case_in("admitted")
    with pytest.raises(ValidationError, match="after today"):
        lifecycle.start_sandbox(app, actor=people.olivia, ends_on=in_days(0))
    app.refresh_from_db()
    assert app.state == "admitted"


def test_it_files_a_report_from_the_firm_in_the_sandbox(people, case_in):
    app = case_in("in_sandbox")
    lifecycle.submit_report(
        app, actor=people.amir, kind="incident", title="Node outage", body="Down for 5 min."
    )
    report = FirmReport.objects.get(application=app)
    assert (report.kind, report.submitted_by) == ("incident", people.amir)
    event = last_event("application.submit_report")
    assert event.actor_id == people.amir.pk
    assert event.application_id == app.pk
    assert event.after == {"kind": "incident", "title": "Node outage"}


def test_it_starts_the_exit_review_only_after_the_final_report(people, case_in):
    app = case_in("in_sandbox")
    lifecycle.submit_report(app, actor=people.alice, kind="periodic", title="Q1", body="Fine.")
    with pytest.raises(ValidationError, match="final report"):
        lifecycle.start_exit_review(app, actor=people.olivia)
    app.refresh_from_db()
    assert app.state == "in_sandbox"

    lifecycle.submit_report(app, actor=people.alice, kind="final", title="End", body="Done.")
    lifecycle.start_exit_review(app, actor=people.olivia)
    assert_moved(app, people.olivia, "start_exit_review", "in_sandbox", "exit_review")


def test_it_closes_the_exit_with_an_outcome(people, case_in):
    app = case_in("exit_review")
    lifecycle.close_exit(app, actor=people.vera, outcome="extended", rationale="Six more months.")
    assert_moved(app, people.vera, "close_exit", "exit_review", "exited")
    assert app.exit_outcome == "extended"
    assert app.exited_at is not None


def test_it_refuses_an_unknown_exit_outcome(people, case_in):
    app = case_in("exit_review")
    with pytest.raises(ValidationError):
        lifecycle.close_exit(app, actor=people.vera, outcome="vanished", rationale="?")
    app.refresh_from_db()
    assert app.state == "exit_review"


@pytest.mark.parametrize("state", PRE_DECISION_STATES)
def test_it_withdraws_from_every_state_before_a_decision(people, case_in, state):
    app = case_in(state)
    lifecycle.withdraw(app, actor=people.alice, reason="  Funding fell through. ")
    assert_moved(app, people.alice, "withdraw", state, "withdrawn")
    assert app.withdrawn_reason == "Funding fell through."
    assert Application.objects.filter(pk=app.pk).exists()  # nothing is deleted


@pytest.mark.parametrize(
    "state",
    ["admitted", "admitted_with_conditions", "rejected", "in_sandbox", "exited", "withdrawn"],
)
def test_it_refuses_withdrawal_after_a_decision(people, case_in, state):
    app = case_in(state)
    events = AuditEvent.objects.count()
    with pytest.raises(IllegalTransition):
        lifecycle.withdraw(app, actor=people.alice, reason="Too late.")
    app.refresh_from_db()
    assert app.state == state
    assert AuditEvent.objects.count() == events


def test_it_refuses_withdrawal_by_a_member_who_is_not_the_firms_admin(people, case_in):
    app = case_in("submitted")
    with pytest.raises(PermissionDenied, match="admin"):
        lifecycle.withdraw(app, actor=people.amir, reason="I would like to.")
    app.refresh_from_db()
    assert app.state == "submitted"


def test_it_refuses_withdrawal_without_a_reason(people, case_in):
    app = case_in("submitted")
    with pytest.raises(ValidationError, match="why"):
        lifecycle.withdraw(app, actor=people.alice, reason="  ")
    app.refresh_from_db()
    assert app.state == "submitted"


def test_it_lets_an_l0_case_skip_technical_testing(people, case_in):
    app = case_in("under_review", target_level=0)
    lifecycle.assess_eligibility(app, actor=people.olivia, assessments=ALL_MET)
    lifecycle.send_to_evaluation(app, actor=people.olivia)
    assert_moved(app, people.olivia, "send_to_evaluation", "under_review", "evaluation")


def test_it_refuses_testing_for_an_l0_case(people, case_in):
    app = case_in("under_review", target_level=0)
    lifecycle.assess_eligibility(app, actor=people.olivia, assessments=ALL_MET)
    with pytest.raises(ValidationError, match="L0"):
        lifecycle.send_to_testing(app, actor=people.olivia)
    app.refresh_from_db()
    assert app.state == "under_review"


@pytest.mark.parametrize("level", [1, 2, 3])
def test_it_refuses_to_let_an_l1_or_higher_case_skip_testing(people, case_in, level):
    app = case_in("under_review", target_level=level)
    lifecycle.assess_eligibility(app, actor=people.olivia, assessments=ALL_MET)
    events = AuditEvent.objects.count()
    with pytest.raises(IllegalTransition):
        lifecycle.send_to_evaluation(app, actor=people.olivia)
    app.refresh_from_db()
    assert app.state == "under_review"
    assert AuditEvent.objects.count() == events


def test_it_walks_an_l0_case_from_draft_to_exit(people, case_in):
    app = case_in("exited", target_level=0)
    assert app.state == State.EXITED
    actions = list(
        AuditEvent.objects.filter(application_id=app.pk, action__startswith="application.")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert "application.send_to_testing" not in actions
    assert actions[-1] == "application.close_exit"
