"""Runtime monitoring: probing a case's nodes, opening and clearing incidents, the alert
rules, and acknowledging incidents. Every change is transactional and audited.

``probe_case`` is what the Celery task runs for one case. It

1. claims the case (``MonitorState.probing_since``, set atomically), so two probes of one
   case never overlap and a re-delivered task of the same tick probes nothing;
2. probes every node registered for the case through the engine (``engine.probe``), with
   the allow-list a test run uses: the case's registered nodes, checked by the engine's
   guard before any connection;
3. stores one sample per node, evaluates the rules (``engine.alerts``) over the recent
   samples, and opens an incident for a condition newly seen, or clears one whose
   condition no longer holds; each is an audit event, and its people are mailed after the
   transaction commits: once when it opens, once when it clears.

Time comes from ``now`` (default: the clock), so tests drive it without sleeping.
"""

from __future__ import annotations

import datetime
import logging
import statistics
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from applications.models import Application
from applications.services.common import IllegalTransition
from assessments.engine import Target
from assessments.engine.suites import monitoring as engine
from sandbox_portal import outgoing
from sandbox_portal.audit.services import record

from . import notifications
from .models import (
    MONITORED_STATES,
    AlertRules,
    Incident,
    IncidentStatus,
    MonitorState,
    ProbeSample,
    Rule,
)

logger = logging.getLogger(__name__)

# Block time assumed before the probes have seen one, and the least a learned one can be
# (block timestamps are whole seconds).
DEFAULT_BLOCK_TIME_S = 15.0
MIN_LEARNED_BLOCK_TIME_S = 1.0
# Recent heights per node whose hashes the next probe re-reads (reorganisations).
CHECKPOINTS_PER_NODE = 16

CLEARED_BECAUSE = {
    Rule.NODE_DOWN: "the node answers again",
    Rule.STALLED_CHAIN: "the node's head moves again",
    Rule.LATENCY: "the node's p95 latency is back within the bound",
    Rule.REORG: "no further reorganisation was seen",
    Rule.FORK: "the nodes agree again",
}


def is_regulator(user):
    return bool(user is not None and user.is_authenticated and user.is_regulator)


can_edit_rules = is_regulator
can_acknowledge = is_regulator


# -- Rules -------------------------------------------------------------------------------


def rules_of(application):
    """The case's alert rules: its row, or the defaults (unsaved) when it has none."""
    return AlertRules.objects.filter(application=application).first() or AlertRules(
        application=application
    )


def update_rules(application, *, actor, values):
    """A regulator sets the thresholds; ``ValidationError`` for a value out of range."""
    if not can_edit_rules(actor):
        raise PermissionDenied("Only regulators change a case's alert rules.")
    with transaction.atomic():
        rules, _ = AlertRules.objects.select_for_update().get_or_create(application=application)
        before = rules.as_dict()
        for name in AlertRules.EDITABLE:
            if name in values:
                setattr(rules, name, values[name])
        rules.full_clean(exclude=["application", "updated_by"], validate_unique=False)
        rules.updated_by = actor
        rules.updated_at = timezone.now()
        rules.save()
        record(
            actor=actor,
            action="monitoring.rules_update",
            target=application,
            before=before,
            after=rules.as_dict(),
        )
    return rules


def stall_after_s(rules, learned_block_time):
    block_time = rules.block_time_s or learned_block_time or DEFAULT_BLOCK_TIME_S
    return max(0.05, rules.stall_blocks * block_time)


def engine_parameters(rules, learned_block_time=None):
    return {
        "max_latency_s": rules.latency_bound_s,
        "latency_window_s": float(rules.latency_window_s),
        "stall_after_s": stall_after_s(rules, learned_block_time),
        "finality_depth": rules.finality_depth,
        "max_reorg_depth": rules.max_reorg_depth,
        "down_after_probes": rules.down_after_probes,
    }


# -- Probing -----------------------------------------------------------------------------


def monitored_cases():
    """Cases admitted and live, with at least one registered node."""
    return (
        Application.objects.filter(state__in=MONITORED_STATES, nodes__isnull=False)
        .distinct()
        .order_by("pk")
    )


def _lock_stale_after(node_count):
    # Two requests per node, each waiting at most the timeout, plus slack.
    return datetime.timedelta(seconds=4 * settings.MONITORING_PROBE_TIMEOUT_S * node_count + 60)


def _claim(app_id, now, tick, node_count):
    # get_or_create survives another probe creating the row at the same moment.
    MonitorState.objects.get_or_create(application_id=app_id)
    free = Q(probing_since__isnull=True) | Q(probing_since__lt=now - _lock_stale_after(node_count))
    claimable = MonitorState.objects.filter(free, application_id=app_id)
    if tick is not None:
        claimable = claimable.filter(Q(last_probe_at__isnull=True) | Q(last_probe_at__lt=tick))
    return claimable.update(probing_since=now) == 1


def _release(app_id):
    MonitorState.objects.filter(application_id=app_id).update(probing_since=None)


def probe_case(application_id, *, now=None, tick=None):
    """Probe one case's nodes and act on what the rules say. Returns what happened:
    "probed", "skipped" (another probe holds the case, or this tick was done),
    "not monitored" or "no nodes"."""
    now = now or timezone.now()
    app = Application.objects.filter(pk=application_id).select_related("firm").first()
    if app is None or app.state not in MONITORED_STATES:
        return "not monitored"
    nodes = list(app.nodes.order_by("pk"))
    if not nodes:
        return "no nodes"
    if not _claim(app.pk, now, tick, len(nodes)):
        return "skipped"
    try:
        return _probe(app, nodes, now)
    finally:
        _release(app.pk)


def _probe(app, nodes, now):
    rules = rules_of(app)
    state = MonitorState.objects.get(application=app)
    endpoints = [n.endpoint_url for n in nodes]
    # The same allow-list as a test run: the case's registered nodes, nothing else.
    target = Target(
        endpoints=endpoints,
        allowed=list(app.nodes.values_list("endpoint_url", flat=True)),
        timeout=settings.MONITORING_PROBE_TIMEOUT_S,
        allowed_networks=outgoing.allowed_networks(),
    )
    known = {}
    for node in nodes:
        known.setdefault(node.endpoint_url, state.checkpoints.get(str(node.pk)) or {})
    started = time.monotonic()
    answers = {
        s["endpoint"]: s
        for s in engine.probe(target, finality_depth=rules.finality_depth, known=known)
    }
    elapsed = time.monotonic() - started
    epoch = now.timestamp()
    latest = {
        node.pk: dict(answers[node.endpoint_url], endpoint=str(node.pk), at=epoch) for node in nodes
    }
    up_heights = [s["height"] for s in latest.values() if s.get("up")]
    top = max(up_heights) if up_heights else None
    for node in nodes:
        sample = latest[node.pk]
        previous = state.heads.get(str(node.pk)) or {}
        if sample.get("up"):
            same = previous.get("height") == sample["height"] and previous.get("since")
            sample["head_since"] = previous["since"] if same else epoch
            sample["lag"] = top - sample["height"]

    history = _recent_probes(app, rules, now)
    intervals = [
        s["block_interval_s"]
        for probe_ in [*history, list(latest.values())]
        for s in probe_
        if s.get("block_interval_s") is not None
    ]
    learned = max(MIN_LEARNED_BLOCK_TIME_S, statistics.median(intervals)) if intervals else None
    parameters = engine_parameters(rules, learned)
    raised = engine.alerts([*history, list(latest.values())], parameters)

    with transaction.atomic():
        ProbeSample.objects.bulk_create(
            [_sample_row(app, node, latest[node.pk], now) for node in nodes]
        )
        _remember(state, nodes, latest, now, elapsed)
        _sync_incidents(app, nodes, latest, raised, now)
    return "probed"


def _sample_row(app, node, sample, now):
    up = bool(sample.get("up"))
    latency = sample.get("latency_s")
    return ProbeSample(
        application=app,
        node=node,
        at=now,
        up=up,
        latency_ms=round(latency * 1000, 3) if up and latency is not None else None,
        height=sample.get("height") if up else None,
        block_hash=(sample.get("hash") or "")[:66] if up else "",
        block_interval_s=sample.get("block_interval_s") if up else None,
        peers=sample.get("peers") if up else None,
        lag=sample.get("lag") if up else None,
        error="" if up else (sample.get("error") or "no answer")[:300],
    )


def _recent_probes(app, rules, now):
    """The stored probes the rules look back over, oldest first, in the engine's shape."""
    window = max(
        float(rules.latency_window_s),
        (rules.down_after_probes + 1) * settings.MONITORING_PROBE_INTERVAL_S * 2,
    )
    rows = (
        ProbeSample.objects.filter(
            application=app, at__gte=now - datetime.timedelta(seconds=window), at__lt=now
        )
        .order_by("at", "node_id")
        .values_list(
            "at", "node_id", "up", "latency_ms", "height", "block_hash", "block_interval_s"
        )
    )
    probes: dict = {}
    for at, node_id, up, latency_ms, height, block_hash, interval in rows.iterator():
        probes.setdefault(at, []).append(
            {
                "endpoint": str(node_id),
                "at": at.timestamp(),
                "up": up,
                "latency_s": latency_ms / 1000 if latency_ms is not None else None,
                "height": height,
                "hash": block_hash,
                "block_interval_s": interval,
            }
        )
    return list(probes.values())


def _remember(state, nodes, latest, now, elapsed):
    heads, checkpoints = dict(state.heads), dict(state.checkpoints)
    for node in nodes:
        key = str(node.pk)
        sample = latest[node.pk]
        previous = heads.get(key) or {}
        if sample.get("up"):
            heads[key] = {
                "label": node.label,
                "up": True,
                "at": now.isoformat(),
                "height": sample["height"],
                "hash": sample.get("hash"),
                "since": sample.get("head_since"),
                "latency_ms": round(sample["latency_s"] * 1000, 3),
                "peers": sample.get("peers"),
                "lag": sample.get("lag"),
                "chain_id": sample.get("chain_id"),
                "common": sample.get("common"),
            }
            checkpoints[key] = _checkpoints(checkpoints.get(key) or {}, sample)
        else:
            heads[key] = {
                **previous,
                "label": node.label,
                "up": False,
                "at": now.isoformat(),
                "error": (sample.get("error") or "no answer")[:300],
            }
    current = {str(n.pk) for n in nodes}
    state.heads = {k: v for k, v in heads.items() if k in current}
    state.checkpoints = {k: v for k, v in checkpoints.items() if k in current}
    state.last_probe_at = now
    state.last_probe_s = round(elapsed, 3)
    state.save(update_fields=["heads", "checkpoints", "last_probe_at", "last_probe_s"])


def _checkpoints(previous, sample):
    """The heights whose hashes the next probe re-reads: what the node says now."""
    if "rechecked" in sample:
        points = {int(h): v for h, v in sample["rechecked"].items() if v}
    else:
        points = {int(h): v for h, v in previous.items() if v}
    points[sample["height"]] = sample.get("hash")
    final = sample.get("final")
    if isinstance(final, dict) and final.get("hash"):
        points[final["height"]] = final["hash"]
    kept = sorted(h for h, v in points.items() if v)[-CHECKPOINTS_PER_NODE:]
    return {str(h): points[h] for h in kept}


# -- Incidents ---------------------------------------------------------------------------


def _describe(alert, nodes_by_id):
    """(key, node ids, detail) of one raised alert."""
    rule = alert["rule"]
    if rule == Rule.FORK:
        hashes = {int(n): h for n, h in alert["hashes"].items()}
        node_ids = sorted(hashes)
        detail = {
            "height": alert["height"],
            "hashes": {nodes_by_id[n].label: h for n, h in sorted(hashes.items())},
            "node_ids": node_ids,
        }
        return "fork", node_ids, detail
    node = nodes_by_id[int(alert["endpoint"])]
    detail = {k: v for k, v in alert.items() if k not in ("rule", "endpoint")}
    detail.update(node=node.label, endpoint=node.endpoint_url)
    return f"{rule}:{node.pk}", [node.pk], detail


def _clear_reason(incident, nodes_by_id, latest):
    node_ids = [n.pk for n in incident.nodes.all()]
    if not node_ids or any(n not in nodes_by_id for n in node_ids):
        return "a node is no longer registered for the case"
    if all(latest[n].get("up") for n in node_ids):
        return CLEARED_BECAUSE.get(incident.rule, "the condition no longer holds")
    return None  # a node does not answer: whether the condition holds is unknown


def _sync_incidents(app, nodes, latest, raised, now):
    nodes_by_id = {n.pk: n for n in nodes}
    open_now = {
        i.key: i
        for i in Incident.objects.select_for_update()
        .filter(application=app, status=IncidentStatus.OPEN)
        .prefetch_related("nodes")
    }
    seen = set()
    for alert in raised:
        key, node_ids, detail = _describe(alert, nodes_by_id)
        if key in seen:
            continue
        seen.add(key)
        incident = open_now.get(key)
        if incident is not None:
            incident.last_seen_at = now
            incident.save(update_fields=["last_seen_at"])
            continue
        _open(app, alert["rule"], key, node_ids, detail, now)
    for key, incident in open_now.items():
        if key in seen:
            continue
        reason = _clear_reason(incident, nodes_by_id, latest)
        if reason is not None:
            clear(incident, reason=reason, now=now)


def _open(app, rule, key, node_ids, detail, now):
    incident = Incident.objects.create(
        application=app,
        rule=rule,
        key=key,
        opened_at=now,
        last_seen_at=now,
        detail=detail,
    )
    incident.nodes.set(node_ids)
    record(
        actor=None,
        action="incident.open",
        target=incident,
        application_id=app.pk,
        after={"rule": rule, "key": key, "detail": detail},
    )
    transaction.on_commit(lambda: notifications.incident_opened(incident.pk))
    logger.warning("case %s: incident %s opened: %s", app.pk, incident.pk, key)
    return incident


def clear(incident, *, reason, now=None):
    """Clear an open incident (inside the caller's transaction); mailed after commit."""
    now = now or timezone.now()
    incident.status = IncidentStatus.CLEARED
    incident.cleared_at = now
    incident.cleared_reason = reason[:200]
    incident.save(update_fields=["status", "cleared_at", "cleared_reason"])
    record(
        actor=None,
        action="incident.clear",
        target=incident,
        application_id=incident.application_id,
        before={"status": IncidentStatus.OPEN},
        after={"status": IncidentStatus.CLEARED, "open_s": round(incident.duration_s, 3)},
        reason=reason,
    )
    transaction.on_commit(lambda: notifications.incident_cleared(incident.pk))
    return incident


def clear_unmonitored(now=None):
    """Clear the open incidents of cases that are no longer monitored (exited, ...)."""
    now = now or timezone.now()
    cleared = 0
    stale = Incident.objects.filter(status=IncidentStatus.OPEN).exclude(
        application__state__in=MONITORED_STATES
    )
    for incident_id in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            incident = (
                Incident.objects.select_for_update()
                .filter(pk=incident_id, status=IncidentStatus.OPEN)
                .first()
            )
            if incident is not None:
                clear(incident, reason="the case is no longer monitored", now=now)
                cleared += 1
    return cleared


def acknowledge(incident, *, actor, now=None):
    """A regulator acknowledges an incident (open or cleared), once."""
    if not can_acknowledge(actor):
        raise PermissionDenied("Only regulators acknowledge monitoring incidents.")
    now = now or timezone.now()
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.acknowledged_at is not None:
            raise IllegalTransition(
                f"This incident was already acknowledged by {incident.acknowledged_by} on "
                f"{timezone.localtime(incident.acknowledged_at):%d %B %Y %H:%M}."
            )
        incident.acknowledged_by = actor
        incident.acknowledged_at = now
        incident.save(update_fields=["acknowledged_by", "acknowledged_at"])
        record(
            actor=actor,
            action="incident.acknowledge",
            target=incident,
            application_id=incident.application_id,
            before={"acknowledged_at": None},
            after={
                "acknowledged_at": now,
                "seconds_to_acknowledge": round((now - incident.opened_at).total_seconds(), 3),
            },
        )
    return incident


# -- Status ------------------------------------------------------------------------------

HEALTHY, ALERTING, STALE, NO_DATA, NOT_MONITORED = (
    "healthy",
    "alerting",
    "stale",
    "no data",
    "not monitored",
)


def status_of(application, state, open_incidents, now=None):
    """healthy, alerting, stale (no recent probe), no data, or not monitored."""
    now = now or timezone.now()
    if application.state not in MONITORED_STATES:
        return NOT_MONITORED
    if state is None or state.last_probe_at is None:
        return NO_DATA
    if open_incidents:
        return ALERTING
    late = datetime.timedelta(
        seconds=3 * settings.MONITORING_PROBE_INTERVAL_S + 2 * settings.MONITORING_PROBE_TIMEOUT_S
    )
    if now - state.last_probe_at > late:
        return STALE
    return HEALTHY
