"""What the monitoring pages show, read from the scoped queries: each node's latest head,
the case's status, its incidents, and server-rendered SVG charts over a chosen range."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from assessments.charts import line_chart

from .. import history, services
from ..aggregate import merge
from ..models import IncidentStatus, MonitorState
from ..queries import incidents_for, monitored_cases_for

PAST_INCIDENTS = 30


@dataclass(frozen=True)
class Range:
    key: str
    label: str
    span: datetime.timedelta
    size: str  # the history resolution the charts are drawn at
    unit: str  # the x axis: minutes, hours or days before now
    unit_s: float


RANGES = [
    Range("15m", "15 minutes", datetime.timedelta(minutes=15), "raw", "minutes", 60),
    Range("1h", "1 hour", datetime.timedelta(hours=1), "raw", "minutes", 60),
    Range("24h", "24 hours", datetime.timedelta(hours=24), "minute", "hours", 3600),
    Range("7d", "7 days", datetime.timedelta(days=7), "hour", "days", 86400),
    Range("30d", "30 days", datetime.timedelta(days=30), "hour", "days", 86400),
    Range("1y", "1 year", datetime.timedelta(days=365), "day", "days", 86400),
]
RANGE_BY_KEY = {r.key: r for r in RANGES}
DEFAULT_RANGE = "1h"


def chosen_range(value):
    return RANGE_BY_KEY.get(value or DEFAULT_RANGE, RANGE_BY_KEY[DEFAULT_RANGE])


def _charts(app, nodes, span, now):
    series = history.node_series(
        app, now - span.span, now, span.size, node_ids=[n.pk for n in nodes]
    )
    labels = {n.pk: n.label for n in nodes}

    def lines(value_of):
        return {
            labels[node_id]: [
                ((moment - now).total_seconds() / span.unit_s, value_of(stats))
                for moment, stats in points
            ]
            for node_id, points in series.items()
        }

    x_label = f"{span.unit} before now"
    charts = [
        line_chart(
            "Head height per node",
            lines(lambda s: s.last_height),
            x_label=x_label,
            y_label="height",
            zero_based=False,
        ),
        line_chart(
            "RPC latency (mean, ms)",
            lines(lambda s: s.latency_mean_ms),
            x_label=x_label,
            y_label="milliseconds",
        ),
        line_chart(
            "Block interval (s)",
            lines(lambda s: s.interval_mean_s),
            x_label=x_label,
            y_label="seconds",
        ),
    ]
    totals = {node_id: merge(s for _, s in points) for node_id, points in series.items()}
    return [c for c in charts if c is not None], totals


def node_rows(nodes, state, totals=None):
    heads = state.heads if state is not None else {}
    rows = []
    for node in nodes:
        head = heads.get(str(node.pk)) or {}
        stats = (totals or {}).get(node.pk)
        ratio = stats.up_ratio if stats is not None else None
        rows.append(
            {
                "node": node,
                "head": head,
                "seen": bool(head),
                "seen_at": parse_datetime(head["at"]) if head.get("at") else None,
                "uptime_pct": round(ratio * 100, 2) if ratio is not None else None,
            }
        )
    return rows


def agreement(state):
    """Whether the nodes that answered hold one block at their common height (the lowest
    head), as the last probe found; None with fewer than two such nodes."""
    heads = [h for h in (state.heads if state is not None else {}).values() if h.get("up")]
    common = [h["common"] for h in heads if isinstance(h.get("common"), dict)]
    if len(common) < 2 or len({c.get("height") for c in common}) != 1:
        return None
    return {"height": common[0]["height"], "agree": len({c.get("hash") for c in common}) == 1}


def live_context(user, app, span, now=None):
    """The refreshing part of a case's monitoring page."""
    now = now or timezone.now()
    state = MonitorState.objects.filter(application=app).first()
    nodes = list(app.nodes.order_by("pk"))
    incidents = incidents_for(user).filter(application=app)
    open_incidents = list(incidents.filter(status=IncidentStatus.OPEN))
    past = list(incidents.filter(status=IncidentStatus.CLEARED)[:PAST_INCIDENTS])
    for incident in open_incidents + past:
        incident.summary = describe(incident)
    charts, totals = _charts(app, nodes, span, now)
    return {
        "app": app,
        "state": state,
        "status": services.status_of(app, state, len(open_incidents), now),
        "agreement": agreement(state),
        "nodes": node_rows(nodes, state, totals),
        "open_incidents": open_incidents,
        "past_incidents": past,
        "charts": charts,
        "range": span,
        "ranges": RANGES,
        "can_acknowledge": services.can_acknowledge(user),
    }


def overview_rows(user, now=None):
    """Every monitored case the user sees, alerting first, then by reference."""
    now = now or timezone.now()
    cases = (
        monitored_cases_for(user)
        .annotate(
            open_incidents=Count("incidents", filter=Q(incidents__status=IncidentStatus.OPEN))
        )
        .prefetch_related("nodes")
    )
    rows = []
    for app in cases:
        state = getattr(app, "monitor_state", None)
        nodes = sorted(app.nodes.all(), key=lambda n: n.pk)
        rows.append(
            {
                "app": app,
                "state": state,
                "status": services.status_of(app, state, app.open_incidents, now),
                "nodes": node_rows(nodes, state),
                "open_incidents": app.open_incidents,
            }
        )
    rows.sort(key=lambda r: (r["status"] != services.ALERTING, r["app"].reference))
    return rows


def _ms(seconds):
    return f"{seconds * 1000:.1f} ms" if isinstance(seconds, int | float) else "?"


def _short(block_hash):
    return (
        f"{block_hash[:10]}…"
        if isinstance(block_hash, str) and len(block_hash) > 12
        else block_hash
    )


def describe(incident):
    """One line on what an incident saw, from its detail."""
    d = incident.detail or {}
    node = d.get("node", "")
    if incident.rule == "node_down":
        return f"{node} does not answer: {d.get('error') or 'no answer'}"
    if incident.rule == "stalled_chain":
        return f"{node} stuck at height {d.get('height')} for {d.get('stalled_s')} s"
    if incident.rule == "latency_over_bound":
        return (
            f"{node}: p95 {_ms(d.get('p95_s'))} over {d.get('samples')} answers, "
            f"bound {_ms(d.get('bound_s'))}"
        )
    if incident.rule == "reorg":
        changed = d.get("changed") or []
        lowest = min((c.get("height") for c in changed if isinstance(c, dict)), default="?")
        return f"{node} replaced at least {d.get('depth')} blocks, from height {lowest}"
    if incident.rule == "fork":
        hashes = ", ".join(f"{k}: {_short(v)}" for k, v in (d.get("hashes") or {}).items())
        return f"different blocks at height {d.get('height')}: {hashes}"
    return ""
