"""Helpers the suites share: clients for a target, validated block fetching."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import NonConformingNode
from ..results import Target
from ..rpc import AsyncRpcClient, RpcClient, quantity

BLOCK_FIELDS = ("number", "hash", "parentHash", "timestamp", "transactions")


def client(target: Target, endpoint: str | None = None, **kwargs) -> RpcClient:
    """A guarded client for one of the target's endpoints (the first by default)."""
    return RpcClient(
        endpoint or target.endpoints[0], allowed=target.allowed, timeout=target.timeout, **kwargs
    )


def async_client(target: Target, endpoint: str | None = None, **kwargs) -> AsyncRpcClient:
    return AsyncRpcClient(
        endpoint or target.endpoints[0], allowed=target.allowed, timeout=target.timeout, **kwargs
    )


def head(rpc: RpcClient) -> int:
    return quantity(rpc.call("eth_blockNumber"), "eth_blockNumber", rpc.endpoint)


def checked_block(block: Any, endpoint: str, number: int | None = None) -> dict:
    """A block object with the fields every suite relies on, or NonConformingNode."""
    if not isinstance(block, dict):
        what = f"block {number}" if number is not None else "a block"
        raise NonConformingNode(endpoint, f"{what} is {block!r:.80} instead of a block object")
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
