"""The monitoring summary through the API: regulators record it; others are refused."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.models import RunStatus, TestRun

from .test_summary import watched  # noqa: F401 - the fixture

URL = "/api/v1/test-runs/monitoring-summary/"

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _period(days_back=1):
    today = timezone.localdate()
    return {"start": str(today - datetime.timedelta(days=days_back)), "end": str(today)}


def test_a_regulator_records_a_summary_as_a_finished_monitoring_run(watched, people):  # noqa: F811
    app, _start, _now = watched
    response = client_for(people.olivia).post(
        URL, {"application": app.pk, **_period()}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == RunStatus.SUCCEEDED
    assert body["suites"] == ["monitoring"]
    run = TestRun.objects.get(pk=body["id"])
    metrics = run.suite_runs.get().result["metrics"]
    assert metrics["uptime_ratio"] == pytest.approx(0.95, abs=0.01)


@pytest.mark.parametrize(
    ("who", "status"), [("alice", 403), ("audrey", 403), ("bella", 404), ("ursula", 404)]
)
def test_others_are_refused_and_nothing_is_recorded(watched, people, who, status):  # noqa: F811
    app, _start, _now = watched
    before = TestRun.objects.count()
    response = client_for(getattr(people, who)).post(
        URL, {"application": app.pk, **_period()}, format="json"
    )
    assert response.status_code == status, response.content
    assert TestRun.objects.count() == before


@pytest.mark.parametrize(
    "payload",
    [
        {"start": "2026-01-10", "end": "2026-01-01"},
        {"start": "2024-01-01", "end": "2025-06-01"},
        {"start": "not a date", "end": "2026-01-01"},
        {"end": "2026-01-01"},
    ],
)
def test_a_bad_period_is_a_400_with_a_message(watched, people, payload):  # noqa: F811
    app, _start, _now = watched
    before = TestRun.objects.count()
    response = client_for(people.olivia).post(
        URL, {"application": app.pk, **payload}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()
    assert TestRun.objects.count() == before


def test_a_future_end_is_refused(watched, people):  # noqa: F811
    app, _start, _now = watched
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client_for(people.olivia).post(
        URL,
        {"application": app.pk, "start": str(timezone.localdate()), "end": str(tomorrow)},
        format="json",
    )
    assert response.status_code == 400
    assert "future" in response.content.decode()
