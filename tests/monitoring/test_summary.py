"""The monitoring summary feeds the L3 indicators; acknowledging incidents; who may do either."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from applications.models import Application
from applications.services.common import IllegalTransition
from assessments.evaluations.services import create_evaluation
from assessments.models import RunStatus, TestRun
from assessments.monitoring import services, summary
from assessments.monitoring.models import Incident, IncidentStatus, ProbeSample, Rule
from sandbox_portal.audit.models import AuditEvent


def incident(app, rule, node, opened, *, cleared=None, acknowledged_after=None, by=None):
    row = Incident.objects.create(
        application=app,
        rule=rule,
        key=f"{rule}:{node.pk}",
        status=IncidentStatus.CLEARED if cleared else IncidentStatus.OPEN,
        opened_at=opened,
        last_seen_at=cleared or opened,
        cleared_at=cleared,
        detail={"node": node.label},
        acknowledged_by=by if acknowledged_after is not None else None,
        acknowledged_at=(
            opened + datetime.timedelta(seconds=acknowledged_after)
            if acknowledged_after is not None
            else None
        ),
    )
    row.nodes.set([node])
    return row


@pytest.fixture
def watched(sandbox_case, people):
    """A day of monitoring: 100 probes (95 answered), three incidents acknowledged after
    60, 120 and 300 s, and one older incident cleared before the period."""
    app = sandbox_case
    node = app.nodes.get()
    now = timezone.now()
    start = now - datetime.timedelta(days=1)
    ProbeSample.objects.bulk_create(
        ProbeSample(
            application=app,
            node=node,
            at=start + datetime.timedelta(minutes=10 * i),
            up=i >= 5,
            latency_ms=12.0 if i >= 5 else None,
            height=i if i >= 5 else None,
        )
        for i in range(100)
    )
    hour = datetime.timedelta(hours=1)
    incident(
        app,
        Rule.NODE_DOWN,
        node,
        start + hour,
        cleared=start + 2 * hour,
        acknowledged_after=120,
        by=people.olivia,
    )
    incident(
        app,
        Rule.LATENCY,
        node,
        start + 3 * hour,
        cleared=start + 4 * hour,
        acknowledged_after=300,
        by=people.victor,
    )
    incident(
        app, Rule.STALLED_CHAIN, node, start + 5 * hour, acknowledged_after=60, by=people.olivia
    )
    incident(app, Rule.FORK, node, start - 5 * hour, cleared=start - 4 * hour)
    return app, start, now


def test_the_summary_is_a_finished_run_whose_monitoring_suite_feeds_the_l3_indicators(
    watched, people
):
    app, start, end = watched

    run = summary.record_summary(app, actor=people.olivia, start=start, end=end)

    assert run.status == RunStatus.SUCCEEDED and run.is_finished and run.suites == ["monitoring"]
    suite = run.suite_runs.get()
    metrics = suite.result["metrics"]
    assert metrics["uptime_ratio"] == 0.95 and metrics["probes"] == 100
    assert metrics["alert_ack_median_s"] == 120
    assert metrics["incidents"] == {
        "node_down": 1,
        "stalled_chain": 1,
        "fork": 0,
        "reorg": 0,
        "latency_over_bound": 1,
    }
    checks = {c["name"]: c for c in suite.result["checks"]}
    assert checks["node_down"]["passed"] is False
    assert checks["node_down"]["evidence"]["listed"][0]["nodes"] == ["validator-1"]
    assert checks["fork"]["passed"] is True  # the fork was over before the period
    assert checks["latency_over_bound"]["passed"] is False
    assert checks["reorg"]["passed"] is True
    assert suite.passed is False
    event = AuditEvent.objects.get(action="monitoring.summary")
    assert event.actor == people.olivia and event.application_id == app.pk

    # An evaluation of the case at L3 reads the summary for its monitoring indicators.
    Application.objects.filter(pk=app.pk).update(target_level=3)
    app.refresh_from_db()
    evaluation = create_evaluation(app, actor=people.olivia, test_run_ids=[run.pk])
    values = evaluation.inputs["values"]
    assert values["monitoring.metrics.uptime_ratio"] == 0.95
    assert values["monitoring.metrics.alert_ack_median_s"] == 120
    assert values["monitoring.checks.node_down"] is False
    assert values["monitoring.checks.fork"] is True
    assert values["monitoring.checks.latency_over_bound"] is False
    assert evaluation.inputs["sources"]["monitoring.metrics.uptime_ratio"]["test_run"] == run.pk


def test_without_probes_nothing_is_judged_and_without_acknowledgements_no_median(
    sandbox_case, people
):
    end = timezone.now()
    run = summary.record_summary(
        sandbox_case, actor=people.olivia, start=end - datetime.timedelta(hours=1), end=end
    )
    result = run.suite_runs.get().result
    assert "uptime_ratio" not in result["metrics"]
    assert "alert_ack_median_s" not in result["metrics"]
    assert {c["passed"] for c in result["checks"]} == {None}


def test_the_summary_is_refused_to_others_out_of_state_and_for_a_bad_period(watched, people):
    app, start, end = watched
    with pytest.raises(PermissionDenied):
        summary.record_summary(app, actor=people.alice, start=start, end=end)
    with pytest.raises(ValidationError):
        summary.record_summary(app, actor=people.olivia, start=end, end=start)
    with pytest.raises(ValidationError):
        summary.record_summary(
            app, actor=people.olivia, start=start, end=end + datetime.timedelta(days=2)
        )
    Application.objects.filter(pk=app.pk).update(state="evaluation")
    app.refresh_from_db()
    with pytest.raises(IllegalTransition):
        summary.record_summary(app, actor=people.olivia, start=start, end=end)
    assert not TestRun.objects.filter(suites=["monitoring"]).exists()
    assert not AuditEvent.objects.filter(action="monitoring.summary").exists()


def test_a_regulator_acknowledges_an_incident_once(watched, people):
    app, start, end = watched
    open_one = Incident.objects.get(status=IncidentStatus.OPEN)
    Incident.objects.filter(pk=open_one.pk).update(acknowledged_at=None, acknowledged_by=None)
    open_one.refresh_from_db()

    with pytest.raises(PermissionDenied):
        services.acknowledge(open_one, actor=people.alice)
    with pytest.raises(PermissionDenied):
        services.acknowledge(open_one, actor=people.audrey)
    now = timezone.now()
    services.acknowledge(open_one, actor=people.victor, now=now)
    open_one.refresh_from_db()
    assert open_one.acknowledged_by == people.victor and open_one.acknowledged_at == now
    with pytest.raises(IllegalTransition):
        services.acknowledge(open_one, actor=people.olivia)
    (event,) = AuditEvent.objects.filter(action="incident.acknowledge")
    assert event.actor == people.victor
    assert event.after["seconds_to_acknowledge"] == pytest.approx(
        (now - open_one.opened_at).total_seconds(), abs=0.01
    )


def test_rules_keep_their_bounds(sandbox_case, people):
    with pytest.raises(PermissionDenied):
        services.update_rules(sandbox_case, actor=people.alice, values={"stall_blocks": 3})
    with pytest.raises(ValidationError):
        services.update_rules(sandbox_case, actor=people.olivia, values={"stall_blocks": 0})
    assert not AuditEvent.objects.filter(action="monitoring.rules_update").exists()
    rules = services.update_rules(
        sandbox_case, actor=people.olivia, values={"stall_blocks": 3, "block_time_s": 2.0}
    )
    assert services.engine_parameters(rules)["stall_after_s"] == 6.0
    event = AuditEvent.objects.get(action="monitoring.rules_update")
    assert event.before["stall_blocks"] == 5 and event.after["stall_blocks"] == 3
