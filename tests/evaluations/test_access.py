"""Who sees which evaluation, on pages and in the API; 404 outside one's scope."""

import pytest
from django.urls import reverse

from applications.services import content, lifecycle
from assessments.evaluations import services
from assessments.evaluations.models import Evaluation, IndexModel
from assessments.evaluations.queries import evaluations_for
from tests.conftest import complete_fields

API = "/api/v1/evaluations/"


@pytest.fixture
def case_b(people):
    from applications.models import Criterion
    from applications.services import firms

    project = firms.save_project(
        people.firm_b, actor=people.bella, fields={"name": "ClearB", "category": "clearing"}
    )
    app = content.create_application(
        actor=people.bella,
        project=project,
        fields=complete_fields(),
        answers={c.value: "Answer." for c in Criterion},
    )
    return lifecycle.submit(app, actor=people.bella)


@pytest.fixture
def both(people, testing_a):
    """Firm A's case with an issued version 1 and a draft version 2."""
    issued = services.issue_evaluation(
        services.create_evaluation(testing_a, actor=people.olivia), actor=people.olivia
    )
    draft = services.create_evaluation(testing_a, actor=people.olivia)
    return issued, draft


def test_regulators_see_drafts_and_issued(people, both):
    assert set(evaluations_for(people.oscar)) == set(both)
    assert set(evaluations_for(people.staff)) == set(both)


def test_the_firm_and_its_assigned_auditor_see_only_issued_ones(people, both):
    issued, _ = both
    for who in ("alice", "amir", "audrey"):
        assert list(evaluations_for(getattr(people, who))) == [issued]


def test_another_firm_and_an_unassigned_auditor_see_none(people, both):
    assert not evaluations_for(people.bella).exists()
    assert not evaluations_for(people.ursula).exists()


def test_the_api_lists_within_scope(people, both, api):
    issued, draft = both
    assert {e["id"] for e in api("olivia").get(API).json()["results"]} == {issued.pk, draft.pk}
    assert [e["id"] for e in api("alice").get(API).json()["results"]] == [issued.pk]
    assert api("bella").get(API).json()["results"] == []


@pytest.mark.parametrize("who", ["bella", "ursula"])
def test_the_api_answers_404_outside_scope(people, both, api, who):
    issued, _ = both
    client = api(who)
    assert client.get(f"{API}{issued.pk}/").status_code == 404
    assert client.post(f"{API}{issued.pk}/issue/").status_code == 404


def test_the_api_hides_a_draft_from_the_firm(people, both, api):
    _, draft = both
    assert api("alice").get(f"{API}{draft.pk}/").status_code == 404
    assert api("audrey").get(f"{API}{draft.pk}/").status_code == 404


def test_the_api_creates_and_issues(people, testing_a, good_runs, api):
    client = api("olivia")
    response = client.post(
        API,
        {"application": testing_a.pk, "test_runs": [r.pk for r in good_runs]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version"] == 1 and body["status"] == "draft"
    assert sorted(body["test_runs"]) == sorted(r.pk for r in good_runs)
    assert body["results"]["layers"][0]["code"] == "protocol"
    issued = client.post(f"{API}{body['id']}/issue/")
    assert issued.status_code == 200
    assert len(issued.json()["sha256"]) == 64
    again = client.post(f"{API}{body['id']}/issue/")
    assert again.status_code == 409


def test_the_api_refuses_bad_input_with_400(people, testing_a, case_b, api):
    client = api("olivia")
    foreign_run_case = client.post(
        API, {"application": testing_a.pk, "test_runs": [987654]}, format="json"
    )
    assert foreign_run_case.status_code == 400
    assert "test_runs" in foreign_run_case.json()["errors"]
    assert client.post(API, {"test_runs": []}, format="json").status_code == 400
    assert client.post(API, {"application": "x"}, format="json").status_code == 400
    assert not Evaluation.objects.exists()


def test_the_api_refuses_creation_to_others(people, testing_a, api):
    assert api("alice").post(API, {"application": testing_a.pk}, format="json").status_code == 403
    assert api("audrey").post(API, {"application": testing_a.pk}, format="json").status_code == 403
    assert api("bella").post(API, {"application": testing_a.pk}, format="json").status_code == 404
    assert not Evaluation.objects.exists()


def test_the_api_refuses_a_firm_issuing(people, both, api):
    _, draft = both
    # The firm cannot even see the draft.
    assert api("alice").post(f"{API}{draft.pk}/issue/").status_code == 404
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_the_detail_page_shows_the_tree_and_the_issue_button(people, testing_a, good_runs, browser):
    evaluation = services.create_evaluation(
        testing_a, actor=people.olivia, test_run_ids=[r.pk for r in good_runs]
    )
    page = browser(people.olivia).get(reverse("evaluation-detail", args=[evaluation.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Every signature recovers its sender" in html
    assert "crypto.checks.signatures_recover" in html
    assert "Not applicable" in html and "Not assessed" in html
    assert reverse("evaluation-issue", args=[evaluation.pk]) in html
    assert "P8 settlement finality" in html


def test_the_firm_reads_an_issued_evaluation_without_the_issue_button(people, both, browser):
    issued, draft = both
    client = browser(people.alice)
    page = client.get(reverse("evaluation-detail", args=[issued.pk]))
    assert page.status_code == 200
    assert reverse("evaluation-issue", args=[issued.pk]) not in page.content.decode()
    assert client.get(reverse("evaluation-detail", args=[draft.pk])).status_code == 404


@pytest.mark.parametrize("who", ["bella", "ursula"])
def test_pages_answer_404_outside_scope(people, both, browser, who):
    issued, _ = both
    client = browser(getattr(people, who))
    assert client.get(reverse("evaluation-detail", args=[issued.pk])).status_code == 404
    assert client.post(reverse("evaluation-issue", args=[issued.pk])).status_code == 404


def test_the_new_evaluation_page_creates_a_version(people, testing_a, good_runs, browser):
    client = browser(people.olivia)
    url = reverse("evaluation-new", args=[testing_a.pk])
    form = client.get(url).content.decode()
    assert f'value="{good_runs[0].pk}"' in form
    response = client.post(
        url,
        {"test_runs": [good_runs[0].pk], "index_model": IndexModel.objects.get().pk},
    )
    evaluation = Evaluation.objects.get()
    assert response["Location"] == reverse("evaluation-detail", args=[evaluation.pk])
    assert list(evaluation.test_runs.all()) == [good_runs[0]]


def test_the_new_evaluation_page_refuses_the_firm_and_bad_input(people, testing_a, browser):
    url = reverse("evaluation-new", args=[testing_a.pk])
    assert browser(people.alice).get(url).status_code == 403
    response = browser(people.olivia).post(url, {"test_runs": [424242]})
    assert response.status_code == 400
    assert not Evaluation.objects.exists()


def test_issuing_from_the_page_freezes_it(people, testing_a, browser):
    evaluation = services.create_evaluation(testing_a, actor=people.olivia)
    client = browser(people.oscar)
    response = client.post(reverse("evaluation-issue", args=[evaluation.pk]))
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == "issued" and evaluation.issued_by == people.oscar
    assert client.post(reverse("evaluation-issue", args=[evaluation.pk])).status_code == 409
    assert (
        browser(people.alice).post(reverse("evaluation-issue", args=[evaluation.pk])).status_code
        == 403
    )


def test_the_case_page_shows_the_history_of_versions(people, both, browser):
    issued, draft = both
    url = reverse("case-detail", args=[issued.application_id]) + "?tab=technical"
    html = browser(people.olivia).get(url).content.decode()
    assert reverse("evaluation-detail", args=[issued.pk]) in html
    assert reverse("evaluation-detail", args=[draft.pk]) in html
    assert "Version 1" in html and "Version 2" in html
    assert reverse("evaluation-new", args=[issued.application_id]) in html
    firm = browser(people.alice).get(url).content.decode()
    assert reverse("evaluation-detail", args=[issued.pk]) in firm
    assert reverse("evaluation-detail", args=[draft.pk]) not in firm
    assert reverse("evaluation-new", args=[issued.application_id]) not in firm


def test_the_firm_timeline_does_not_show_a_draft_evaluation(people, both, browser):
    from applications.queries import audit_events_for

    issued, _ = both
    actions = set(
        audit_events_for(people.alice, issued.application).values_list("action", flat=True)
    )
    assert "evaluation.issue" in actions
    assert "evaluation.create" not in actions
