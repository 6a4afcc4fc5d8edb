"""Who may not see or do what on the case pages, and what a refusal changes (nothing)."""

import pytest
from django.urls import reverse

from applications.models import Decision
from applications.services import content, lifecycle
from tests.conftest import advance

from .pages import action_url, case_url, post_action, state_of


def test_it_sends_anonymous_visitors_to_the_login_page(client, submitted_a):
    for url in (
        reverse("dashboard"),
        reverse("queue"),
        reverse("case-list"),
        reverse("zones"),
        case_url(submitted_a),
        reverse("case-tab", args=[submitted_a.pk, "rfis"]),
        action_url(submitted_a, "start_screening"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_it_does_not_let_anonymous_visitors_act(client, submitted_a):
    response = client.post(action_url(submitted_a, "withdraw"), {"reason": "x"})
    assert response.status_code == 302
    assert state_of(submitted_a) == "submitted"


@pytest.mark.parametrize("who", ["bella", "ursula"])
def test_it_answers_404_to_someone_outside_the_case(people, submitted_a, browser, who):
    client = browser(getattr(people, who))
    assert client.get(case_url(submitted_a)).status_code == 404
    assert (
        client.get(
            reverse("case-tab", args=[submitted_a.pk, "timeline"]), HTTP_HX_REQUEST="true"
        ).status_code
        == 404
    )
    assert client.get(action_url(submitted_a, "withdraw")).status_code == 404
    assert client.post(action_url(submitted_a, "withdraw"), {"reason": "x"}).status_code == 404
    assert state_of(submitted_a) == "submitted"


def test_it_hides_another_firms_case_from_the_lists(people, submitted_a, browser):
    page = browser(people.bella).get(reverse("case-list")).content.decode()
    assert submitted_a.reference not in page
    assert submitted_a.reference in browser(people.alice).get(reverse("case-list")).content.decode()


def test_it_hides_a_draft_from_regulators(people, draft_a, browser):
    assert browser(people.olivia).get(case_url(draft_a)).status_code == 404


def test_it_shows_the_assigned_auditor_the_case_read_only(people, submitted_a, browser):
    client = browser(people.audrey)
    response = client.get(case_url(submitted_a))
    page = response.content.decode()
    assert response.status_code == 200
    assert submitted_a.title in page
    assert "/actions/" not in page
    assert "case-actions" not in page
    for tab in ("eligibility", "physical", "technical", "documents", "rfis", "timeline"):
        assert client.get(case_url(submitted_a, tab)).status_code == 200
    response = client.post(action_url(submitted_a, "start_screening"))
    assert response.status_code == 403
    assert state_of(submitted_a) == "submitted"


def test_it_refuses_a_firm_user_a_regulators_action(people, submitted_a, browser):
    client = browser(people.alice)
    assert client.get(action_url(submitted_a, "start_screening")).status_code == 403
    response = post_action(client, submitted_a, "start_screening")
    assert response.status_code == 403
    assert "Your role cannot take the action" in response.content.decode()
    assert state_of(submitted_a) == "submitted"


def test_it_refuses_a_firm_member_who_is_not_admin_the_withdrawal(people, submitted_a, browser):
    response = post_action(browser(people.amir), submitted_a, "withdraw", {"reason": "No."})
    assert response.status_code == 403
    assert state_of(submitted_a) == "submitted"


def test_it_refuses_the_recommender_the_decision(people, submitted_a, browser):
    app = advance(submitted_a, people, "evaluation")
    lifecycle.recommend(app, actor=people.victor, recommendation="admit", rationale="Fine.")
    client = browser(people.victor)

    page = client.get(case_url(app)).content.decode()
    assert action_url(app, "decide") not in page
    response = post_action(client, app, "decide", {"outcome": "admit", "rationale": "Mine."})

    assert response.status_code == 403
    assert "Four-eyes" in response.content.decode()
    assert state_of(app) == "recommended"
    assert not Decision.objects.filter(application=app).exists()


def test_another_approver_can_decide_what_victor_recommended(people, submitted_a, browser):
    app = advance(submitted_a, people, "evaluation")
    lifecycle.recommend(app, actor=people.victor, recommendation="admit", rationale="Fine.")
    client = browser(people.vera)
    assert action_url(app, "decide") in client.get(case_url(app)).content.decode()
    response = post_action(client, app, "decide", {"outcome": "admit", "rationale": "Agreed."})
    assert response.status_code == 302
    assert state_of(app) == "admitted"


def test_it_answers_409_to_an_action_from_the_wrong_state(people, submitted_a, browser):
    for who, name, data in (
        ("olivia", "accept_for_review", {}),
        ("olivia", "recommend", {"recommendation": "admit", "rationale": "Early."}),
        ("victor", "close_exit", {"outcome": "authorised", "rationale": "Early."}),
        ("alice", "submit", {}),
    ):
        response = post_action(browser(getattr(people, who)), submitted_a, name, data)
        assert response.status_code == 409, name
        assert "cannot be taken now" in response.content.decode()
        assert "Nothing was changed." in response.content.decode()
    assert state_of(submitted_a) == "submitted"


def test_it_answers_409_when_the_state_changed_under_the_service(people, submitted_a, browser):
    """The service is the authority even when the page's own check passes."""
    app = advance(submitted_a, people, "in_sandbox")
    client = browser(people.alice)
    page = client.get(action_url(app, "submit_report"))
    assert page.status_code == 200
    lifecycle.submit_report(app, actor=people.alice, kind="final", title="Final", body="Done.")
    lifecycle.start_exit_review(app, actor=people.olivia)
    response = post_action(
        client, app, "submit_report", {"kind": "periodic", "title": "Late", "body": "Late."}
    )
    assert response.status_code == 409
    assert app.firm_reports.filter(title="Late").count() == 0


def test_it_answers_404_to_an_unknown_action(people, submitted_a, browser):
    client = browser(people.olivia)
    assert client.get(action_url(submitted_a, "approve_everything")).status_code == 404
    assert client.post(action_url(submitted_a, "approve_everything")).status_code == 404


def test_it_answers_404_to_an_unknown_tab(people, submitted_a, browser):
    url = reverse("case-tab", args=[submitted_a.pk, "secrets"])
    assert browser(people.olivia).get(url, HTTP_HX_REQUEST="true").status_code == 404


def test_it_shows_form_errors_and_changes_nothing_for_invalid_input(people, submitted_a, browser):
    app = advance(submitted_a, people, "recommended")
    response = post_action(
        browser(people.victor),
        app,
        "decide",
        {"outcome": "admit_with_conditions", "rationale": "Needs care.", "conditions": ""},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Admission with conditions needs at least one condition." in page
    assert "Needs care." in page  # what was typed is kept
    assert state_of(app) == "recommended"
    assert not Decision.objects.filter(application=app).exists()


def test_it_shows_a_refusal_of_the_service_as_a_form_error(people, project_a, browser):
    draft = content.create_application(
        actor=people.alice, project=project_a, fields={"title": "Half done"}
    )
    response = post_action(browser(people.alice), draft, "submit")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Complete these before submitting" in page
    assert "errorlist nonfield" in page
    assert state_of(draft) == "draft"


def test_it_refuses_an_action_with_get_only_showing_the_form(people, submitted_a, browser):
    response = browser(people.olivia).get(action_url(submitted_a, "start_screening"))
    assert response.status_code == 200
    assert "Start screening" in response.content.decode()
    assert state_of(submitted_a) == "submitted"


def test_the_queue_sends_firm_users_and_auditors_to_their_case_list(people, browser):
    for who in ("alice", "audrey"):
        response = browser(getattr(people, who)).get(reverse("queue"))
        assert response.status_code == 302
        assert response["Location"] == reverse("case-list")
    assert browser(people.olivia).get(reverse("queue")).status_code == 200
    assert browser(people.staff).get(reverse("queue")).status_code == 200
