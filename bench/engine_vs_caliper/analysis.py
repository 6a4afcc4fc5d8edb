"""Figures for one round of each load generator, and the side-by-side table.

Every latency here is "first seen in a block" minus "sent", with each tool's own notion of
sent: the engine measures from each transaction's *scheduled* send time (its definition,
free of coordinated omission), Caliper from the moment its connector created the
transaction's status (``time_create``, Caliper's definition). The observer's figures use
the same per-transaction send reference as the tool, but its own block times, so "own vs
observer" shows how well each tool measures what it claims to measure.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

# Below saturation (the clearing suite's defaults for a sustained step): the generator kept
# its schedule, nothing was stuck, 95 % of the transactions were in a block, p99 within 2 s.
SUSTAINED_SHARE = 0.95
SUSTAINED_P99_S = 2.0


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None for none)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def spread(values: Sequence[float]) -> dict:
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": max(values) if values else None,
    }


def read_blocks(path: Path) -> dict[str, dict]:
    """Observer lines -> {tx hash: {"n", "wall", "mono"}} at each hash's first appearance."""
    seen: dict[str, dict] = {}
    if not path.exists():
        return seen
    for line in path.read_text().splitlines():
        if not line:
            continue
        block = json.loads(line)
        for h in block["txs"]:
            seen.setdefault(
                h.lower(), {"n": block["n"], "wall": block["wall"], "mono": block["mono"]}
            )
    return seen


def block_counts(path: Path) -> tuple[int, int]:
    """(blocks the observer recorded, how many of them were stamped late)."""
    if not path.exists():
        return 0, 0
    lines = [json.loads(line) for line in path.read_text().splitlines() if line]
    return len(lines), sum(1 for b in lines if b.get("late"))


def rate_of(times: Iterable[float]) -> float | None:
    ordered = sorted(times)
    if len(ordered) < 2 or ordered[-1] <= ordered[0]:
        return None
    return (len(ordered) - 1) / (ordered[-1] - ordered[0])


def engine_transactions(result: dict, step: int = 0) -> list[dict]:
    """One step's transactions from the suite's own log, with absolute monotonic times.

    Each: hash, scheduled, sent, seen (``time.monotonic`` seconds, None where it never
    happened) and state.
    """
    rate = str(result["metrics"]["steps"][step]["rate"])
    log = result["charts"]["transactions"][rate]
    origin, fields = log["origin"], log["fields"]
    txs = []
    for row in log["rows"]:
        t = dict(zip(fields, row, strict=True))
        for key in ("scheduled", "sent", "seen"):
            t[key] = None if t[key] is None else origin + t[key]
        txs.append(t)
    return txs


def engine_cpu(result: dict, step: int = 0) -> dict:
    """The suite's own CPU seconds for one step: signing and the timed phase."""
    cpu = result["metrics"]["steps"][step]["generator_cpu_s"]
    return {"signing_s": cpu["signing"], "timed_phase_s": cpu["timed_phase"]}


def engine_figures(data: dict, seen: dict[str, dict], cpu: dict) -> dict:
    """The engine's round: its own report, the observer's view, its CPU."""
    step = data["result"]["metrics"]["steps"][0]
    txs = engine_transactions(data["result"])
    sent = [t for t in txs if t["sent"]]
    observed = [(t, seen[t["hash"].lower()]) for t in txs if t["hash"].lower() in seen]
    first = min((t["scheduled"] for t in txs), default=0.0)
    last_seen = max((o["mono"] for _, o in observed), default=first)
    seen_hashes = {t["hash"] for t, _ in observed}
    stuck = sum(1 for t in sent if t["hash"] not in seen_hashes)
    latency_observer = spread([o["mono"] - t["scheduled"] for t, o in observed])
    below_saturation = (
        step["valid"]
        and stuck == 0
        and len(observed) >= SUSTAINED_SHARE * len(txs)
        and (latency_observer["p99"] or math.inf) <= SUSTAINED_P99_S
    )
    return {
        "transactions": len(txs),
        "below_saturation": below_saturation,
        "achieved_send_rate": rate_of(t["sent"] for t in sent),
        "committed_own": step["confirmed_rate"],
        "committed_observer": len(observed) / (last_seen - first) if last_seen > first else None,
        "latency_own": {k: step["latency_s"][k] for k in ("p50", "p99", "max")},
        "latency_observer": latency_observer,
        "generator_lag_p99": step["generator_lag_s"]["p99"],
        "valid": step["valid"],
        "failed": step["failed"] + step["refused"] + step["not_sent"],
        "unconfirmed_own": step["unconfirmed"],
        "stuck_observer": stuck,
        "cpu": cpu,
        "window_mono": [first, last_seen],
    }


def caliper_figures(txs: list[dict], report: dict, seen: dict[str, dict], cpu: dict) -> dict:
    """Caliper's round: its own report and per-transaction log, the observer's view, its CPU."""
    ok = [t for t in txs if t["status"] == "success" and t["hash"]]
    own = [(t["final_ms"] - t["created_ms"]) / 1000 for t in ok]
    observed = [(t, seen[t["hash"].lower()]) for t in ok if t["hash"].lower() in seen]
    first = min((t["created_ms"] / 1000 for t in txs), default=0.0)
    last_seen = max((o["wall"] for _, o in observed), default=first)
    return {
        "transactions": len(txs),
        "achieved_send_rate": rate_of(t["created_ms"] / 1000 for t in txs),
        "send_rate_reported": report.get("send_rate"),
        "committed_own": report.get("tps"),
        "committed_observer": len(observed) / (last_seen - first) if last_seen > first else None,
        "latency_own": spread(own),
        "latency_reported": {
            k: report.get(k) for k in ("min_latency", "avg_latency", "max_latency")
        },
        "latency_observer": spread([o["wall"] - t["created_ms"] / 1000 for t, o in observed]),
        "failed": len(txs) - len(ok),
        "stuck_observer": len(ok) - len(observed),
        "cpu": cpu,
    }


def _f(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _lat(d: dict) -> str:
    return "/".join(_f(d.get(k)) for k in ("p50", "p99", "max"))


def _cpu(tool: dict, key: str) -> str:
    n = tool["transactions"]
    value = tool["cpu"].get(key)
    return _f(value / n * 1000) if value is not None and n else "-"


def table(rate: float, duration: float, engine: dict | None, caliper: dict | None) -> list[str]:
    """Markdown rows comparing the two tools at one rate."""
    e, c = engine or {}, caliper or {}

    def row(label, fe, fc):
        return f"| {label} | {fe(e) if e else '-'} | {fc(c) if c else '-'} |"

    def p99_gap(tool):
        own, obs = tool["latency_own"].get("p99"), tool["latency_observer"].get("p99")
        return f"{(own - obs) / obs * 100:+.1f} %" if own and obs else "-"

    return [
        f"**{rate:g} tx/s offered for {duration:g} s**",
        "",
        "| | engine (clearing suite) | Caliper 0.6 |",
        "| --- | --- | --- |",
        row("offered send rate (tx/s)", lambda t: _f(rate, 1), lambda t: _f(rate, 1)),
        row(
            "achieved send rate (tx/s)",
            lambda t: _f(t["achieved_send_rate"], 1),
            lambda t: (
                f"{_f(t['achieved_send_rate'], 1)} (reported {_f(t['send_rate_reported'], 1)})"
            ),
        ),
        row(
            "transactions sent", lambda t: str(t["transactions"]), lambda t: str(t["transactions"])
        ),
        row(
            "committed throughput, own / observer (tx/s)",
            lambda t: f"{_f(t['committed_own'], 1)} / {_f(t['committed_observer'], 1)}",
            lambda t: f"{_f(t['committed_own'], 1)} / {_f(t['committed_observer'], 1)}",
        ),
        row(
            "latency p50/p99/max, own (s)",
            lambda t: _lat(t["latency_own"]),
            lambda t: _lat(t["latency_own"]),
        ),
        row(
            "latency p50/p99/max, observer (s)",
            lambda t: _lat(t["latency_observer"]),
            lambda t: _lat(t["latency_observer"]),
        ),
        row("p99 own vs observer", p99_gap, p99_gap),
        row(
            "generator CPU s / 1,000 tx, load phase",
            lambda t: _cpu(t, "load_s"),
            lambda t: _cpu(t, "load_s"),
        ),
        row(
            "generator CPU s / 1,000 tx, whole process",
            lambda t: _cpu(t, "process_s"),
            lambda t: _cpu(t, "process_s"),
        ),
        row(
            "failed / stuck (never in a block)",
            lambda t: f"{t['failed']} / {t['stuck_observer']}",
            lambda t: f"{t['failed']} / {t['stuck_observer']}",
        ),
        "",
    ]
