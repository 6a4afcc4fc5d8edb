"""Each persona's dashboard shows what that role works on."""

import pytest
from django.urls import reverse

from applications.services import lifecycle
from tests.conftest import advance


@pytest.mark.parametrize(
    "who, expected",
    [
        ("alice", ["Waiting for you", "Your firm's cases", "New application"]),
        ("amir", ["Waiting for you", "Your firm's cases"]),
        ("bella", ["Your firm has no applications yet."]),
        ("olivia", ["Cases by state", "Assigned to me", "New submissions, unassigned"]),
        ("oscar", ["Cases by state", "No open case is assigned to you."]),
        ("victor", ["Waiting for a decision", "Exit reviews to decide"]),
        ("vera", ["Waiting for a decision"]),
        ("audrey", ["Cases assigned to you"]),
        ("ursula", ["No case is assigned to you yet."]),
        ("staff", ["Cases by state", "Administration"]),
    ],
)
def test_every_persona_gets_a_dashboard(people, submitted_a, browser, who, expected):
    response = browser(getattr(people, who)).get(reverse("dashboard"))
    assert response.status_code == 200
    page = response.content.decode()
    for text in expected:
        assert text in page, text


def test_the_firm_dashboard_lists_its_cases_with_clock_and_next_step(people, submitted_a, browser):
    page = browser(people.amir).get(reverse("dashboard")).content.decode()
    assert submitted_a.reference in page
    assert "badge state-submitted" in page
    assert "Waiting for the regulator to start screening" in page
    assert "0/60 days" in page
    assert reverse("firm-home") in page
    assert reverse("application-new") in page


def test_the_firm_dashboard_says_what_is_waiting_for_the_firm(people, submitted_a, browser):
    app = advance(submitted_a, people, "under_review")
    lifecycle.request_information(app, actor=people.olivia, question="Who holds the keys?")
    page = browser(people.alice).get(reverse("dashboard")).content.decode()
    assert "Who holds the keys?" in page
    assert reverse("case-action", args=[app.pk, "answer_information"]) in page
    assert "Nothing needs your attention" not in page
    # Another firm sees none of it.
    other = browser(people.bella).get(reverse("dashboard")).content.decode()
    assert "Who holds the keys?" not in other
    assert app.reference not in other


def test_the_firm_dashboard_lists_drafts_to_submit(people, draft_a, browser):
    page = browser(people.alice).get(reverse("dashboard")).content.decode()
    assert "Review and submit" in page
    assert draft_a.reference in page


def test_the_firm_dashboard_asks_for_reports_in_the_sandbox(people, in_sandbox_a, browser):
    page = browser(people.alice).get(reverse("dashboard")).content.decode()
    assert reverse("case-action", args=[in_sandbox_a.pk, "submit_report"]) in page


def test_an_approver_sees_only_cases_someone_else_recommended(people, submitted_a, browser):
    app = advance(submitted_a, people, "evaluation")
    lifecycle.recommend(app, actor=people.victor, recommendation="admit", rationale="Fine.")
    victor = browser(people.victor).get(reverse("dashboard")).content.decode()
    vera = browser(people.vera).get(reverse("dashboard")).content.decode()
    assert "No case is waiting for a decision." in victor
    assert app.reference in vera


def test_the_case_officer_sees_the_cases_assigned_to_them(people, submitted_a, browser):
    app = advance(submitted_a, people, "screening")
    olivia = browser(people.olivia).get(reverse("dashboard")).content.decode()
    oscar = browser(people.oscar).get(reverse("dashboard")).content.decode()
    assert app.reference in olivia
    assert app.reference not in oscar


def test_the_regulator_dashboard_counts_cases_by_state(people, submitted_a, browser):
    page = browser(people.olivia).get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("queue")}?state=submitted"><span class="stat-value">1<' in page


def test_the_auditor_dashboard_lists_only_assigned_cases(people, submitted_a, browser):
    assert (
        submitted_a.reference in browser(people.audrey).get(reverse("dashboard")).content.decode()
    )
    assert submitted_a.reference not in (
        browser(people.ursula).get(reverse("dashboard")).content.decode()
    )
