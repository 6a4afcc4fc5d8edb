"""The monitoring summary: a case's monitoring history over a period, recorded as a finished
test run with one ``monitoring`` suite, so an access evaluation can cite it.

The suite result has the engine's shape (``SuiteResult.to_dict()``) and the keys the
default index reads:

- ``monitoring.metrics.uptime_ratio``: answered probes / probes over the period, all nodes;
- ``monitoring.metrics.alert_ack_median_s``: the median time from an incident opening to
  a regulator acknowledging it, over the incidents opened in the period and acknowledged
  (absent when none was: the indicator is then not assessed, never zero);
- ``monitoring.checks.<rule>`` for each rule (``node_down``, ``fork``,
  ``latency_over_bound``, ``stalled_chain``, ``reorg``): passed when no incident of that
  rule was open at any time in the period, else failed with a message naming the first;
  its evidence lists them. Without any probe in the period a check is not judged (and says
  so), and a summary with nothing judged is not judged, never passed.
"""

from __future__ import annotations

import datetime
import statistics

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from applications.models import State
from applications.services.common import IllegalTransition
from assessments import outcomes
from assessments.models import RunStatus, SuiteRun, TestRun
from sandbox_portal.audit.services import record

from . import history
from .models import MONITORED_STATES, Incident, Rule
from .services import is_regulator, rules_of

SUMMARY_STATES = [*MONITORED_STATES, State.EXITED]
LONGEST_PERIOD = datetime.timedelta(days=400)
EVIDENCE_LIMIT = 25

CHECK_DESCRIPTIONS = {
    Rule.NODE_DOWN: "no node was down during the period",
    Rule.FORK: "no two nodes held different blocks at a final height",
    Rule.LATENCY: "no node's p95 RPC latency went over the bound",
    Rule.STALLED_CHAIN: "no node's chain stalled",
    Rule.REORG: "no reorganisation deeper than tolerated",
}

can_record = is_regulator


def default_period(application, now=None):
    """The last 30 days, or since the testing period started if that is later."""
    now = now or timezone.now()
    start = now - datetime.timedelta(days=30)
    if application.sandbox_started_at and application.sandbox_started_at > start:
        start = application.sandbox_started_at
    return start, now


def _iso(moment):
    return moment.isoformat() if moment else None


def _incident_evidence(incident):
    return {
        "id": incident.pk,
        "opened_at": _iso(incident.opened_at),
        "cleared_at": _iso(incident.cleared_at),
        "acknowledged_at": _iso(incident.acknowledged_at),
        "nodes": sorted(n.label for n in incident.nodes.all()),
        "detail": incident.detail,
    }


def summarise(application, start, end):
    """The ``monitoring`` suite result over [start, end), without writing anything."""
    per_node = history.totals(application, start, end)
    labels = dict(application.nodes.values_list("pk", "label"))
    samples = sum(s.samples for s in per_node.values())
    up = sum(s.up_samples for s in per_node.values())
    incidents = list(
        Incident.objects.filter(application=application, opened_at__lt=end)
        .filter(Q(cleared_at__isnull=True) | Q(cleared_at__gte=start))
        .prefetch_related("nodes")
        .order_by("opened_at", "pk")
    )
    acknowledged = [
        (i.acknowledged_at - i.opened_at).total_seconds()
        for i in incidents
        if i.acknowledged_at is not None and i.opened_at >= start
    ]
    metrics = {
        "period_start": _iso(start),
        "period_end": _iso(end),
        "probes": samples,
        "answered": up,
        "incidents": {rule: sum(1 for i in incidents if i.rule == rule) for rule in Rule.values},
        "incidents_acknowledged": len(acknowledged),
        "nodes": {
            labels.get(node_id, f"node {node_id}"): {
                "probes": stats.samples,
                "uptime_ratio": round(stats.up_ratio, 6) if stats.samples else None,
                "latency_mean_ms": _round(stats.latency_mean_ms),
                "latency_max_ms": _round(stats.latency_max_ms),
                "last_height": stats.last_height,
                "max_lag": stats.max_lag,
            }
            for node_id, stats in sorted(per_node.items())
        },
    }
    if samples:
        metrics["uptime_ratio"] = round(up / samples, 6)
    if acknowledged:
        metrics["alert_ack_median_s"] = round(statistics.median(acknowledged), 3)
    checks = []
    for rule in (Rule.NODE_DOWN, Rule.FORK, Rule.LATENCY, Rule.STALLED_CHAIN, Rule.REORG):
        hits = [i for i in incidents if i.rule == rule]
        passed = (not hits) if samples else None
        outcome = outcomes.from_passed(passed)
        checks.append(
            {
                "name": rule.value,
                "outcome": outcome,
                "passed": passed,
                "description": CHECK_DESCRIPTIONS[rule],
                "message": _message(rule, hits, start, end, samples),
                "instrument": False,
                "evidence": {
                    "incidents": len(hits),
                    "listed": [_incident_evidence(i) for i in hits[:EVIDENCE_LIMIT]],
                },
            }
        )
    now = timezone.now().isoformat(timespec="milliseconds")
    outcome = outcomes.combine(c["outcome"] for c in checks)
    return {
        "suite": "monitoring",
        "outcome": outcome,
        "invalid_reason": "",
        "passed": outcomes.passed_of(outcome),
        "parameters": {
            "period_start": _iso(start),
            "period_end": _iso(end),
            "rules": rules_of(application).as_dict(),
        },
        "endpoints": list(application.nodes.values_list("endpoint_url", flat=True)),
        "metrics": metrics,
        "checks": checks,
        "charts": {},
        "logs": [
            f"monitoring history {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}: "
            f"{samples} probes, {up} answered, {len(incidents)} incidents"
        ],
        "started_at": now,
        "finished_at": now,
    }


def _message(rule, hits, start, end, samples):
    """The sentence a regulator reads for a failed or not judged check ("" when passed)."""
    if not samples:
        return (
            f"not judged: no probe of the case's nodes between {start:%Y-%m-%d %H:%M} and "
            f"{end:%Y-%m-%d %H:%M} UTC"
        )
    if not hits:
        return ""
    first = hits[0]
    nodes = ", ".join(sorted(n.label for n in first.nodes.all())) or "no node recorded"
    return (
        f"{len(hits)} {rule.label.lower()} incident{'s' if len(hits) != 1 else ''} in the "
        f"period; the first opened {first.opened_at:%Y-%m-%d %H:%M:%S} UTC on {nodes}"
    )


def _round(value):
    return round(value, 3) if value is not None else None


def record_summary(application, *, actor, start=None, end=None):
    """Regulator: record the summary of [start, end) as a finished test run of the case."""
    if not can_record(actor):
        raise PermissionDenied("Only regulators record a monitoring summary.")
    if application.state not in SUMMARY_STATES:
        raise IllegalTransition(
            f"This case is {application.get_state_display().lower()}; monitoring runs from "
            "admission to exit."
        )
    default_start, default_end = default_period(application)
    start, end = start or default_start, end or default_end
    if start >= end:
        raise ValidationError({"start": "The period must start before it ends."})
    if end - start > LONGEST_PERIOD:
        raise ValidationError({"start": "A summary covers at most 400 days."})
    if end > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"end": "The period cannot end in the future."})
    result = summarise(application, start, end)
    nodes = list(application.nodes.order_by("pk"))
    finished = timezone.now()
    with transaction.atomic():
        run = TestRun.objects.create(
            application=application,
            suites=["monitoring"],
            parameters={"monitoring": {"period_start": _iso(start), "period_end": _iso(end)}},
            targets=[{"id": n.pk, "label": n.label, "endpoint": n.endpoint_url} for n in nodes],
            status=RunStatus.SUCCEEDED,
            progress=100,
            current_step="finished",
            requested_by=actor,
            started_at=finished,
            finished_at=finished,
            outcome=result["outcome"],
            attempts=1,
            log=f"{finished:%H:%M:%S} monitoring summary recorded by {actor.get_username()}: "
            + result["logs"][0]
            + "\n",
        )
        run.nodes.set(nodes)
        SuiteRun.objects.create(
            test_run=run,
            suite="monitoring",
            status=RunStatus.SUCCEEDED,
            outcome=result["outcome"],
            passed=result["passed"],
            result=result,
            started_at=finished,
            finished_at=finished,
        )
        record(
            actor=actor,
            action="monitoring.summary",
            target=run,
            application_id=application.pk,
            after={
                "period_start": start,
                "period_end": end,
                "uptime_ratio": result["metrics"].get("uptime_ratio"),
                "alert_ack_median_s": result["metrics"].get("alert_ack_median_s"),
                "incidents": result["metrics"]["incidents"],
            },
        )
    return run
