"""Monitoring (L3): light probes of an admitted project's nodes, and alert rules over them.

``probe(target)`` reads each endpoint in two short batches and returns one sample per
endpoint; the caller keeps the samples as a time series (the engine stores nothing):

1. chain id, the latest block and ``net_peerCount`` (left out where the node does not
   answer it), timed as the sample's RPC latency;
2. once every endpoint has answered, the block at the common height (the lowest head) and
   at the finalized height (``finality_depth`` below it) from each node, the head's parent
   (the latest block interval), and the blocks at heights the caller says the node
   reported earlier (``known``), to notice a reorganisation.

``alerts(series, parameters)`` evaluates the rules over a series (a list of probes, oldest
first):

- ``node_down``: the last ``down_after_probes`` samples of an endpoint did not answer;
- ``latency_over_bound``: the p95 of its answers' latency over the last
  ``latency_window_s`` is above ``max_latency_s``;
- ``stalled_chain``: its head has not moved for at least ``stall_after_s`` (from the
  series, or from the sample's ``head_since`` when the caller keeps the time the head was
  first seen);
- ``fork``: in the latest probe, two endpoints hold different blocks at one finalized
  height (at most the lowest head minus ``finality_depth``). The alert names the fork
  point (the lowest height where the nodes differ: found by the probe by bisection, else
  the lowest compared height) as ``height``, and in ``hashes`` only the diverging node(s):
  those outside the majority, or every node when there is no majority (an even split);
  ``majority``, ``majority_hash`` and ``compared_height`` complete it;
- ``reorg``: a block the endpoint reported earlier was replaced, and the replaced part of
  its chain is deeper than ``max_reorg_depth`` blocks.

``run`` is the suite form: one probe, judged by the same rules.

When the probe's finalized blocks differ, it bisects the heights below to find where the
nodes' chains parted and puts it on each answering sample as ``fork_point`` (``{"height",
"hash"}``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import EngineError, RpcError
from ..results import Progress, Recorder, SuiteResult, Target, parse_parameters, require
from ..rpc import RpcClient, quantity
from .common import (
    checked_block,
    client,
    fork_point,
    fork_sentence,
    number_of,
    split,
    timestamp_of,
)

# Heights re-read per endpoint to notice a reorganisation, at most.
MAX_KNOWN_HEIGHTS = 32

RULES = ("node_down", "latency_over_bound", "stalled_chain", "fork", "reorg")


@dataclass(frozen=True)
class MonitoringParameters:
    max_latency_s: float = 2.0
    """The p95 of answers slower than this raises latency_over_bound."""
    latency_window_s: float = 300.0
    """The p95 is taken over the answers of this many last seconds of the series."""
    stall_after_s: float = 60.0
    """A head unchanged for this long raises stalled_chain."""
    finality_depth: int = 0
    """Blocks below the lowest head that are final: two nodes may not differ there."""
    max_reorg_depth: int = 0
    """A reorganisation replacing more blocks than this raises reorg."""
    down_after_probes: int = 1
    """Consecutive unanswered probes that raise node_down."""

    def validate(self) -> None:
        require(self.max_latency_s > 0, "max_latency_s must be positive")
        require(self.latency_window_s >= 0, "latency_window_s must not be negative")
        require(self.stall_after_s > 0, "stall_after_s must be positive")
        require(self.finality_depth >= 0, "finality_depth must not be negative")
        require(self.max_reorg_depth >= 0, "max_reorg_depth must not be negative")
        require(self.down_after_probes >= 1, "down_after_probes must be at least 1")


def probe(
    target: Target,
    *,
    finality_depth: int = 0,
    known: Mapping[str, Mapping[int, str]] | None = None,
) -> list[dict[str, Any]]:
    """One sample per endpoint.

    Every sample has ``endpoint``, ``at`` (epoch seconds), ``up`` and either ``error`` or
    ``latency_s``, ``chain_id``, ``height``, ``hash``, ``timestamp``, ``peers`` (None when
    not answered), ``block_interval_s`` (head minus parent timestamp, None at genesis),
    ``common`` and ``final`` (``{"height", "hash"}`` of this node's block at the lowest head
    and at the finalized height), ``rechecked`` (the current hashes at the ``known`` heights)
    and, when one of those changed, ``reorg`` (``{"depth", "changed"}``).
    """
    require(finality_depth >= 0, "finality_depth must not be negative")
    known = known or {}
    samples: list[dict[str, Any]] = []
    clients: dict[str, RpcClient] = {}
    heads: dict[str, dict] = {}
    try:
        for endpoint in dict.fromkeys(target.endpoints):
            sample: dict[str, Any] = {"endpoint": endpoint, "at": time.time(), "up": False}
            samples.append(sample)
            try:
                rpc = client(target, endpoint, read_retries=0)
                clients[endpoint] = rpc
                heads[endpoint] = _read_head(rpc, sample)
            except EngineError as exc:
                sample["error"] = str(exc)
        up = [s for s in samples if s["up"]]
        if not up:
            return samples
        common = min(s["height"] for s in up)
        final = max(0, common - finality_depth)
        for sample in up:
            endpoint = sample["endpoint"]
            try:
                _read_agreement(
                    clients[endpoint],
                    sample,
                    heads[endpoint],
                    common=common,
                    final=final,
                    known=known.get(endpoint) or {},
                )
            except EngineError as exc:
                sample["agreement_error"] = str(exc)
        _locate_fork(up, clients)
    finally:
        for rpc in clients.values():
            rpc.close()
    return samples


def _read_head(rpc: RpcClient, sample: dict[str, Any]) -> dict:
    endpoint = rpc.endpoint
    start = time.monotonic()
    chain_id, block, peers = rpc.batch(
        [
            ("eth_chainId", ()),
            ("eth_getBlockByNumber", ("latest", False)),
            ("net_peerCount", ()),
        ],
        raise_errors=False,
    )
    sample["latency_s"] = round(time.monotonic() - start, 6)
    for outcome in (chain_id, block):
        if isinstance(outcome, RpcError):
            raise outcome
    block = checked_block(block, endpoint)
    sample.update(
        up=True,
        chain_id=quantity(chain_id, "eth_chainId", endpoint),
        height=number_of(block, endpoint),
        hash=block["hash"],
        timestamp=timestamp_of(block, endpoint),
        peers=None,
    )
    if not isinstance(peers, RpcError):
        try:
            sample["peers"] = quantity(peers, "net_peerCount", endpoint)
        except EngineError:
            sample["peers"] = None
    return block


def _locate_fork(up: list[dict[str, Any]], clients: Mapping[str, RpcClient]) -> None:
    """Where the nodes' finalized chains parted, by bisection; only when they differ."""
    finals = {
        s["endpoint"]: s["final"]["hash"]
        for s in up
        if isinstance(s.get("final"), dict) and s["final"].get("hash")
    }
    if len(set(finals.values())) < 2:
        return
    final = next(s["final"]["height"] for s in up if s["endpoint"] in finals)
    seen: dict[int, dict[str, str | None]] = {}

    def hashes_at(height: int) -> dict[str, str | None]:
        if height not in seen:
            found: dict[str, str | None] = {}
            for endpoint in finals:
                block = clients[endpoint].call("eth_getBlockByNumber", hex(height), False)
                found[endpoint] = block.get("hash") if isinstance(block, dict) else None
            seen[height] = found
        return seen[height]

    try:
        point = fork_point(lambda h: len({v for v in hashes_at(h).values() if v}) > 1, final)
        at_point = hashes_at(point)
    except EngineError:
        return  # the alert falls back on the compared heights
    for sample in up:
        if sample["endpoint"] in at_point:
            sample["fork_point"] = {"height": point, "hash": at_point[sample["endpoint"]]}


def _read_agreement(rpc, sample, head, *, common, final, known) -> None:
    endpoint = rpc.endpoint
    known = {int(h): v for h, v in known.items() if int(h) >= 0}
    rechecks = sorted(known)[-MAX_KNOWN_HEIGHTS:]
    heights = list(dict.fromkeys([final, common, *rechecks]))
    calls: list[tuple[str, tuple]] = [("eth_getBlockByNumber", (hex(h), False)) for h in heights]
    has_parent = sample["height"] > 0
    if has_parent:
        calls.append(("eth_getBlockByHash", (head["parentHash"], False)))
    outcomes = rpc.batch(calls, raise_errors=False)
    by_height: dict[int, str | None] = {}
    for height, outcome in zip(heights, outcomes, strict=False):
        if isinstance(outcome, RpcError) or outcome is None:
            by_height[height] = None
        else:
            by_height[height] = checked_block(outcome, endpoint, height)["hash"]
    sample["common"] = {"height": common, "hash": by_height.get(common)}
    sample["final"] = {"height": final, "hash": by_height.get(final)}
    sample["block_interval_s"] = None
    if has_parent:
        parent = outcomes[-1]
        if isinstance(parent, dict):
            parent = checked_block(parent, endpoint)
            sample["block_interval_s"] = sample["timestamp"] - timestamp_of(parent, endpoint)
    sample["rechecked"] = {h: by_height.get(h) for h in rechecks}
    changed = [
        {"height": h, "was": known[h], "now": by_height.get(h)}
        for h in rechecks
        if by_height.get(h) != known[h]
    ]
    if changed:
        highest_seen = max(rechecks)
        lowest = min(c["height"] for c in changed)
        sample["reorg"] = {"depth": highest_seen - lowest + 1, "changed": changed}


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile by the nearest-rank method (None for no values)."""
    data = sorted(values)
    if not data:
        return None
    rank = max(1, math.ceil(p / 100 * len(data)))
    return data[min(rank, len(data)) - 1]


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
            if _down_probes(series, endpoint) >= p.down_after_probes:
                raised.append(
                    {"rule": "node_down", "endpoint": endpoint, "error": sample.get("error")}
                )
            continue
        latencies = _recent_latencies(series, endpoint, sample["at"] - p.latency_window_s)
        p95 = percentile(latencies, 95)
        if p95 is not None and p95 > p.max_latency_s:
            raised.append(
                {
                    "rule": "latency_over_bound",
                    "endpoint": endpoint,
                    "latency_s": sample.get("latency_s"),
                    "p95_s": p95,
                    "samples": len(latencies),
                    "bound_s": p.max_latency_s,
                }
            )
        since = sample.get("head_since")
        if since is None:
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
        reorg = sample.get("reorg")
        if reorg and reorg.get("depth", 0) > p.max_reorg_depth:
            raised.append(
                {
                    "rule": "reorg",
                    "endpoint": endpoint,
                    "depth": reorg["depth"],
                    "changed": reorg.get("changed", []),
                }
            )
    fork = _fork(latest, p.finality_depth)
    if fork is not None:
        raised.append(fork)
    return raised


def _fork(latest, finality_depth: int) -> dict[str, Any] | None:
    """The lowest finalized height at which two endpoints of the latest probe differ."""
    up = [s for s in latest if s.get("up")]
    if len(up) < 2:
        return None
    final_limit = max(0, min(s["height"] for s in up) - finality_depth)  # genesis is final
    by_height: dict[int, dict[str, str]] = {}
    for sample in up:
        seen = [(sample["height"], sample.get("hash"))]
        for key in ("common", "final"):
            block = sample.get(key)
            if isinstance(block, dict):
                seen.append((block.get("height"), block.get("hash")))
        for height, block_hash in seen:
            if isinstance(height, int) and block_hash and height <= final_limit:
                by_height.setdefault(height, {})[sample["endpoint"]] = block_hash
    for height in sorted(by_height):
        hashes = by_height[height]
        if len(set(hashes.values())) > 1:
            return _fork_alert(up, height, hashes)
    return None


def _fork_alert(up, compared: int, hashes: dict[str, str]) -> dict[str, Any]:
    """The fork point and the diverging node(s), from the probe's bisection when it ran."""
    located = {
        s["endpoint"]: s["fork_point"]
        for s in up
        if isinstance(s.get("fork_point"), dict) and s["endpoint"] in hashes
    }
    heights = {f.get("height") for f in located.values()}
    point = heights.pop() if len(heights) == 1 else None
    if len(located) == len(hashes) and isinstance(point, int) and 0 <= point <= compared:
        height = point
        hashes = {e: f.get("hash") for e, f in located.items()}
    else:
        height = compared
    parted = split(hashes)
    return {
        "rule": "fork",
        "height": height,
        "hashes": parted["diverging_hashes"],
        "majority": parted["majority"],
        "majority_hash": parted["majority_hash"],
        "compared_height": compared,
    }


def _samples_of(series, endpoint: str):
    for probe_ in series:
        sample = next((s for s in probe_ if s["endpoint"] == endpoint), None)
        if sample is not None:
            yield sample


def _down_probes(series, endpoint: str) -> int:
    """How many of the endpoint's last samples in a row did not answer."""
    count = 0
    for sample in reversed(list(_samples_of(series, endpoint))):
        if sample.get("up"):
            break
        count += 1
    return count


def _recent_latencies(series, endpoint: str, since: float) -> list[float]:
    return [
        s["latency_s"]
        for s in _samples_of(series, endpoint)
        if s.get("up") and s.get("latency_s") is not None and s["at"] >= since
    ]


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
    samples = probe(target, finality_depth=p.finality_depth)
    raised = alerts([samples], p)
    rec.result.metrics.update({"samples": samples, "alerts": raised})
    for rule in ("node_down", "latency_over_bound", "fork"):
        hits = [a for a in raised if a["rule"] == rule]
        message = ""
        if hits and rule == "fork":
            fork = hits[0]
            message = fork_sentence(
                fork["height"],
                {
                    "majority": fork["majority"],
                    "majority_hash": fork["majority_hash"],
                    "diverging": list(fork["hashes"]),
                    "diverging_hashes": fork["hashes"],
                },
            )
        rec.check(
            rule, not hits, f"no {rule.replace('_', ' ')} alert", message=message, alerts=hits
        )
    return rec.finish()
