"""A case's whole life, taken through the pages as each persona would."""

import datetime
import json

from django.urls import reverse

from applications.models import Condition, Criterion, FirmReport
from assessments.evaluations.models import IndexModel

from .pages import action_url, case_url, post_action, state_of


def _future(days):
    return (datetime.date.today() + datetime.timedelta(days=days)).isoformat()


def _step(client, app, name, data=None, expect_state=None):
    response = post_action(client, app, name, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    if expect_state:
        assert state_of(app) == expect_state
    return response


def test_it_walks_a_case_from_draft_to_exit_through_the_pages(people, draft_a, browser):
    app = draft_a
    alice, olivia, victor = browser(people.alice), browser(people.olivia), browser(people.victor)

    # The firm sees its draft, with the submit button and the edit link.
    page = alice.get(case_url(app)).content.decode()
    assert action_url(app, "submit") in page
    assert reverse("application-edit", args=[app.pk]) in page

    response = _step(alice, app, "submit", expect_state="submitted")
    assert response["Location"] == case_url(app)
    page = alice.get(response["Location"]).content.decode()
    assert "Submit application: done" in page
    assert "badge state-submitted" in page
    assert reverse("application-edit", args=[app.pk]) not in page

    _step(olivia, app, "start_screening", expect_state="screening")
    assert "Olivia" in olivia.get(case_url(app)).content.decode()  # now the case officer
    _step(olivia, app, "accept_for_review", {"note": "Complete."}, expect_state="under_review")
    _step(
        olivia,
        app,
        "request_information",
        {"question": "Who custodies the keys?", "due_date": _future(10)},
        expect_state="awaiting_firm",
    )
    page = alice.get(case_url(app, "rfis")).content.decode()
    assert "Who custodies the keys?" in page
    assert "Open" in page
    assert "paused" in alice.get(case_url(app)).content.decode()

    _step(alice, app, "answer_information", {"answer": "A regulated custodian."})
    assert state_of(app) == "under_review"
    page = olivia.get(case_url(app, "rfis")).content.decode()
    assert "A regulated custodian." in page
    assert "Answered" in page

    rubric = {}
    for criterion in Criterion:
        rubric[f"{criterion.value}_assessment"] = "met"
        rubric[f"{criterion.value}_rationale"] = f"Shown for {criterion.label}."
    response = _step(olivia, app, "assess_eligibility", rubric)
    assert response["Location"] == case_url(app, "eligibility")
    page = olivia.get(case_url(app, "eligibility")).content.decode()
    assert "Shown for Genuine innovation." in page
    assert page.count("outcome-met") == 5

    _step(olivia, app, "send_to_testing", expect_state="technical_testing")
    _step(olivia, app, "send_to_evaluation", expect_state="evaluation")
    # The regulator evaluates the case, issues the evaluation and cites it.
    response = olivia.post(
        reverse("evaluation-new", args=[app.pk]), {"index_model": IndexModel.objects.get().pk}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    evaluation = app.evaluations.get()
    assert olivia.post(reverse("evaluation-issue", args=[evaluation.pk])).status_code == 302
    _step(
        olivia,
        app,
        "recommend",
        {
            "recommendation": "admit_with_conditions",
            "rationale": "Sound, with a gap.",
            "evaluation": evaluation.pk,
        },
        expect_state="recommended",
    )
    # The approver sees it waiting for a decision on the dashboard.
    assert app.reference in victor.get(reverse("dashboard")).content.decode()

    _step(
        victor,
        app,
        "decide",
        {
            "outcome": "admit_with_conditions",
            "rationale": "Admitted for a limited test.",
            "conditions": f"{_future(60)}: Appoint a compliance officer",
            "testing_parameters": json.dumps({"max_customers": 500}),
        },
        expect_state="admitted_with_conditions",
    )

    page = alice.get(case_url(app, "decision")).content.decode()
    assert "Admit with conditions" in page
    assert "Admitted for a limited test." in page
    assert "Appoint a compliance officer" in page
    assert "max_customers" in page and "500" in page
    assert "Change status" not in page  # the firm cannot change a condition's status

    _step(olivia, app, "start_sandbox", {"ends_on": _future(120)}, expect_state="in_sandbox")

    # A final report is needed before the exit review: the page says so and nothing moves.
    response = post_action(olivia, app, "start_exit_review", {"note": ""})
    assert response.status_code == 400
    assert "final report" in response.content.decode()
    assert state_of(app) == "in_sandbox"

    _step(
        alice,
        app,
        "submit_report",
        {"kind": "periodic", "title": "Month one", "body": "120 customers, no incidents."},
    )
    _step(
        alice,
        app,
        "submit_report",
        {"kind": "final", "title": "Final report", "body": "All metrics met."},
    )
    assert FirmReport.objects.filter(application=app).count() == 2
    page = olivia.get(case_url(app, "reports")).content.decode()
    assert "Month one" in page and "Final report" in page

    _step(olivia, app, "start_exit_review", {"note": "Test complete."}, expect_state="exit_review")
    _step(
        victor,
        app,
        "close_exit",
        {"outcome": "authorised", "rationale": "Ready for full authorisation."},
        expect_state="exited",
    )

    page = alice.get(case_url(app, "decision")).content.decode()
    assert "Authorised" in page
    assert "Ready for full authorisation." in page
    timeline = olivia.get(case_url(app, "timeline")).content.decode()
    for words in (
        "Submitted the application",
        "Requested information from the firm",
        "Answered the request for information",
        "Decided the case",
        "Decided the exit",
    ):
        assert words in timeline
    assert "Exited" in timeline  # the state change, in words


def test_a_regulator_changes_a_conditions_status(people, in_sandbox_a, browser):
    condition = Condition.objects.get(application=in_sandbox_a)
    olivia = browser(people.olivia)
    url = reverse("condition-status", args=[condition.pk])
    assert url in olivia.get(case_url(in_sandbox_a, "decision")).content.decode()
    assert olivia.get(url).status_code == 200

    response = olivia.post(url, {"status": "met", "note": "Officer appointed."})

    assert response.status_code == 302
    condition.refresh_from_db()
    assert (condition.status, condition.status_note) == ("met", "Officer appointed.")
    assert condition.status_set_by == people.olivia


def test_it_refuses_a_condition_status_that_is_not_a_choice(people, in_sandbox_a, browser):
    condition = Condition.objects.get(application=in_sandbox_a)
    response = browser(people.olivia).post(
        reverse("condition-status", args=[condition.pk]), {"status": "done"}
    )
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    condition.refresh_from_db()
    assert condition.status == "open"


def test_it_refuses_a_firm_user_changing_a_condition(people, in_sandbox_a, browser):
    condition = Condition.objects.get(application=in_sandbox_a)
    response = browser(people.alice).post(
        reverse("condition-status", args=[condition.pk]), {"status": "met"}
    )
    assert response.status_code == 403
    condition.refresh_from_db()
    assert condition.status == "open"


def test_it_hides_another_firms_condition(people, in_sandbox_a, browser):
    condition = Condition.objects.get(application=in_sandbox_a)
    url = reverse("condition-status", args=[condition.pk])
    assert browser(people.bella).get(url).status_code == 404
