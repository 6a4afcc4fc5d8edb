"""Monitoring (L3): light probes of an admitted project's nodes, and alert rules over them.

``probe(target)`` reads each endpoint once (chain id and latest block in one batch) and
returns one sample per endpoint; the caller keeps the samples as a time series (the
engine stores nothing). ``alerts(series, parameters)`` evaluates the rules over a series:

- ``node_down``: the latest sample of an endpoint did not answer;
- ``latency_over_bound``: its latest answer took longer than ``max_latency_s``;
- ``stalled_chain``: its head has not moved for at least ``stall_after_s``;
- ``fork``: in the latest probe, two endpoints hold different blocks at one height.

``run`` is the suite form: one probe, judged by the same rules.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import EngineError
from ..results import Progress, Recorder, SuiteResult, Target, parse_parameters, require
from ..rpc import quantity
from .common import checked_block, client, number_of


@dataclass(frozen=True)
class MonitoringParameters:
    max_latency_s: float = 2.0
    """A probe answered slower than this raises latency_over_bound."""
    stall_after_s: float = 60.0
    """A head unchanged for this long raises stalled_chain."""

    def validate(self) -> None:
        require(self.max_latency_s > 0, "max_latency_s must be positive")
        require(self.stall_after_s > 0, "stall_after_s must be positive")


def probe(target: Target) -> list[dict[str, Any]]:
    """One sample per endpoint: up, latency, height, hash, chain id, or the error."""
    samples = []
    for endpoint in dict.fromkeys(target.endpoints):
        sample: dict[str, Any] = {"endpoint": endpoint, "at": time.time(), "up": False}
        try:
            with client(target, endpoint, read_retries=0) as rpc:
                start = time.monotonic()
                chain_id, block = rpc.batch(
                    [("eth_chainId", ()), ("eth_getBlockByNumber", ("latest", False))]
                )
                sample["latency_s"] = round(time.monotonic() - start, 6)
                block = checked_block(block, endpoint)
                sample.update(
                    up=True,
                    chain_id=quantity(chain_id, "eth_chainId", endpoint),
                    height=number_of(block, endpoint),
                    hash=block["hash"],
                )
        except EngineError as exc:
            sample["error"] = str(exc)
        samples.append(sample)
    return samples


def alerts(
    series: Sequence[Sequence[dict[str, Any]]],
    parameters: dict | MonitoringParameters | None = None,
) -> list[dict[str, Any]]:
    """The alerts the rules raise over ``series`` (a list of probes, oldest first)."""
    p = parse_parameters(MonitoringParameters, parameters)
    if not series:
        return []
    raised: list[dict[str, Any]] = []
    latest = series[-1]
    for sample in latest:
        endpoint = sample["endpoint"]
        if not sample.get("up"):
            raised.append({"rule": "node_down", "endpoint": endpoint, "error": sample.get("error")})
            continue
        if sample.get("latency_s", 0) > p.max_latency_s:
            raised.append(
                {
                    "rule": "latency_over_bound",
                    "endpoint": endpoint,
                    "latency_s": sample["latency_s"],
                    "bound_s": p.max_latency_s,
                }
            )
        since = _unchanged_since(series, endpoint, sample["height"])
        if since is not None and sample["at"] - since >= p.stall_after_s:
            raised.append(
                {
                    "rule": "stalled_chain",
                    "endpoint": endpoint,
                    "height": sample["height"],
                    "stalled_s": round(sample["at"] - since, 3),
                }
            )
    by_height: dict[int, dict[str, str]] = {}
    for sample in latest:
        if sample.get("up"):
            by_height.setdefault(sample["height"], {})[sample["endpoint"]] = sample["hash"]
    for height, hashes in by_height.items():
        if len(set(hashes.values())) > 1:
            raised.append({"rule": "fork", "height": height, "hashes": hashes})
    return raised


def _unchanged_since(series, endpoint: str, height: int) -> float | None:
    """When ``endpoint`` was first seen at ``height`` in the unbroken run ending now."""
    since = None
    for probe_ in reversed(series):
        sample = next((s for s in probe_ if s["endpoint"] == endpoint), None)
        if sample is None or not sample.get("up"):
            continue
        if sample["height"] != height:
            break
        since = sample["at"]
    return since


def run(
    target: Target,
    parameters: dict | MonitoringParameters | None = None,
    progress: Progress | None = None,
) -> SuiteResult:
    """One probe of every endpoint, judged by the alert rules (a stall needs a series)."""
    p = parse_parameters(MonitoringParameters, parameters)
    rec = Recorder("monitoring", target, p, progress)
    samples = probe(target)
    raised = alerts([samples], p)
    rec.result.metrics.update({"samples": samples, "alerts": raised})
    for rule in ("node_down", "latency_over_bound", "fork"):
        hits = [a for a in raised if a["rule"] == rule]
        rec.check(rule, not hits, f"no {rule.replace('_', ' ')} alert", alerts=hits)
    return rec.finish()
