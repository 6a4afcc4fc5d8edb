"""Helpers the suites share: clients, validated blocks, liveness and fork evidence in words."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import NonConformingNode, value_kind
from ..results import Target
from ..rpc import AsyncRpcClient, RpcClient, quantity

BLOCK_FIELDS = ("number", "hash", "parentHash", "timestamp", "transactions")


def client(target: Target, endpoint: str | None = None, **kwargs) -> RpcClient:
    """A guarded client for one of the target's endpoints (the first by default)."""
    return RpcClient(
        endpoint or target.endpoints[0], allowed=target.guard(), timeout=target.timeout, **kwargs
    )


def async_client(target: Target, endpoint: str | None = None, **kwargs) -> AsyncRpcClient:
    return AsyncRpcClient(
        endpoint or target.endpoints[0], allowed=target.guard(), timeout=target.timeout, **kwargs
    )


def head(rpc: RpcClient) -> int:
    return quantity(rpc.call("eth_blockNumber"), "eth_blockNumber", rpc.endpoint)


def checked_block(block: Any, endpoint: str, number: int | None = None) -> dict:
    """A block object with the fields every suite relies on, or NonConformingNode."""
    if not isinstance(block, dict):
        what = f"block {number}" if number is not None else "a block"
        raise NonConformingNode(endpoint, f"{what} is {value_kind(block)}, not a block object")
    for name in BLOCK_FIELDS:
        if name not in block:
            raise NonConformingNode(endpoint, f"block {number} has no {name!r}")
    if not isinstance(block["transactions"], list):
        raise NonConformingNode(endpoint, f"block {number} transactions is not a list")
    return block


def fetch_blocks(
    rpc: RpcClient, numbers: Sequence[int], full: bool = False, chunk: int = 100
) -> dict[int, dict]:
    """Blocks by number, fetched in batches; a block the node does not have is left out."""
    found: dict[int, dict] = {}
    for i in range(0, len(numbers), chunk):
        part = numbers[i : i + chunk]
        results = rpc.batch([("eth_getBlockByNumber", (hex(n), full)) for n in part])
        for n, block in zip(part, results, strict=True):
            if block is None:
                continue
            found[n] = checked_block(block, rpc.endpoint, n)
    return found


def number_of(block: dict, endpoint: str) -> int:
    return quantity(block["number"], "block number", endpoint)


def timestamp_of(block: dict, endpoint: str) -> int:
    return quantity(block["timestamp"], "block timestamp", endpoint)


# -- Words for evidence a regulator reads ------------------------------------------------


def utc(timestamp: float | None) -> str:
    """A block or clock time as ``YYYY-MM-DD HH:MM:SS UTC`` ("unknown" for None)."""
    if timestamp is None:
        return "unknown"
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def seconds(value: float) -> str:
    """A duration in words: ``1.42 s``, ``35 s``."""
    return f"{value:.2f} s" if abs(value) < 10 else f"{value:.0f} s"


def short(value: str | None, keep: int = 10) -> str:
    """A hash shortened for a sentence (evidence keeps it whole)."""
    if not value:
        return "none"
    return value if len(value) <= keep + 4 else f"{value[:keep]}…{value[-4:]}"


def names(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


# -- Liveness: how long a chain may go without a block -----------------------------------


def recent_interval(rpc: RpcClient, top: int, span: int = 20) -> float | None:
    """The mean block interval over the ``span`` blocks below ``top`` (None if unknown).

    Taken from the chain's own timestamps, so a chain that stopped still shows the pace it
    kept before it stopped.
    """
    low = max(0, top - span)
    if low == top:
        return None
    blocks = fetch_blocks(rpc, [low, top])
    if low not in blocks or top not in blocks:
        return None
    elapsed = timestamp_of(blocks[top], rpc.endpoint) - timestamp_of(blocks[low], rpc.endpoint)
    return elapsed / (top - low) if elapsed > 0 else None


# -- Forks: where nodes' chains part, and who parted -------------------------------------


def fork_point(differ: Callable[[int], bool], diverged: int) -> int:
    """The lowest height at which ``differ`` holds, knowing it holds at ``diverged``.

    Once two chains hold different blocks at a height they differ at every height above
    it (each block commits to its parent), so the heights are searched by bisection.
    """
    low, high = 0, diverged
    while low < high:
        mid = (low + high) // 2
        if differ(mid):
            high = mid
        else:
            low = mid + 1
    return high


def split(hashes: Mapping[str, str | None]) -> dict[str, Any]:
    """Who holds which block at one height: the majority, if any, and the diverging nodes.

    A majority is a block held by more than half of the nodes that answered; every node
    holding another block diverges from it. Without a majority (two nodes, or an even
    split) every node is named as diverging and ``majority`` is empty.
    """
    present = {e: h for e, h in hashes.items() if h is not None}
    groups: dict[str, list[str]] = {}
    for endpoint, block_hash in present.items():
        groups.setdefault(block_hash, []).append(endpoint)
    best = max(groups.items(), key=lambda kv: len(kv[1]), default=(None, []))
    if best[0] is not None and len(best[1]) * 2 > len(present):
        majority, majority_hash = best[1], best[0]
    else:
        majority, majority_hash = [], None
    diverging = [e for e in present if e not in majority]
    return {
        "majority": majority,
        "majority_hash": majority_hash,
        "diverging": diverging,
        "diverging_hashes": {e: present[e] for e in diverging},
    }


def fork_sentence(height: int, parted: Mapping[str, Any]) -> str:
    """One sentence naming who diverged at the fork point ``height`` (decimal)."""
    diverging = parted["diverging"]
    if parted["majority"]:
        held = ", ".join(f"{e} holds {short(h)}" for e, h in parted["diverging_hashes"].items())
        return (
            f"{names(diverging)} diverged from the majority ({names(parted['majority'])}, "
            f"block {short(parted['majority_hash'])}) at height {height}: {held}"
        )
    held = ", ".join(f"{e} holds {short(h)}" for e, h in parted["diverging_hashes"].items())
    return f"the nodes split with no majority at height {height}: {held}"
