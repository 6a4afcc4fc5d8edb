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
- ``head_age`` (liveness): the head's block time is no older, against the engine's clock,
  than the stall window (``stall_intervals`` block intervals, at most ``max_interval_s``)
  plus ``clock_tolerance_s``;
- ``chain_advances`` (liveness): at least one new block arrives while the head is watched.
  No block over a watch at least as long as the stall window fails as a stall, naming the
  height and block time where the chain stopped; a shorter watch is not judged.
- ``block_interval`` (only with ``expected_interval_s``): the mean interval is within
  ``interval_tolerance`` (a fraction) of the expected one;
- ``empty_block_ratio`` (only with ``max_empty_ratio``): the share of blocks without
  transactions is at most that.

The block interval that sets the stall window is ``expected_interval_s`` when given, else the
median interval of the examined blocks' timestamps (the pace the chain kept, even if it
stopped since). A check with nothing to judge is not judged, with the reason in its
message; heights are decimal everywhere.

Metrics: heights examined, interval statistics from timestamps and, when watched, from
arrival times, the empty-block ratio, transactions per block and gas utilisation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..results import Progress, Recorder, SuiteResult, Target, parse_parameters, require
from ..rpc import quantity
from ..stats import describe
from .common import client, fetch_blocks, head, number_of, seconds, short, timestamp_of, utc


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
    stall_intervals: float = 5.0
    """Block intervals without a new block that make a stall (head age, watching)."""
    clock_tolerance_s: float = 2.0
    """How far the engine's clock and the chain's block times may disagree, in seconds."""

    def validate(self) -> None:
        require(2 <= self.blocks <= 10_000, "blocks must be between 2 and 10000")
        require(0 <= self.observe_seconds <= 3600, "observe_seconds must be 0-3600")
        require(self.poll_interval_s > 0, "poll_interval_s must be positive")
        require(self.max_interval_s > 0, "max_interval_s must be positive")
        require(self.interval_tolerance >= 0, "interval_tolerance must not be negative")
        require(1 <= self.stall_intervals <= 1000, "stall_intervals must be 1-1000")
        require(0 <= self.clock_tolerance_s <= 3600, "clock_tolerance_s must be 0-3600")
        require(
            self.expected_interval_s is None or self.expected_interval_s > 0,
            "expected_interval_s must be positive",
        )
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
        read_at = time.time()
        blocks = fetch_blocks(rpc, list(range(first, top + 1)))
        _judge(rpc.endpoint, blocks, first, top, arrivals, head_regressions, p, rec)
        _judge_liveness(rpc.endpoint, blocks, top, read_at, arrivals, p, rec)
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
    link_message = ""
    if broken_links:
        b = broken_links[0]
        link_message = (
            f"block {b['height']} names parent {short(b['parent_hash'])} but block "
            f"{b['height'] - 1} is {short(b['block_below'])}"
            f" ({len(broken_links)} broken link(s) in heights {first} to {top})"
        )
    elif missing:
        link_message = (
            f"the node has no block at height {missing[0]} below its head {top}"
            f" ({len(missing)} missing)"
        )
    rec.check(
        "parent_hash_linkage",
        not broken_links and not missing,
        "every block's parentHash is the hash of the block below it",
        message=link_message,
        broken=broken_links[:20],
        missing_heights=missing[:20],
        links_checked=len(intervals),
    )
    heights_message = ""
    if wrong_numbers:
        w = wrong_numbers[0]
        heights_message = f"asked for block {w['asked']}, the node returned block {w['got']}"
    elif head_regressions:
        r = head_regressions[0]
        heights_message = (
            f"the head moved back from height {r['from']} to {r['to']} "
            f"{r['at_s']:g} s into the watch"
        )
    rec.check(
        "monotonic_heights",
        not wrong_numbers and not head_regressions,
        "each block is at the height it claims and the head never moves backwards",
        message=heights_message,
        wrong_numbers=wrong_numbers[:20],
        head_regressions=head_regressions[:20],
    )
    times_message = ""
    if bad_times:
        b = bad_times[0]
        times_message = (
            f"block {b['height']} has a timestamp {-b['interval_s']} s before its parent's"
            if b["interval_s"] < 0
            else f"block {b['height']} has the same timestamp as its parent"
        )
    elif future:
        f = future[0]
        times_message = (
            f"block {f['height']} is dated {utc(f['timestamp'])}, {seconds(f['ahead_s'])} "
            f"ahead of the engine's clock, beyond the {p.max_clock_skew_s:g} s allowed by "
            f"{seconds(f['ahead_s'] - p.max_clock_skew_s)}"
        )
    rec.check(
        "monotonic_timestamps",
        not bad_times and not future,
        "timestamps increase from parent to child and are not in the future",
        message=times_message,
        out_of_order=bad_times[:20],
        in_the_future=future[:20],
        strict=p.strict_timestamps,
    )
    longest = max(values) if values else None
    stall_message = "fewer than two consecutive blocks to compare" if longest is None else ""
    if longest is not None and longest > p.max_interval_s:
        at = next(n for n, d in intervals if d == longest)
        stall_message = (
            f"no block for {seconds(longest)} between heights {at - 1} and {at} "
            f"(block {at} at {utc(timestamp_of(blocks[at], endpoint))}), above the "
            f"{p.max_interval_s:g} s bound by {seconds(longest - p.max_interval_s)}"
        )
    rec.check(
        "no_stall",
        None if longest is None else longest <= p.max_interval_s,
        f"no gap between blocks exceeds {p.max_interval_s:g} s",
        message=stall_message,
        longest_interval_s=longest,
        bound_s=p.max_interval_s,
    )
    if p.expected_interval_s is not None:
        mean = stats["mean"]
        ok = None
        interval_message = "fewer than two consecutive blocks to measure an interval"
        if mean is not None:
            allowed = p.interval_tolerance * p.expected_interval_s
            off = abs(mean - p.expected_interval_s)
            ok = off <= allowed
            interval_message = (
                ""
                if ok
                else f"the mean block interval over heights {first} to {top} is "
                f"{seconds(mean)}, {seconds(off)} from the claimed "
                f"{p.expected_interval_s:g} s, beyond the {seconds(allowed)} allowed by "
                f"{seconds(off - allowed)}"
            )
        rec.check(
            "block_interval",
            ok,
            f"mean interval within {p.interval_tolerance:.0%} of {p.expected_interval_s:g} s",
            message=interval_message,
            mean_interval_s=mean,
            expected_s=p.expected_interval_s,
        )
    if p.max_empty_ratio is not None:
        empty_message = "no block examined" if empty_ratio is None else ""
        if empty_ratio is not None and empty_ratio > p.max_empty_ratio:
            empty_message = (
                f"{empty} of {len(tx_counts)} blocks in heights {first} to {top} are empty "
                f"({empty_ratio:.0%}), above the {p.max_empty_ratio:.0%} bound by "
                f"{empty_ratio - p.max_empty_ratio:.0%}"
            )
        rec.check(
            "empty_block_ratio",
            None if empty_ratio is None else empty_ratio <= p.max_empty_ratio,
            f"at most {p.max_empty_ratio:.0%} of blocks are empty",
            message=empty_message,
            empty_block_ratio=empty_ratio,
            bound=p.max_empty_ratio,
        )


def _judge_liveness(endpoint, blocks, top, read_at, arrivals, p: BlockParameters, rec) -> None:
    """Head age against the engine's clock, and blocks seen while watching (a stall)."""
    heights = sorted(blocks)
    intervals = [
        timestamp_of(blocks[n], endpoint) - timestamp_of(blocks[n - 1], endpoint)
        for n in heights
        if n - 1 in blocks
    ]
    positive = [d for d in intervals if d > 0]
    if p.expected_interval_s is not None:
        interval = p.expected_interval_s
        basis = f"the claimed block time of {seconds(interval)}"
    elif positive:
        interval = describe(positive)["median"]
        basis = f"the chain's median block interval of {seconds(interval)}"
    else:
        interval, basis = None, None
    if interval is not None and p.stall_intervals * interval <= p.max_interval_s:
        window = p.stall_intervals * interval
        window_words = f"{p.stall_intervals:g} intervals of {basis}, {seconds(window)}"
    else:
        window = p.max_interval_s
        window_words = f"the longest acceptable gap of {p.max_interval_s:g} s"
    head_block = blocks.get(top)
    head_ts = timestamp_of(head_block, endpoint) if head_block is not None else None
    age = round(read_at - head_ts, 3) if head_ts is not None else None
    allowance = window + p.clock_tolerance_s
    rec.result.metrics.update(
        {
            "head_timestamp": head_ts,
            "head_time": utc(head_ts) if head_ts is not None else None,
            "head_age_s": age,
            "stall_window_s": round(window, 3),
            "block_interval_basis_s": interval,
        }
    )
    if age is None:
        outcome, message = None, f"the node did not return its head block {top}"
    elif age <= allowance:
        outcome, message = True, ""
    else:
        outcome = False
        # Seen from this node the chain has stopped: no block for longer than the stall
        # window. Whether the network or only this node stopped is the consensus suite's
        # question (head progress and lag per node).
        message = (
            f"stalled: the chain stopped at height {top} (block time {utc(head_ts)}); "
            f"the head is {seconds(age)} old by the engine's clock, above the "
            f"{seconds(allowance)} allowed ({window_words}, plus {p.clock_tolerance_s:g} s "
            f"clock tolerance) by {seconds(age - allowance)}"
        )
    rec.check(
        "head_age",
        outcome,
        "the head block is recent: no older than the stall window plus the clock tolerance",
        message=message,
        height=top,
        head_time=utc(head_ts) if head_ts is not None else None,
        age_s=age,
        bound_s=round(allowance, 3),
        clock_tolerance_s=p.clock_tolerance_s,
    )
    watched = p.observe_seconds
    if watched <= 0:
        outcome, message = None, "the head was not watched (observe_seconds is 0)"
    elif arrivals:
        outcome, message = True, ""
    elif watched >= window:
        outcome = False
        since = f" (last block {seconds(age)} before the end of the watch)" if age else ""
        message = (
            f"stalled: the chain stopped at height {top} (block time {utc(head_ts)}); "
            f"no block for {watched:g} s while watching{since}, longer than {window_words}"
        )
    else:
        outcome = None
        message = (
            f"no new block in the {watched:g} s watched, too short to call a stall "
            f"(the stall window is {window_words})"
        )
    rec.check(
        "chain_advances",
        outcome,
        "new blocks arrive while the head is watched",
        message=message,
        blocks_seen=len(arrivals),
        watched_s=watched,
        stall_window_s=round(window, 3),
        height=top,
    )
