"""Consensus suite: do the nodes of one network agree, keep up, and never reorganise?

Polls every endpoint of the target at once, every ``poll_interval_s`` for ``duration_s``,
then compares the nodes' blocks at the heights all of them hold as final (at least
``finality_depth`` below the lowest head). Guarantees these checks:

- ``safety``: no two nodes hold different blocks at one final height. A violation is
  reported fork point first (the lowest height at which the nodes hold different blocks,
  found by bisection), naming the diverging node(s) against the majority (or an even split
  with no majority), then the compared height and each node's hash. Needs two endpoints;
  with one it is not judged.
- ``same_chain_id``: every node reports the same eth_chainId.
- ``height_lag``: the highest and lowest heads, read at the same moment, are never more
  than ``max_height_lag`` blocks apart.
- ``reorgs``: no node replaced a block it had shown as its head (or the parent of it) by
  one deeper than ``max_reorg_depth`` (0: a BFT chain never reorganises).
- ``availability``: each node answered at least ``min_availability`` of the polls.
- ``head_progress`` (liveness): every node's head advances over the window. A node that
  stays at one height for a window at least ``stall_intervals`` block intervals long fails,
  named with its height; a shorter window leaves a node that did not move not judged. The
  block interval is ``expected_interval_s`` when given, else the chain's own recent pace
  (the mean interval of the 20 blocks below the highest head).

Heights are decimal in evidence and messages; each failed check's message names the node,
the height and how far from the bound.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..errors import EngineError
from ..results import Progress, Recorder, SuiteResult, Target, parse_parameters, require
from ..rpc import RpcClient, quantity
from .common import (
    checked_block,
    client,
    fork_point,
    fork_sentence,
    names,
    number_of,
    recent_interval,
    seconds,
    short,
    split,
)

MAX_REORG_WALK = 128


@dataclass(frozen=True)
class ConsensusParameters:
    duration_s: float = 20.0
    """How long the nodes are polled."""
    poll_interval_s: float = 0.5
    """Time between two polls of every node."""
    finality_depth: int = 0
    """Blocks below the lowest head before a height counts as final (0 for BFT chains)."""
    compare_blocks: int = 50
    """How many of the latest final heights are compared across nodes at the end."""
    max_height_lag: int = 5
    """Largest acceptable gap, in blocks, between the highest and the lowest head."""
    max_reorg_depth: int = 0
    """Deepest acceptable reorganisation, in blocks."""
    min_availability: float = 0.95
    """Smallest acceptable share of polls each node must answer."""
    expected_interval_s: float | None = None
    """The block time the network claims; None takes the chain's recent pace."""
    stall_intervals: float = 5.0
    """Block intervals a node's head may stand still before it counts as stalled."""

    def validate(self) -> None:
        require(0 <= self.duration_s <= 24 * 3600, "duration_s must be 0-86400")
        require(self.poll_interval_s > 0, "poll_interval_s must be positive")
        require(self.finality_depth >= 0, "finality_depth must not be negative")
        require(1 <= self.compare_blocks <= 10_000, "compare_blocks must be 1-10000")
        require(self.max_height_lag >= 0, "max_height_lag must not be negative")
        require(self.max_reorg_depth >= 0, "max_reorg_depth must not be negative")
        require(0 <= self.min_availability <= 1, "min_availability must be between 0 and 1")
        require(
            self.expected_interval_s is None or self.expected_interval_s > 0,
            "expected_interval_s must be positive",
        )
        require(1 <= self.stall_intervals <= 1000, "stall_intervals must be 1-1000")


class _Node:
    def __init__(self, rpc: RpcClient):
        self.rpc = rpc
        self.endpoint = rpc.endpoint
        self.seen: dict[int, str] = {}
        self.first: int | None = None
        self.last: int | None = None
        self.answered = 0
        self.polls = 0
        self.errors: list[str] = []
        self.heads: list[list[float]] = []
        self.reorgs: list[dict] = []


def run(
    target: Target,
    parameters: dict | ConsensusParameters | None = None,
    progress: Progress | None = None,
) -> SuiteResult:
    """Run the consensus suite over every endpoint of ``target``; see the module docstring."""
    p = parse_parameters(ConsensusParameters, parameters)
    rec = Recorder("consensus", target, p, progress)
    endpoints = list(dict.fromkeys(target.endpoints))
    nodes = [_Node(client(target, e)) for e in endpoints]
    try:
        with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
            chain_ids = _chain_ids(nodes, pool)
            lags, same_height_forks = _poll(nodes, pool, p, rec)
            rec.progress(80, "comparing final blocks across nodes")
            violations, fork = _compare(nodes, p, same_height_forks)
        interval = p.expected_interval_s or _pace(nodes)
        _judge(nodes, chain_ids, lags, violations, fork, p, rec)
        _judge_progress(nodes, interval, p, rec)
    finally:
        for node in nodes:
            node.rpc.close()
    return rec.finish()


def _chain_ids(nodes, pool) -> dict[str, int | None]:
    def one(node):
        try:
            return quantity(node.rpc.call("eth_chainId"), "eth_chainId", node.endpoint)
        except EngineError as exc:
            node.errors.append(str(exc))
            return None

    return dict(zip((n.endpoint for n in nodes), pool.map(one, nodes), strict=True))


def _latest(node: _Node) -> dict | None:
    try:
        block = checked_block(node.rpc.call("eth_getBlockByNumber", "latest", False), node.endpoint)
    except EngineError as exc:
        node.errors.append(str(exc))
        return None
    return block


def _poll(nodes, pool, p: ConsensusParameters, rec: Recorder):
    lags: list[list[float]] = []
    forks: dict[int, dict[str, str]] = {}
    start = time.monotonic()
    rec.progress(0, f"polling {len(nodes)} node(s) for {p.duration_s:g} s")
    worst: dict | None = None
    while True:
        t = round(time.monotonic() - start, 3)
        heads = list(pool.map(_latest, nodes))
        by_height: dict[int, dict[str, str]] = {}
        for node, block in zip(nodes, heads, strict=True):
            node.polls += 1
            if block is None:
                continue
            node.answered += 1
            n = number_of(block, node.endpoint)
            node.heads.append([t, n])
            if node.first is None:
                node.first = n
            _track(node, n, block, t)
            by_height.setdefault(n, {})[node.endpoint] = block["hash"]
        for n, hashes in by_height.items():
            if len(set(hashes.values())) > 1:
                forks.setdefault(n, hashes)
        answered = [
            (number_of(b, node.endpoint), node.endpoint)
            for node, b in zip(nodes, heads, strict=True)
            if b is not None
        ]
        if len(answered) > 1:
            (low, behind), (high, ahead) = min(answered), max(answered)
            lags.append([t, high - low])
            if worst is None or high - low > worst["lag"]:
                worst = {"lag": high - low, "at_s": t, "ahead": ahead, "height_ahead": high}
                worst.update(behind=behind, height_behind=low)
        elapsed = time.monotonic() - start
        rec.progress(75 * min(1.0, elapsed / p.duration_s) if p.duration_s else 75)
        if elapsed >= p.duration_s:
            break
        time.sleep(min(p.poll_interval_s, max(0.0, p.duration_s - elapsed)))
    return (lags, worst), forks


def _track(node: _Node, n: int, block: dict, t: float) -> None:
    """Record a head; detect a reorganisation against the heads seen before."""
    replaced = None
    if n in node.seen and node.seen[n] != block["hash"]:
        replaced = n
    elif n - 1 in node.seen and node.seen[n - 1] != block["parentHash"]:
        replaced = n - 1
    elif node.last is not None and n < node.last:
        replaced = n
    if replaced is not None:
        depth = _reorg_depth(node, replaced)
        node.reorgs.append(
            {
                "height": replaced,
                "old_hash": node.seen.get(replaced),
                "new_hash": block["hash"] if replaced == n else block["parentHash"],
                "old_head": node.last,
                "depth": depth,
                "at_s": t,
            }
        )
        for h in [h for h in node.seen if h > n]:
            del node.seen[h]
    node.seen[n] = block["hash"]
    node.last = n


def _reorg_depth(node: _Node, height: int) -> int:
    """Blocks replaced: from the old head down to the highest height still agreeing."""
    old_head = node.last if node.last is not None else height
    h = height
    for _ in range(MAX_REORG_WALK):
        h -= 1
        if h < 0 or h not in node.seen:
            break
        try:
            block = node.rpc.call("eth_getBlockByNumber", hex(h), False)
        except EngineError:
            break
        if block and block.get("hash") == node.seen[h]:
            break
    return max(1, old_head - h)


def _hashes_at(nodes, heights: list[int]) -> dict[int, dict[str, str | None]]:
    table: dict[int, dict[str, str | None]] = {h: {} for h in heights}
    for node in nodes:
        for i in range(0, len(heights), 100):
            part = heights[i : i + 100]
            try:
                blocks = node.rpc.batch([("eth_getBlockByNumber", (hex(h), False)) for h in part])
            except EngineError as exc:
                node.errors.append(str(exc))
                continue
            for h, block in zip(part, blocks, strict=True):
                table[h][node.endpoint] = block.get("hash") if isinstance(block, dict) else None
    return table


def _compare(nodes, p: ConsensusParameters, forks: dict[int, dict[str, str]]):
    if len(nodes) < 2:
        return [], None
    lasts = [n.last for n in nodes if n.last is not None]
    if len(lasts) < 2:
        return [], None
    final = min(lasts) - p.finality_depth
    if final < 0:
        return [], None
    heights = sorted(
        set(range(max(0, final - p.compare_blocks + 1), final + 1))
        | {h for h in forks if h <= final}
    )
    table = _hashes_at(nodes, heights)
    violations = []
    for h in heights:
        present = {e: v for e, v in table[h].items() if v is not None}
        if len(set(present.values())) > 1:
            violations.append({"height": h, "hashes": present})
    if not violations:
        return violations, None
    point = fork_point(lambda h: _differ(nodes, h), violations[0]["height"])
    at_point = _hashes_at(nodes, [point])[point]
    fork = {"fork_point": point, **split(at_point), "fork_point_hashes": at_point}
    return violations, fork


def _differ(nodes, height: int) -> bool:
    present = {v for v in _hashes_at(nodes, [height])[height].values() if v is not None}
    return len(present) > 1


def _pace(nodes) -> float | None:
    """The chain's recent block interval, read from the node with the highest head."""
    answered = [n for n in nodes if n.last is not None]
    if not answered:
        return None
    leader = max(answered, key=lambda n: n.last)
    try:
        return recent_interval(leader.rpc, leader.last)
    except EngineError as exc:
        leader.errors.append(str(exc))
        return None


def _judge(nodes, chain_ids, lag_record, violations, fork, p: ConsensusParameters, rec: Recorder):
    lags, worst = lag_record
    reorgs = [dict(r, endpoint=n.endpoint) for n in nodes for r in n.reorgs]
    lag_values = [lag for _, lag in lags]
    availability = {n.endpoint: (n.answered / n.polls if n.polls else 0.0) for n in nodes}
    deepest = max((r["depth"] for r in reorgs), default=0)
    rec.result.metrics.update(
        {
            "nodes": [n.endpoint for n in nodes],
            "chain_ids": chain_ids,
            "heads": {n.endpoint: n.last for n in nodes},
            "first_heads": {n.endpoint: n.first for n in nodes},
            "polls": max((n.polls for n in nodes), default=0),
            "max_height_lag": max(lag_values, default=0),
            "mean_height_lag": round(sum(lag_values) / len(lag_values), 3) if lag_values else 0,
            "safety_violations": len(violations),
            "fork_point": fork["fork_point"] if fork else None,
            "reorgs": len(reorgs),
            "deepest_reorg": deepest,
            "availability": availability,
            "errors": {n.endpoint: n.errors[:10] for n in nodes if n.errors},
        }
    )
    rec.result.charts.update({"heads": {n.endpoint: n.heads for n in nodes}, "height_lag": lags})
    multi = len(nodes) > 1
    _judge_safety(nodes, violations, fork, multi, rec)
    known = {c for c in chain_ids.values() if c is not None}
    ids_message = "one endpoint: nothing to compare" if not multi else ""
    if len(known) > 1:
        ids_message = "the nodes report different chain ids: " + ", ".join(
            f"{e} reports {c}" for e, c in chain_ids.items() if c is not None
        )
    rec.check(
        "same_chain_id",
        len(known) <= 1 if multi else None,
        "every node reports the same chain id",
        message=ids_message,
        chain_ids=chain_ids,
    )
    lag_ok = (max(lag_values) <= p.max_height_lag) if lag_values else None
    lag_message = "" if lag_values else "fewer than two nodes answered the same poll"
    if lag_ok is False and worst is not None:
        lag_message = (
            f"{worst['at_s']:g} s into the window {worst['behind']} was at height "
            f"{worst['height_behind']}, {worst['lag']} blocks behind {worst['ahead']} at "
            f"{worst['height_ahead']}: above the bound of {p.max_height_lag} by "
            f"{worst['lag'] - p.max_height_lag}"
        )
    rec.check(
        "height_lag",
        lag_ok,
        f"the heads are never more than {p.max_height_lag} blocks apart",
        message=lag_message,
        max_lag=max(lag_values, default=None),
        bound=p.max_height_lag,
        worst=worst,
    )
    reorg_message = ""
    if deepest > p.max_reorg_depth:
        r = max(reorgs, key=lambda r: r["depth"])
        reorg_message = (
            f"{r['endpoint']} replaced its block at height {r['height']} "
            f"({short(r['old_hash'])} by {short(r['new_hash'])}) {r['at_s']:g} s into the "
            f"window, {r['depth']} block(s) deep: above the bound of {p.max_reorg_depth} "
            f"by {r['depth'] - p.max_reorg_depth}"
        )
    rec.check(
        "reorgs",
        deepest <= p.max_reorg_depth,
        f"no reorganisation deeper than {p.max_reorg_depth} blocks",
        message=reorg_message,
        reorgs=reorgs[:20],
        bound=p.max_reorg_depth,
    )
    short_of = {e: a for e, a in availability.items() if a < p.min_availability}
    polls = {n.endpoint: n.polls for n in nodes}
    rec.check(
        "availability",
        not short_of,
        f"every node answered at least {p.min_availability:.0%} of the polls",
        message="; ".join(
            f"{e} answered {a:.0%} of {polls[e]} polls, below {p.min_availability:.0%} by "
            f"{p.min_availability - a:.0%}"
            for e, a in short_of.items()
        ),
        availability=availability,
    )


def _judge_safety(nodes, violations, fork, multi: bool, rec: Recorder) -> None:
    first = violations[0] if violations else None
    judged = multi and any(n.last is not None for n in nodes)
    message = "" if judged else "one endpoint: nothing to compare"
    evidence: dict = {}
    if fork is not None:
        # The fork point leads: it is where the chains parted, whatever height was compared.
        evidence = {
            "fork_point": fork["fork_point"],
            "diverging": fork["diverging"],
            "majority": fork["majority"],
            "fork_point_hashes": fork["fork_point_hashes"],
        }
        message = fork_sentence(fork["fork_point"], fork)
        if first and first["height"] != fork["fork_point"]:
            message += f"; they still differ at the compared height {first['height']}"
    elif first:
        evidence = {"fork_point": None}
    rec.check(
        "safety",
        (not violations) if judged else None,
        "no two nodes hold different blocks at one final height",
        message=message,
        **evidence,
        height=first["height"] if first else None,
        hashes=first["hashes"] if first else None,
        violations=violations[:20],
    )


def _judge_progress(nodes, interval: float | None, p: ConsensusParameters, rec: Recorder) -> None:
    """Every node's head advances over the window; a node that stands still is named."""
    watched = [n for n in nodes if n.answered >= 2 and n.first is not None]
    moved = [n for n in watched if n.last > n.first]
    still = [n for n in watched if n.last <= n.first]
    window = p.stall_intervals * interval if interval else None
    long_enough = window is not None and p.duration_s >= window
    rec.result.metrics.update(
        {
            "block_interval_basis_s": round(interval, 3) if interval else None,
            "stall_window_s": round(window, 3) if window else None,
            "stalled_nodes": [n.endpoint for n in still] if long_enough else [],
        }
    )
    progress = {n.endpoint: {"from": n.first, "to": n.last} for n in nodes}
    if not watched:
        outcome, message = None, "no node answered two polls: nothing to compare"
    elif not still:
        outcome, message = True, ""
    elif not long_enough:
        basis = (
            "the block interval is unknown"
            if window is None
            else (
                f"the stall window is {p.stall_intervals:g} intervals of {seconds(interval)}, "
                f"{seconds(window)}"
            )
        )
        outcome = None
        message = (
            f"{names([n.endpoint for n in still])} did not advance in the "
            f"{p.duration_s:g} s window, too short to call a stall ({basis})"
        )
    else:
        outcome = False
        stood = "; ".join(f"{n.endpoint} stayed at height {n.last}" for n in still)
        message = f"stalled: {stood} for the whole {p.duration_s:g} s window"
        if moved:
            message += "; meanwhile " + "; ".join(
                f"{n.endpoint} advanced from {n.first} to {n.last}" for n in moved
            )
        message += (
            f" (a block every {seconds(interval)} was expected; the stall window is "
            f"{p.stall_intervals:g} intervals, {seconds(window)})"
        )
    rec.check(
        "head_progress",
        outcome,
        "every node's head advances over the observation window",
        message=message,
        stalled=[n.endpoint for n in still] if outcome is False else [],
        progress=progress,
        window_s=p.duration_s,
        stall_window_s=round(window, 3) if window else None,
    )
