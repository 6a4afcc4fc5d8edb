"""The monitoring pages and API: who sees what, the rules form, acknowledging, the summary."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from assessments.models import TestRun
from assessments.monitoring.models import (
    AlertRules,
    Incident,
    IncidentStatus,
    MonitorState,
    ProbeSample,
    Rule,
)
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import login


@pytest.fixture
def watched(sandbox_case):
    """The case with ten minutes of probes of its node and one open incident."""
    node = sandbox_case.nodes.get()
    now = timezone.now()
    ProbeSample.objects.bulk_create(
        ProbeSample(
            application=sandbox_case,
            node=node,
            at=now - datetime.timedelta(seconds=10 * (60 - i)),
            up=True,
            latency_ms=3.0 + i % 4,
            height=100 + i,
            block_hash=f"0x{i:064x}",
            block_interval_s=1.0,
            peers=3,
            lag=0,
        )
        for i in range(60)
    )
    MonitorState.objects.create(
        application=sandbox_case,
        last_probe_at=now,
        heads={
            str(node.pk): {
                "label": node.label,
                "up": True,
                "at": now.isoformat(),
                "height": 159,
                "hash": f"0x{59:064x}",
                "latency_ms": 4.0,
                "peers": 3,
                "lag": 0,
            }
        },
    )
    incident = Incident.objects.create(
        application=sandbox_case,
        rule=Rule.STALLED_CHAIN,
        key=f"stalled_chain:{node.pk}",
        opened_at=now,
        last_seen_at=now,
        detail={"node": node.label, "height": 159, "stalled_s": 42.0},
    )
    incident.nodes.set([node])
    return sandbox_case, incident


def page(people, name):
    return login(Client(), getattr(people, name))


def api(people, name):
    token, _ = Token.objects.get_or_create(user=getattr(people, name))
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_the_dashboard_shows_heads_charts_and_incidents_to_who_may_see_the_case(watched, people):
    app, incident = watched
    url = reverse("case-monitoring", args=[app.pk])

    html = page(people, "olivia").get(url).content.decode()
    assert "Alerting" in html and "stuck at height 159 for 42.0 s" in html
    assert html.count("<svg") == 3 and "Head height per node" in html
    assert "RPC latency" in html and "Block interval" in html
    assert 'id="rules-form"' in html and 'id="summary-form"' in html
    assert reverse("incident-acknowledge", args=[incident.pk]) in html
    assert 'hx-trigger="every 5s"' in html

    for reader in ("alice", "amir", "audrey"):
        response = page(people, reader).get(url)
        html = response.content.decode()
        assert response.status_code == 200, reader
        assert "stuck at height 159" in html and "<svg" in html
        assert 'id="rules-form"' not in html and 'id="summary-form"' not in html
        assert reverse("incident-acknowledge", args=[incident.pk]) not in html
        assert "block times" in html  # the rules, read only

    for outsider in ("bella", "ursula"):
        assert page(people, outsider).get(url).status_code == 404
        live = reverse("case-monitoring-live", args=[app.pk])
        assert page(people, outsider).get(live).status_code == 404


def test_the_live_fragment_refreshes_the_status_and_charts_over_a_chosen_range(watched, people):
    app, _ = watched
    url = reverse("case-monitoring-live", args=[app.pk])
    response = page(people, "amir").get(url, {"range": "15m"})
    html = response.content.decode()
    assert response.status_code == 200 and html.startswith('<div id="monitoring-live"')
    assert "?range=15m" in html and "<svg" in html
    assert "100.0 %" in html  # uptime over the range
    # An unknown range falls back to the default; a day long range reads the same history.
    assert page(people, "amir").get(url, {"range": "forever"}).status_code == 200
    assert "<svg" in page(people, "amir").get(url, {"range": "24h"}).content.decode()


def test_the_overview_lists_admitted_projects_for_regulators_only(watched, people):
    app, _ = watched
    url = reverse("monitoring-overview")
    html = page(people, "victor").get(url).content.decode()
    assert app.reference in html and "Alerting" in html and "validator-1: 159" in html
    assert page(people, "alice").get(url).status_code == 302
    assert page(people, "audrey").get(url).status_code == 302


VALID = {
    "stall_blocks": "4",
    "block_time_s": "2.5",
    "finality_depth": "6",
    "max_reorg_depth": "1",
    "latency_bound_s": "0.5",
    "latency_window_s": "120",
    "down_after_probes": "3",
}


def test_a_regulator_sets_the_rules(watched, people):
    app, _ = watched
    response = page(people, "olivia").post(reverse("case-monitoring-rules", args=[app.pk]), VALID)
    assert response.status_code == 302
    assert response.url == reverse("case-monitoring", args=[app.pk])
    rules = AlertRules.objects.get(application=app)
    assert (rules.stall_blocks, rules.block_time_s, rules.latency_bound_s) == (4, 2.5, 0.5)
    assert rules.updated_by == people.olivia
    assert AuditEvent.objects.filter(action="monitoring.rules_update").count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("stall_blocks", "0", "greater than or equal to 1"),
        ("block_time_s", "-1", "greater than or equal to 0.05"),
        ("latency_bound_s", "fast", "Enter a number"),
        ("latency_bound_s", "0", "greater than or equal to 0.0001"),
        ("latency_window_s", "5", "greater than or equal to 10"),
        ("down_after_probes", "1000", "less than or equal to 100"),
        ("finality_depth", "-2", "greater than or equal to 0"),
        ("max_reorg_depth", "", "This field is required"),
    ],
)
def test_the_rules_form_refuses_bad_input_and_changes_nothing(
    watched, people, field, value, message
):
    app, _ = watched
    response = page(people, "olivia").post(
        reverse("case-monitoring-rules", args=[app.pk]), {**VALID, field: value}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AlertRules.objects.filter(application=app).exists()
    assert not AuditEvent.objects.filter(action="monitoring.rules_update").exists()


def test_only_regulators_of_a_visible_case_reach_the_rules(watched, people):
    app, _ = watched
    url = reverse("case-monitoring-rules", args=[app.pk])
    assert page(people, "victor").get(url).status_code == 200
    assert page(people, "alice").post(url, VALID).status_code == 403
    assert page(people, "audrey").get(url).status_code == 403
    assert page(people, "bella").post(url, VALID).status_code == 404
    assert not AlertRules.objects.exists()


def test_acknowledging_from_the_page(watched, people):
    app, incident = watched
    url = reverse("incident-acknowledge", args=[incident.pk])
    assert page(people, "alice").post(url).status_code == 403
    assert page(people, "bella").post(url).status_code == 404
    response = page(people, "olivia").post(url)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.acknowledged_by == people.olivia
    assert page(people, "victor").post(url).status_code == 409
    assert AuditEvent.objects.filter(action="incident.acknowledge").count() == 1


def test_recording_the_summary_from_the_page(watched, people):
    app, _ = watched
    url = reverse("case-monitoring-summary", args=[app.pk])
    today = timezone.localdate()
    period = {"start": str(today - datetime.timedelta(days=1)), "end": str(today)}
    assert page(people, "amir").post(url, period).status_code == 403
    bad = page(people, "olivia").post(url, {"start": period["end"], "end": period["start"]})
    assert bad.status_code == 400 and "must start before it ends" in bad.content.decode()
    assert not TestRun.objects.exists()

    response = page(people, "olivia").post(url, period)
    run = TestRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("run-detail", args=[run.pk])
    assert run.suite_runs.get().result["metrics"]["uptime_ratio"] == 1.0
    html = page(people, "alice").get(response.url).content.decode()
    assert "uptime_ratio" in html and "stalled_chain" in html


def test_the_incidents_api_is_scoped_filtered_and_acknowledges_for_regulators(watched, people):
    app, incident = watched
    Incident.objects.create(
        application=app,
        rule=Rule.NODE_DOWN,
        key="node_down:0",
        status=IncidentStatus.CLEARED,
        opened_at=timezone.now(),
        last_seen_at=timezone.now(),
        cleared_at=timezone.now(),
    )
    url = reverse("api:incident-list")
    assert api(people, "olivia").get(url).json()["count"] == 2
    assert api(people, "audrey").get(url).json()["count"] == 2
    assert api(people, "bella").get(url).json()["count"] == 0
    assert api(people, "ursula").get(url).json()["count"] == 0
    body = api(people, "alice").get(url, {"application": app.pk, "status": "open"}).json()
    assert [row["id"] for row in body["results"]] == [incident.pk]
    assert body["results"][0]["nodes"][0]["label"] == "validator-1"
    assert body["results"][0]["detail"]["height"] == 159
    assert api(people, "alice").get(url, {"status": "burning"}).status_code == 400
    assert api(people, "alice").get(url, {"application": "x"}).status_code == 400

    detail = reverse("api:incident-detail", args=[incident.pk])
    assert api(people, "bella").get(detail).status_code == 404
    acknowledge = reverse("api:incident-acknowledge", args=[incident.pk])
    assert api(people, "alice").post(acknowledge).status_code == 403
    assert api(people, "bella").post(acknowledge).status_code == 404
    response = api(people, "olivia").post(acknowledge)
    assert response.status_code == 200 and response.json()["acknowledged_by"] == "olivia"
    assert api(people, "victor").post(acknowledge).status_code == 409
