"""Block suite: is the chain a well-formed, steadily growing chain of blocks?

Examines the latest ``blocks`` blocks of the target's first endpoint (after watching the
head for ``observe_seconds``) and guarantees these checks:

- ``parent_hash_linkage``: every block's parentHash is the hash of the block below it;
- ``monotonic_heights``: the block returned for height n says it is block n, and the head
  never moves backwards while watched;
- ``monotonic_timestamps``: each timestamp is greater than its parent's (or equal, with
  ``strict_timestamps`` false), and none is more than ``max_clock_skew_s`` ahead of the
  engine's clock;
- ``no_stall``: no interval between consecutive blocks exceeds ``max_interval_s``;
- ``block_interval`` (only with ``expected_interval_s``): the mean interval is within
  ``interval_tolerance`` (a fraction) of the expected one;
- ``empty_block_ratio`` (only with ``max_empty_ratio``): the share of blocks without
  transactions is at most that.

Metrics: heights examined, interval statistics from timestamps and, when watched, from
arrival times, the empty-block ratio, transactions per block and gas utilisation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..results import Progress, Recorder, SuiteResult, Target, parse_parameters, require
from ..rpc import quantity
from ..stats import describe
from .common import client, fetch_blocks, head, number_of, timestamp_of


@dataclass(frozen=True)
class BlockParameters:
    blocks: int = 100
    """How many of the latest blocks to examine."""
    observe_seconds: float = 10.0
    """How long to watch the head grow first (0 to skip); gives arrival-time intervals."""
    poll_interval_s: float = 0.1
    """How often the head is read while watching."""
    strict_timestamps: bool = True
    """Require each timestamp to be strictly greater than its parent's (as Ethereum does)."""
    max_clock_skew_s: float = 15.0
    """How far ahead of the engine's clock a block timestamp may be."""
    max_interval_s: float = 60.0
    """Longest acceptable gap between consecutive blocks: more is a stall."""
    expected_interval_s: float | None = None
    """The block time the network claims; None reports the interval without judging it."""
    interval_tolerance: float = 0.5
    """Allowed relative deviation of the mean interval from ``expected_interval_s``."""
    max_empty_ratio: float | None = None
    """Largest acceptable share of empty blocks; None reports the ratio without judging it."""

    def validate(self) -> None:
        require(2 <= self.blocks <= 10_000, "blocks must be between 2 and 10000")
        require(0 <= self.observe_seconds <= 3600, "observe_seconds must be 0-3600")
        require(self.poll_interval_s > 0, "poll_interval_s must be positive")
        require(self.max_interval_s > 0, "max_interval_s must be positive")
        require(self.interval_tolerance >= 0, "interval_tolerance must not be negative")
        require(
            self.max_empty_ratio is None or 0 <= self.max_empty_ratio <= 1,
            "max_empty_ratio must be between 0 and 1",
        )


def run(
    target: Target,
    parameters: dict | BlockParameters | None = None,
    progress: Progress | None = None,
) -> SuiteResult:
    """Run the block suite against ``target.endpoints[0]``; see the module docstring."""
    p = parse_parameters(BlockParameters, parameters)
    rec = Recorder("block", target, p, progress)
    with client(target) as rpc:
        arrivals, head_regressions = _observe(rpc, p, rec)
        top = head(rpc)
        first = max(0, top - p.blocks + 1)
        rec.progress(60, f"examining blocks {first}..{top}")
        blocks = fetch_blocks(rpc, list(range(first, top + 1)))
        _judge(rpc.endpoint, blocks, first, top, arrivals, head_regressions, p, rec)
    return rec.finish()


def _observe(rpc, p: BlockParameters, rec: Recorder) -> tuple[list[tuple[int, float]], list]:
    """Watch the head for observe_seconds; (height, arrival time) pairs and any regressions."""
    arrivals: list[tuple[int, float]] = []
    regressions: list[dict] = []
    if p.observe_seconds <= 0:
        return arrivals, regressions
    rec.progress(0, f"watching the head of {rpc.endpoint} for {p.observe_seconds:g} s")
    start = time.monotonic()
    last = head(rpc)
    while (elapsed := time.monotonic() - start) < p.observe_seconds:
        time.sleep(p.poll_interval_s)
        now_head = head(rpc)
        if now_head > last:
            arrivals.append((now_head, time.monotonic() - start))
        elif now_head < last:
            regressions.append({"from": last, "to": now_head, "at_s": round(elapsed, 3)})
        last = now_head
        rec.progress(55 * elapsed / p.observe_seconds)
    return arrivals, regressions


def _judge(endpoint, blocks, first, top, arrivals, head_regressions, p, rec: Recorder) -> None:
    heights = sorted(blocks)
    broken_links, wrong_numbers, bad_times, future = [], [], [], []
    intervals: list[tuple[int, int]] = []
    tx_counts, gas_ratios = [], []
    now = time.time()
    for n in heights:
        block = blocks[n]
        if number_of(block, endpoint) != n:
            wrong_numbers.append({"asked": n, "got": number_of(block, endpoint)})
        ts = timestamp_of(block, endpoint)
        if ts > now + p.max_clock_skew_s:
            future.append({"height": n, "timestamp": ts, "ahead_s": round(ts - now, 3)})
        tx_counts.append(len(block["transactions"]))
        if block.get("gasLimit") and block.get("gasUsed"):
            limit = quantity(block["gasLimit"], "gasLimit", endpoint)
            if limit:
                gas_ratios.append(quantity(block["gasUsed"], "gasUsed", endpoint) / limit)
        parent = blocks.get(n - 1)
        if parent is None:
            continue
        if block["parentHash"] != parent["hash"]:
            broken_links.append(
                {"height": n, "parent_hash": block["parentHash"], "block_below": parent["hash"]}
            )
        delta = ts - timestamp_of(parent, endpoint)
        intervals.append((n, delta))
        if delta < 0 or (p.strict_timestamps and delta == 0):
            bad_times.append({"height": n, "interval_s": delta})

    missing = [n for n in range(first, top + 1) if n not in blocks]
    values = [d for _, d in intervals]
    stats = describe(values)
    empty = sum(1 for c in tx_counts if c == 0)
    empty_ratio = empty / len(tx_counts) if tx_counts else None
    arrival_gaps = [b - a for (_, a), (_, b) in zip(arrivals, arrivals[1:], strict=False)]
    rec.result.metrics.update(
        {
            "endpoint": endpoint,
            "head": top,
            "first_height": first,
            "blocks_examined": len(blocks),
            "missing_heights": missing[:50],
            "interval_s": stats,
            "observed_arrival_interval_s": describe(arrival_gaps),
            "blocks_seen_while_watching": len(arrivals),
            "empty_blocks": empty,
            "empty_block_ratio": round(empty_ratio, 4) if empty_ratio is not None else None,
            "transactions": sum(tx_counts),
            "transactions_per_block": describe(tx_counts),
            "gas_utilisation": describe(gas_ratios),
        }
    )
    rec.result.charts.update(
        {
            "block_interval_s": [[n, d] for n, d in intervals],
            "transactions_per_block": [[n, c] for n, c in zip(heights, tx_counts, strict=True)],
            "arrival_s": [[n, round(t, 4)] for n, t in arrivals],
        }
    )
    rec.check(
        "parent_hash_linkage",
        not broken_links and not missing,
        "every block's parentHash is the hash of the block below it",
        broken=broken_links[:20],
        missing_heights=missing[:20],
        links_checked=len(intervals),
    )
    rec.check(
        "monotonic_heights",
        not wrong_numbers and not head_regressions,
        "each block is at the height it claims and the head never moves backwards",
        wrong_numbers=wrong_numbers[:20],
        head_regressions=head_regressions[:20],
    )
    rec.check(
        "monotonic_timestamps",
        not bad_times and not future,
        "timestamps increase from parent to child and are not in the future",
        out_of_order=bad_times[:20],
        in_the_future=future[:20],
        strict=p.strict_timestamps,
    )
    longest = max(values) if values else None
    rec.check(
        "no_stall",
        None if longest is None else longest <= p.max_interval_s,
        f"no gap between blocks exceeds {p.max_interval_s:g} s",
        longest_interval_s=longest,
        bound_s=p.max_interval_s,
    )
    if p.expected_interval_s is not None:
        mean = stats["mean"]
        ok = None
        if mean is not None:
            ok = abs(mean - p.expected_interval_s) <= p.interval_tolerance * p.expected_interval_s
        rec.check(
            "block_interval",
            ok,
            f"mean interval within {p.interval_tolerance:.0%} of {p.expected_interval_s:g} s",
            mean_interval_s=mean,
            expected_s=p.expected_interval_s,
        )
    if p.max_empty_ratio is not None:
        rec.check(
            "empty_block_ratio",
            None if empty_ratio is None else empty_ratio <= p.max_empty_ratio,
            f"at most {p.max_empty_ratio:.0%} of blocks are empty",
            empty_block_ratio=empty_ratio,
            bound=p.max_empty_ratio,
        )
