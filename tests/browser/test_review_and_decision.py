"""Journeys: a case officer screens and reviews a submitted case, asks the firm a question
that the firm answers, evaluates the case and recommends; an approver decides to admit it
with a condition. Every step through the pages."""

import datetime

import pytest
from playwright.sync_api import expect

from applications.models import Criterion, State
from assessments.evaluations.models import EvaluationStatus
from tests.conftest import advance

from .pages import (
    case_action,
    confirm_action,
    expect_form_error,
    expect_message,
    expect_state,
    open_case,
    open_tab,
    take_action,
)

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "How are customers compensated if a payment is lost?"
ANSWER = "From a ring-fenced fund of 2 million pounds, within five working days."


def test_an_officer_reviews_asks_the_firm_evaluates_and_recommends(open_as, people, submitted_a):
    app = submitted_a
    officer = open_as(people.olivia)
    open_case(officer, app, via="Queue")
    expect_state(officer, "Submitted")

    take_action(officer, "Start screening")
    expect_state(officer, "Screening")
    take_action(officer, "Complete screening")
    expect_state(officer, "Under review")

    # A request for information pauses the case until the firm answers.
    case_action(officer, "Request information")
    officer.get_by_label("Question").fill(QUESTION)
    confirm_action(officer, "Request information")
    expect_state(officer, "Awaiting firm (RFI)")
    expect(officer.locator("#tab-rfis")).to_contain_text(QUESTION)

    firm = open_as(people.alice)
    firm.get_by_role("link", name="Answer", exact=True).click()
    firm.get_by_label("Answer").fill(ANSWER)
    confirm_action(firm, "Answer the request")
    expect_message(firm, f"Answer the request: done for {app.reference}.")
    expect(firm.locator("#tab-rfis")).to_contain_text(ANSWER)
    rfi = app.rfis.get()
    assert (rfi.answer, rfi.answered_by) == (ANSWER, people.alice)

    officer.reload()
    expect_state(officer, "Under review")
    expect(officer.locator("#tab-rfis")).to_contain_text(ANSWER)

    # The eligibility rubric, then the case moves on through testing to evaluation.
    open_tab(officer, "Overview")
    case_action(officer, "Assess eligibility")
    for criterion in Criterion:
        officer.get_by_label(criterion.label, exact=True).select_option(label="Met")
        officer.locator(f"#field-{criterion.value}_rationale textarea").fill(
            f"{criterion.label}: shown in the application and the firm's answer."
        )
    confirm_action(officer, "Assess eligibility")
    expect_message(officer, f"Assess eligibility: done for {app.reference}.")
    assert {e.assessment for e in app.eligibility.all()} == {"met"}
    take_action(officer, "Send to technical testing")
    expect_state(officer, "Technical testing")
    take_action(officer, "Move to evaluation")
    expect_state(officer, "Evaluation")

    # Recommending before an access evaluation is issued is refused; nothing changes.
    case_action(officer, "Recommend")
    officer.get_by_label("Recommendation").select_option(label="Admit with conditions")
    officer.get_by_label("Rationale").fill("Sound plan; the safeguards need a compliance lead.")
    confirm_action(officer, "Recommend")
    expect_form_error(officer, "issue an access evaluation of it before recommending")
    app.refresh_from_db()
    assert app.state == State.EVALUATION and app.recommendation == ""

    # The access evaluation: scored, then issued.
    officer.get_by_role("link", name="Cancel").click()
    open_tab(officer, "Technical tier")
    officer.get_by_role("link", name="New evaluation").click()
    officer.get_by_role("button", name="Evaluate").click()
    expect_message(officer, "Evaluation version 1 created.")
    officer.get_by_role("button", name="Issue").click()
    expect_message(officer, "Evaluation version 1 issued; it can no longer change.")
    evaluation = app.evaluations.get()
    assert evaluation.status == EvaluationStatus.ISSUED and evaluation.issued_by == people.olivia

    # The recommendation cites it.
    officer.locator(".breadcrumbs").get_by_role("link").first.click()
    case_action(officer, "Recommend")
    expect(officer.get_by_label("Evaluation")).to_have_value(str(evaluation.pk))
    officer.get_by_label("Recommendation").select_option(label="Admit with conditions")
    officer.get_by_label("Rationale").fill("Sound plan; the safeguards need a compliance lead.")
    confirm_action(officer, "Recommend")
    expect_state(officer, "Recommended")
    expect(officer.locator("#tab-decision")).to_contain_text("Admit with conditions")
    app.refresh_from_db()
    assert app.state == State.RECOMMENDED
    assert (app.recommendation, app.recommended_by) == ("admit_with_conditions", people.olivia)
    assert app.recommendation_evaluation_id == evaluation.pk


def test_an_approver_admits_a_recommended_case_with_a_condition(open_as, people, submitted_a):
    app = advance(submitted_a, people, "recommended")
    approver = open_as(people.victor)
    open_case(approver, app, via="Queue")
    expect_state(approver, "Recommended")

    # Admission with conditions and no condition is refused; nothing changes.
    case_action(approver, "Decide")
    approver.get_by_label("Outcome").select_option(label="Admit with conditions")
    approver.get_by_label("Rationale").fill("Admitted: a compliance officer is needed first.")
    confirm_action(approver, "Decide")
    expect_form_error(approver, "Admission with conditions needs at least one condition.")
    app.refresh_from_db()
    assert app.state == State.RECOMMENDED and not app.conditions.exists()

    due = datetime.date.today() + datetime.timedelta(days=45)
    approver.get_by_label("Conditions").fill(f"{due.isoformat()}: Appoint a compliance officer")
    approver.get_by_label("Testing parameters").fill('{"max_customers": 250}')
    confirm_action(approver, "Decide")
    expect_message(approver, f"Decide: done for {app.reference}.")
    expect_state(approver, "Admitted with conditions")
    conditions = approver.locator("#tab-decision")
    expect(conditions).to_contain_text("Appoint a compliance officer")
    expect(conditions).to_contain_text(f"{due.day} {due:%b %Y}")
    expect(conditions).to_contain_text("Victor")

    app.refresh_from_db()
    assert app.state == State.ADMITTED_WITH_CONDITIONS
    decision = app.decision
    assert (decision.outcome, decision.decided_by) == ("admit_with_conditions", people.victor)
    assert decision.testing_parameters == {"max_customers": 250}
    condition = app.conditions.get()
    assert (condition.text, condition.due_date, condition.status) == (
        "Appoint a compliance officer",
        due,
        "open",
    )
