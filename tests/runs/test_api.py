"""The test-run API: start, follow, cancel, with every refusal."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from applications.services import firms
from assessments import tasks
from assessments.models import RunStatus, TestRun

from .conftest import QUICK_PARAMETERS, QUICK_SUITES

LIST = "/api/v1/test-runs/"


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(tasks, "enqueue", lambda *args, **kwargs: None)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def payload(app, **overrides):
    body = {
        "application": app.pk,
        "suites": QUICK_SUITES,
        "parameters": QUICK_PARAMETERS,
        "nodes": [n.pk for n in app.nodes.all()],
    }
    body.update(overrides)
    return body


def test_the_urls_are_the_documented_ones():
    assert reverse("api:test-run-list") == LIST
    assert reverse("api:test-run-cancel", args=[7]) == "/api/v1/test-runs/7/cancel/"


def test_a_regulator_starts_follows_and_cancels_a_run(people, testing_a):
    olivia = api(people.olivia)
    response = olivia.post(LIST, payload(testing_a), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    run_id = body["id"]
    assert body["status"] == "queued" and body["progress"] == 0
    assert body["suites"] == ["block", "crypto"]
    assert body["targets"][0]["id"] == testing_a.nodes.get().pk
    assert "queued by olivia" in body["log_tail"]

    TestRun.objects.filter(pk=run_id).update(
        status=RunStatus.RUNNING, progress=40, current_step="block: examining"
    )
    body = olivia.get(f"{LIST}{run_id}/").json()
    assert (body["status"], body["progress"], body["current_step"]) == (
        "running",
        40,
        "block: examining",
    )
    assert body["suite_runs"] == [] and body["passed"] is None

    response = olivia.post(f"{LIST}{run_id}/cancel/")
    assert response.status_code == 200
    assert response.json()["cancel_requested_at"] is not None
    # A running run stops at its next progress report; it is not finished yet.
    assert response.json()["status"] == "running"


def test_cancelling_a_finished_run_is_a_conflict(people, testing_a):
    olivia = api(people.olivia)
    run_id = olivia.post(LIST, payload(testing_a), format="json").json()["id"]
    assert olivia.post(f"{LIST}{run_id}/cancel/").json()["status"] == "cancelled"
    assert olivia.post(f"{LIST}{run_id}/cancel/").status_code == 409


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"suites": ["block", "warp"]}, "suites", "warp"),
        ({"suites": []}, "suites", ""),
        ({"parameters": {"block": {"blocks": "ten"}}}, "parameters", "blocks must be an integer"),
        ({"parameters": {"block": {"speed": 3}}}, "parameters", "speed"),
        ({"nodes": []}, "nodes", ""),
    ],
)
def test_it_refuses_bad_suites_parameters_and_nodes(people, testing_a, change, field, words):
    response = api(people.olivia).post(LIST, payload(testing_a, **change), format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert words in response.json()["detail"]
    assert not TestRun.objects.exists()


def test_it_refuses_a_node_not_registered_for_the_case(people, testing_a):
    other = firms.save_node(
        people.firm_b,
        actor=people.bella,
        fields={"label": "b-node", "endpoint_url": "https://b-node.firm-b.test:8545"},
    )
    response = api(people.olivia).post(LIST, payload(testing_a, nodes=[other.pk]), format="json")
    assert response.status_code == 400
    assert "Not registered for this case" in response.json()["detail"]
    assert not TestRun.objects.exists()


def test_it_refuses_a_firm_user_with_403_and_another_firm_with_404(people, testing_a):
    assert api(people.alice).post(LIST, payload(testing_a), format="json").status_code == 403
    assert api(people.bella).post(LIST, payload(testing_a), format="json").status_code == 404
    assert api(people.ursula).post(LIST, payload(testing_a), format="json").status_code == 404
    assert not TestRun.objects.exists()


def test_it_answers_409_while_the_case_is_not_being_tested(people, submitted_a):
    response = api(people.olivia).post(LIST, payload(submitted_a), format="json")
    assert response.status_code == 409
    assert "technical testing" in response.json()["detail"]


def test_runs_are_listed_and_read_within_the_callers_scope(people, testing_a):
    run_id = api(people.olivia).post(LIST, payload(testing_a), format="json").json()["id"]
    for who in (people.olivia, people.alice, people.audrey, people.staff):
        assert [r["id"] for r in api(who).get(LIST).json()["results"]] == [run_id]
        assert api(who).get(f"{LIST}{run_id}/").status_code == 200
    for who in (people.bella, people.ursula):
        assert api(who).get(LIST).json()["results"] == []
        assert api(who).get(f"{LIST}{run_id}/").status_code == 404
        assert api(who).post(f"{LIST}{run_id}/cancel/").status_code == 404
    assert api(people.alice).post(f"{LIST}{run_id}/cancel/").status_code == 403
    olivia = api(people.olivia)
    assert [r["id"] for r in olivia.get(LIST, {"status": "queued"}).json()["results"]] == [run_id]
    assert olivia.get(LIST, {"status": "failed"}).json()["results"] == []
    assert olivia.get(LIST, {"application": testing_a.pk + 1}).json()["results"] == []
    assert olivia.get(LIST, {"status": "exploded"}).status_code == 400


def test_anonymous_callers_are_refused():
    assert APIClient().get(LIST).status_code in (401, 403)
