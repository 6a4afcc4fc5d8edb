"""Ethereum JSON-RPC clients over HTTP: ``RpcClient`` (blocking) and ``AsyncRpcClient``.

Both guarantee:
- every request passes the guard first (``guard.Guard.check``), and sockets are opened only
  to addresses the guard checked at connect time; environment proxies are ignored and
  redirects are not followed, so nothing reaches a host the guard did not approve;
- a timeout on every request (``timeout`` seconds, default 10);
- retries, with a short backoff, only when every method in the request is an idempotent
  read (``READ_METHODS``) and the failure is the transport's; a transaction is sent once;
- clear errors: ``NodeUnreachable`` (no answer), ``NonConformingNode`` (an answer that is
  not JSON-RPC 2.0: bad JSON, wrong ``jsonrpc``, missing or mismatched ids, neither
  ``result`` nor ``error``), ``RpcError`` (the node's own error object).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

import httpcore
import httpx

from . import bounded
from .errors import (
    NodeUnreachable,
    NonConformingNode,
    RpcError,
    answer_size,
    connection_failure,
    value_kind,
)
from .guard import Guard

READ_METHODS = frozenset(
    {
        "web3_clientVersion",
        "net_version",
        "net_peerCount",
        "net_listening",
        "eth_chainId",
        "eth_syncing",
        "eth_blockNumber",
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
        "eth_feeHistory",
        "eth_getBalance",
        "eth_getCode",
        "eth_getStorageAt",
        "eth_getTransactionCount",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getBlockTransactionCountByNumber",
        "eth_getBlockTransactionCountByHash",
        "eth_getTransactionByHash",
        "eth_getTransactionByBlockNumberAndIndex",
        "eth_getTransactionReceipt",
        "eth_getBlockReceipts",
        "eth_getLogs",
        "eth_call",
        "eth_estimateGas",
        "eth_accounts",
    }
)

RETRYABLE_STATUS = {502, 503, 504}
DEFAULT_TIMEOUT = 10.0

Call = tuple[str, Sequence[Any]]


def quantity(value: Any, what: str, endpoint: str) -> int:
    """Decode a JSON-RPC hex quantity (``"0x1a"``), or raise ``NonConformingNode``."""
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise NonConformingNode(endpoint, f"{what} is not a hex quantity ({value_kind(value)})")


def field(obj: Any, name: str, what: str, endpoint: str) -> Any:
    """``obj[name]``, or ``NonConformingNode`` naming what was missing."""
    if not isinstance(obj, dict) or name not in obj:
        raise NonConformingNode(endpoint, f"{what} has no {name!r}")
    return obj[name]


# --- wire format -------------------------------------------------------------------------


def _payload(calls: Sequence[Call], ids: Iterable[int]) -> list[dict]:
    return [
        {"jsonrpc": "2.0", "id": i, "method": method, "params": list(params)}
        for i, (method, params) in zip(ids, calls, strict=False)
    ]


def _check_response(obj: Any, endpoint: str) -> None:
    if not isinstance(obj, dict):
        raise NonConformingNode(endpoint, f"a response is {value_kind(obj)}, not a JSON object")
    if obj.get("jsonrpc") != "2.0":
        raise NonConformingNode(endpoint, "jsonrpc is not '2.0'")
    has_result, has_error = "result" in obj, "error" in obj
    if has_result == has_error:
        raise NonConformingNode(endpoint, "a response must carry exactly one of result or error")
    if has_error:
        error = obj["error"]
        if (
            not isinstance(error, dict)
            or not isinstance(error.get("code"), int)
            or not isinstance(error.get("message"), str)
        ):
            raise NonConformingNode(endpoint, f"malformed error object ({value_kind(error)})")


def _outcome(obj: dict, method: str, endpoint: str) -> Any:
    if "error" in obj:
        e = obj["error"]
        return RpcError(endpoint, method, e["code"], e["message"], e.get("data"))
    return obj["result"]


def _decode(body: bytes, requests: list[dict], batch: bool, endpoint: str) -> list[Any]:
    """Results (or RpcError instances) in request order."""
    try:
        parsed = bounded.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise NonConformingNode(endpoint, f"the answer is not JSON ({answer_size(body)})") from None
    if not batch:
        _check_response(parsed, endpoint)
        if parsed.get("id") != requests[0]["id"]:
            raise NonConformingNode(
                endpoint, f"the response id is not the request id {requests[0]['id']}"
            )
        return [_outcome(parsed, requests[0]["method"], endpoint)]
    if isinstance(parsed, dict):
        # A node that cannot take batches answers the whole batch with one error.
        _check_response(parsed, endpoint)
        if "error" in parsed:
            raise _outcome(parsed, "batch", endpoint)
        raise NonConformingNode(endpoint, "a batch was answered with a single result")
    if not isinstance(parsed, list):
        raise NonConformingNode(endpoint, "a batch answer is not a JSON array")
    by_id: dict[Any, dict] = {}
    for obj in parsed:
        _check_response(obj, endpoint)
        if obj.get("id") in by_id:
            raise NonConformingNode(endpoint, "a duplicate id in a batch answer")
        by_id[obj.get("id")] = obj
    missing = [r["id"] for r in requests if r["id"] not in by_id]
    if missing or len(by_id) != len(requests):
        raise NonConformingNode(
            endpoint, f"batch answer ids do not match the request (missing {missing[:5]})"
        )
    return [_outcome(by_id[r["id"]], r["method"], endpoint) for r in requests]


def _body_or_error(response: httpx.Response, endpoint: str) -> bytes:
    if response.status_code in RETRYABLE_STATUS:
        raise NodeUnreachable(endpoint, f"HTTP {response.status_code}")
    content_type = response.headers.get("content-type", "")
    if response.status_code >= 400 and "json" not in content_type:
        raise NonConformingNode(
            endpoint, f"HTTP {response.status_code} ({answer_size(response.content)})"
        )
    return response.content


def _unreachable(exc: Exception, endpoint: str) -> NodeUnreachable:
    if isinstance(exc, httpx.TimeoutException):
        return NodeUnreachable(endpoint, "timed out")
    return NodeUnreachable(endpoint, connection_failure(exc))


def _is_read(calls: Sequence[Call]) -> bool:
    return all(method in READ_METHODS for method, _ in calls)


# --- guarded network backends --------------------------------------------------------------


class _GuardedSyncBackend(httpcore.SyncBackend):
    def __init__(self, guard: Guard):
        self._guard = guard

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        last: Exception | None = None
        for address in self._guard.connect_addresses(host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are not engine targets")


class _GuardedAsyncBackend(httpcore.AnyIOBackend):
    def __init__(self, guard: Guard):
        self._guard = guard

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        last: Exception | None = None
        for address in self._guard.connect_addresses(host, port):
            try:
                return await super().connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are not engine targets")


def _limits(max_connections: int) -> httpx.Limits:
    return httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=30,
    )


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool opened through the guarded backend."""

    def __init__(self, guard: Guard, max_connections: int):
        super().__init__(trust_env=False, limits=_limits(max_connections))
        limits = _limits(max_connections)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedSyncBackend(guard),
        )


class _GuardedAsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self, guard: Guard, max_connections: int):
        super().__init__(trust_env=False, limits=_limits(max_connections))
        limits = _limits(max_connections)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedAsyncBackend(guard),
        )


# --- clients -----------------------------------------------------------------------------


class _Base:
    def __init__(
        self,
        endpoint: str,
        *,
        allowed: Iterable[str] | Guard,
        timeout: float = DEFAULT_TIMEOUT,
        read_retries: int = 2,
        retry_backoff: float = 0.2,
    ):
        self.guard = allowed if isinstance(allowed, Guard) else Guard(allowed)
        self.endpoint = self.guard.check(endpoint).url
        self.timeout = timeout
        self.read_retries = read_retries
        self.retry_backoff = retry_backoff
        self._ids = itertools.count(1)
        self._http_timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))

    def _prepare(self, calls: Sequence[Call]) -> list[dict]:
        if not calls:
            raise ValueError("a request needs at least one call")
        return _payload(calls, (next(self._ids) for _ in calls))

    def _attempts(self, calls: Sequence[Call]) -> int:
        return 1 + (self.read_retries if _is_read(calls) else 0)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.endpoint}>"


class RpcClient(_Base):
    """A blocking JSON-RPC client for one endpoint. See the module docstring."""

    def __init__(self, endpoint: str, *, max_connections: int = 8, **kwargs):
        super().__init__(endpoint, **kwargs)
        self._http = httpx.Client(
            transport=_GuardedTransport(self.guard, max_connections),
            timeout=self._http_timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"content-type": "application/json"},
        )

    def call(self, method: str, *params: Any) -> Any:
        """One call; returns its result or raises ``RpcError``."""
        (outcome,) = self._send([(method, params)], batch=False)
        if isinstance(outcome, RpcError):
            raise outcome
        return outcome

    def batch(self, calls: Sequence[Call], *, raise_errors: bool = True) -> list[Any]:
        """Several calls in one request; results in order.

        With ``raise_errors=False`` a failed call's place holds its ``RpcError``.
        """
        outcomes = self._send(list(calls), batch=True)
        if raise_errors:
            for outcome in outcomes:
                if isinstance(outcome, RpcError):
                    raise outcome
        return outcomes

    def _send(self, calls: Sequence[Call], batch: bool) -> list[Any]:
        requests = self._prepare(calls)
        body = json.dumps(requests if batch else requests[0])
        attempts = self._attempts(calls)
        for attempt in range(attempts):
            self.guard.check(self.endpoint)
            try:
                response = self._http.post(self.endpoint, content=body)
                return _decode(
                    _body_or_error(response, self.endpoint), requests, batch, self.endpoint
                )
            except (httpx.TransportError, NodeUnreachable) as exc:
                error = (
                    exc if isinstance(exc, NodeUnreachable) else _unreachable(exc, self.endpoint)
                )
                if attempt + 1 >= attempts:
                    raise error from None
                time.sleep(self.retry_backoff * (2**attempt))
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class AsyncRpcClient(_Base):
    """The asyncio twin of ``RpcClient``, for suites that keep many requests in flight."""

    def __init__(self, endpoint: str, *, max_connections: int = 64, **kwargs):
        super().__init__(endpoint, **kwargs)
        self._http = httpx.AsyncClient(
            transport=_GuardedAsyncTransport(self.guard, max_connections),
            timeout=self._http_timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"content-type": "application/json"},
        )

    async def call(self, method: str, *params: Any) -> Any:
        (outcome,) = await self._send([(method, params)], batch=False)
        if isinstance(outcome, RpcError):
            raise outcome
        return outcome

    async def batch(self, calls: Sequence[Call], *, raise_errors: bool = True) -> list[Any]:
        outcomes = await self._send(list(calls), batch=True)
        if raise_errors:
            for outcome in outcomes:
                if isinstance(outcome, RpcError):
                    raise outcome
        return outcomes

    async def _send(self, calls: Sequence[Call], batch: bool) -> list[Any]:
        requests = self._prepare(calls)
        body = json.dumps(requests if batch else requests[0])
        attempts = self._attempts(calls)
        for attempt in range(attempts):
            self.guard.check(self.endpoint)
            try:
                response = await self._http.post(self.endpoint, content=body)
                return _decode(
                    _body_or_error(response, self.endpoint), requests, batch, self.endpoint
                )
            except (httpx.TransportError, NodeUnreachable) as exc:
                error = (
                    exc if isinstance(exc, NodeUnreachable) else _unreachable(exc, self.endpoint)
                )
                if attempt + 1 >= attempts:
                    raise error from None
                await asyncio.sleep(self.retry_backoff * (2**attempt))
        raise AssertionError("unreachable")

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncRpcClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()
