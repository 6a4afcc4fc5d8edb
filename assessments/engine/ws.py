"""Ethereum JSON-RPC over WebSocket (asyncio): calls, batches and subscriptions.

Guarantees, like the HTTP clients in ``rpc``:
- the endpoint passes ``guard.Guard.check`` before the connection and before every
  request, and the socket is opened by the engine itself to an address the guard checked
  at connect time; a socket opened this way also makes the library refuse redirects and
  proxies, so nothing reaches a host the guard did not approve;
- every call has a timeout; a dropped connection is ``NodeUnreachable``; an answer that
  is not JSON-RPC 2.0 is ``NonConformingNode``; the node's error object is ``RpcError``;
- idempotent reads (``rpc.READ_METHODS``) are retried once on a fresh connection.

``subscribe("newHeads")`` yields each notification's result as it arrives, which lets a
watcher see new blocks without polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect

from . import bounded
from .errors import (
    EndpointRefused,
    NodeUnreachable,
    NonConformingNode,
    RpcError,
    answer_size,
    connection_failure,
    value_kind,
)
from .guard import Guard, parse_endpoint
from .rpc import DEFAULT_TIMEOUT, Call, _check_response, _is_read, _outcome, _payload

MAX_MESSAGE = 64 * 1024 * 1024


class WsRpcClient:
    """A JSON-RPC client over one WebSocket connection. Use ``async with``."""

    def __init__(
        self,
        endpoint: str,
        *,
        allowed: Iterable[str] | Guard,
        timeout: float = DEFAULT_TIMEOUT,
    ):
        self.guard = allowed if isinstance(allowed, Guard) else Guard(allowed)
        parsed = self.guard.check(endpoint)
        if parsed.scheme not in ("ws", "wss"):
            raise EndpointRefused(endpoint, "a WebSocket client needs a ws:// or wss:// URL")
        self.endpoint = parsed.url
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._waiting: dict[Any, asyncio.Future] = {}
        self._subscriptions: dict[str, asyncio.Queue] = {}
        # Notifications that arrive before subscribe() has registered their queue.
        self._early: dict[str, list] = {}

    async def __aenter__(self) -> WsRpcClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def connect(self) -> None:
        endpoint = parse_endpoint(self.endpoint)
        sock = await self._open_socket(endpoint.host, endpoint.port)
        try:
            self._ws = await connect(
                self.endpoint,
                sock=sock,
                open_timeout=self.timeout,
                max_size=MAX_MESSAGE,
                proxy=None,
                ping_interval=None,
            )
        except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
            sock.close()
            raise NodeUnreachable(
                self.endpoint, f"WebSocket handshake failed ({_handshake_failure(exc)})"
            ) from None
        self._reader = asyncio.create_task(self._read())

    async def _open_socket(self, host: str, port: int) -> socket.socket:
        loop = asyncio.get_running_loop()
        last: Exception | None = None
        for address in self.guard.connect_addresses(host, port, url=self.endpoint):
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                async with asyncio.timeout(min(self.timeout, 5.0)):
                    await loop.sock_connect(sock, (address, port))
                return sock
            except (OSError, TimeoutError) as exc:
                sock.close()
                last = exc
        reason = connection_failure(last) if last is not None else "connection failed"
        raise NodeUnreachable(self.endpoint, f"cannot connect: {reason}")

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._ws = self._reader = None

    async def _read(self) -> None:
        assert self._ws is not None
        failure: Exception = NodeUnreachable(self.endpoint, "the connection closed")
        try:
            async for message in self._ws:
                try:
                    self._dispatch(bounded.loads(message))
                except (ValueError, UnicodeDecodeError):
                    failure = NonConformingNode(
                        self.endpoint, f"a message is not JSON ({answer_size(message)})"
                    )
                    break
                except NonConformingNode as exc:
                    failure = exc
                    break
        except websockets.ConnectionClosed:
            # Not the close frame's reason: that text is the node's.
            failure = NodeUnreachable(self.endpoint, "the connection closed")
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(failure)
        self._waiting.clear()
        for queue in self._subscriptions.values():
            queue.put_nowait(failure)

    def _dispatch(self, parsed: Any) -> None:
        if isinstance(parsed, dict) and parsed.get("method") == "eth_subscription":
            params = parsed.get("params") or {}
            queue = self._subscriptions.get(params.get("subscription"))
            if queue is not None:
                queue.put_nowait(params.get("result"))
            else:
                early = self._early.setdefault(str(params.get("subscription")), [])
                if len(early) < 1000:
                    early.append(params.get("result"))
            return
        if isinstance(parsed, list):
            for obj in parsed:
                _check_response(obj, self.endpoint)
            key = tuple(sorted(str(o.get("id")) for o in parsed))
        else:
            _check_response(parsed, self.endpoint)
            key = str(parsed.get("id"))
        future = self._waiting.pop(key, None)
        # An answer nobody waits for (its call timed out) is dropped.
        if future is not None and not future.done():
            future.set_result(parsed)

    async def _request(self, calls: Sequence[Call], batch: bool) -> list[Any]:
        attempts = 2 if _is_read(calls) else 1
        for attempt in range(attempts):
            try:
                return await self._request_once(calls, batch)
            except NodeUnreachable:
                if attempt + 1 >= attempts:
                    raise
                await self.close()
                await self.connect()
        raise AssertionError("unreachable")

    async def _request_once(self, calls: Sequence[Call], batch: bool) -> list[Any]:
        self.guard.check(self.endpoint)
        if self._ws is None:
            await self.connect()
        assert self._ws is not None
        requests = _payload(calls, (next(self._ids) for _ in calls))
        key: Any = (
            tuple(sorted(str(r["id"]) for r in requests)) if batch else str(requests[0]["id"])
        )
        future = asyncio.get_running_loop().create_future()
        self._waiting[key] = future
        try:
            await self._ws.send(json.dumps(requests if batch else requests[0]))
            async with asyncio.timeout(self.timeout):
                answer = await future
        except websockets.ConnectionClosed:
            raise NodeUnreachable(self.endpoint, "the connection closed") from None
        except TimeoutError:
            raise NodeUnreachable(self.endpoint, f"no answer in {self.timeout:g} s") from None
        finally:
            self._waiting.pop(key, None)
        if not batch:
            return [_outcome(answer, requests[0]["method"], self.endpoint)]
        by_id = {o.get("id"): o for o in answer}
        return [_outcome(by_id[r["id"]], r["method"], self.endpoint) for r in requests]

    async def call(self, method: str, *params: Any) -> Any:
        (outcome,) = await self._request([(method, params)], batch=False)
        if isinstance(outcome, RpcError):
            raise outcome
        return outcome

    async def batch(self, calls: Sequence[Call], *, raise_errors: bool = True) -> list[Any]:
        if not calls:
            raise ValueError("a request needs at least one call")
        outcomes = await self._request(list(calls), batch=True)
        if raise_errors:
            for outcome in outcomes:
                if isinstance(outcome, RpcError):
                    raise outcome
        return outcomes

    async def subscribe(self, kind: str, *params: Any) -> AsyncIterator[Any]:
        """Yield each ``eth_subscription`` result of ``eth_subscribe(kind, *params)``."""
        subscription = await self.call("eth_subscribe", kind, *params)
        if not isinstance(subscription, str):
            raise NonConformingNode(
                self.endpoint, f"the subscription id is {value_kind(subscription)}, not a string"
            )
        queue: asyncio.Queue = asyncio.Queue()
        self._subscriptions[subscription] = queue
        for item in self._early.pop(subscription, []):
            queue.put_nowait(item)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            self._subscriptions.pop(subscription, None)
            if self._ws is not None:
                with contextlib.suppress(Exception):
                    await self.call("eth_unsubscribe", subscription)


def _handshake_failure(exc: BaseException) -> str:
    """The HTTP status a refused handshake got, or the class of failure; never header text."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(exc, websockets.InvalidStatus) and isinstance(status, int):
        return f"HTTP {status}"
    if isinstance(exc, websockets.InvalidHandshake):
        return "not a WebSocket answer"
    return connection_failure(exc)
