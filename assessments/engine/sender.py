"""A lean JSON-RPC sender for the timed phase of a load test: ``RawTxSender``.

The clearing suite must write thousands of ``eth_sendRawTransaction`` requests a second on
time, from one process, without the sender's own work showing in the measurement. A
general HTTP client does far more per request than that needs (connection-pool
bookkeeping, header objects, per-request tasks), so this module writes the requests itself:

- **Pre-serialised requests.** ``wire.encode_request`` builds each request's bytes (HTTP/1.1
  request line, ``Host``, ``Content-Type``, ``Content-Length`` and the JSON-RPC body with
  the raw transaction) before the timed phase; sending is one ``transport.write`` of bytes
  already made.
- **A few keep-alive connections, pipelined.** ``connections`` (default 4) HTTP/1.1
  connections on asyncio ``Protocol`` objects; each request goes to the open connection
  with the fewest answers outstanding (at equal counts the one used last, so a slow load
  keeps one connection warm), written at once without waiting for earlier answers. A
  connection idle for ``IDLE_REFRESH_S`` is not written to while another is in use: the
  node may be closing it at that very moment, and a request lost so has no known outcome.
  HTTP/1.1 answers come back in request order on a connection, so each answer is matched
  to its request by position and its JSON-RPC ``id`` is checked. Every request due in the
  same scheduler tick on one connection goes out in a single write. Pipelining keeps each
  transaction's send time the time it was scheduled whatever the node's answer time,
  where one request in flight per connection would need as many connections as the node
  has requests outstanding and would queue sends once they are busy (the queue that hid a
  slow node and cost the earlier connection pool its CPU).
- **No JSON-RPC batches.** A batch is answered only when every call in it is done, many
  nodes cap or refuse batches, and the node would see a different workload at a given rate
  than real clients make; pipelined single requests written together already save the
  per-request system calls a batch would.
- **Minimal answer parsing** (``wire.next_answer``). The status line and the three headers
  that frame the body (``Content-Length``, ``Transfer-Encoding: chunked``, ``Connection:
  close``); the small body is decoded with ``json`` and checked as ``rpc`` checks answers.

Guarantees, as in ``rpc``:
- the endpoint passes ``guard.Guard.check`` when the sender is made, and each connection
  is opened only to an address ``Guard.connect_addresses`` resolved and checked just
  before; environment proxies are never read; https endpoints use TLS with certificate
  and host name verification (the same CA bundle as ``rpc``);
- every request gets exactly one outcome through ``on_answer(token, outcome)``: the
  node's ``result``, an ``RpcError`` (the node's error object: the transaction was
  refused), ``NonConformingNode`` (an answer that is not JSON-RPC 2.0), or
  ``NodeUnreachable`` (no answer: the connection failed or stayed silent ``timeout``
  seconds; whether the node took the transaction is then unknown, and nothing is resent).
  A request written after the node's ``Connection: close`` answer is resent on another
  connection, since the node may not process it (RFC 9112, 9.6); a request that could not
  be written at all (no connection open) is returned by ``send`` to the caller unsent;
- connections that fail are reopened in the background; ``refresh`` replaces connections
  idle long enough for the node to be closing them, before a slow load's next send.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from . import bounded
from .errors import (
    EndpointRefused,
    EngineError,
    NodeUnreachable,
    NonConformingNode,
    answer_size,
    connection_failure,
)
from .guard import Guard
from .rpc import DEFAULT_TIMEOUT, _check_response, _outcome
from .wire import (
    Head,
    PreparedRequest,
    encode_request,
    next_answer,
    parse_head,
    status_error,
    tls_context,
)

DEFAULT_CONNECTIONS = 4
IDLE_REFRESH_S = 1.0
"""A connection idle this long is replaced by ``refresh`` (servers close idle ones)."""


def _answer_outcome(status: int, body: bytes, request: PreparedRequest, endpoint: str) -> Any:
    error = status_error(status, body, endpoint)
    if error is not None:
        return error
    try:
        parsed = bounded.loads(body)
    except (ValueError, UnicodeDecodeError):
        return NonConformingNode(endpoint, f"the answer is not JSON ({answer_size(body)})")
    try:
        _check_response(parsed, endpoint)
    except NonConformingNode as exc:
        return exc
    if parsed.get("id") != request.id:
        return NonConformingNode(endpoint, f"the response id is not the request id {request.id}")
    return _outcome(parsed, request.method, endpoint)


class _Pending(NamedTuple):
    token: Any
    request: PreparedRequest
    sent: float


class _Connection(asyncio.Protocol):
    def __init__(self, sender: RawTxSender):
        self.sender = sender
        self.transport: asyncio.Transport | None = None
        self.pending: deque[_Pending] = deque()
        self.buffer = bytearray()
        self.usable = False  # open, and the node has not announced it will close
        self.closing_by_node = False
        self.failure: EngineError | None = None
        self.answers = 0
        self.last_used = time.monotonic()

    # -- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.usable = True
        self.last_used = time.monotonic()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            self._parse()
        except NonConformingNode as exc:
            self.fail(exc)

    def eof_received(self) -> bool:
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.usable = False
        end = self.buffer.find(b"\r\n\r\n")
        if self.pending and end >= 0 and self.failure is None:
            # A body delimited by the end of the connection (HTTP/1.0 style).
            try:
                head = parse_head(bytes(self.buffer[:end]), self.sender.endpoint)
            except NonConformingNode:
                head = None
            if head is not None and head.length == -2:
                self._deliver(head, bytes(self.buffer[end + 4 :]))
        self.sender._lost(self, exc)

    # -- framing ------------------------------------------------------------------------

    def _parse(self) -> None:
        buf = self.buffer
        pos = 0
        endpoint = self.sender.endpoint
        while True:
            found = next_answer(buf, pos, endpoint)
            if found is None:
                break
            if not self.pending:
                raise NonConformingNode(endpoint, "an answer to no request")
            head, body, pos = found
            self._deliver(head, body)
            if self.closing_by_node:
                break
        if pos:
            del buf[:pos]

    def _deliver(self, head: Head, body: bytes) -> None:
        entry = self.pending.popleft()
        self.answers += 1
        self.last_used = time.monotonic()
        if head.close:
            self.closing_by_node = True
            self.usable = False
        outcome = _answer_outcome(head.status, body, entry.request, self.sender.endpoint)
        self.sender._answered(entry, outcome)
        if head.close and self.transport is not None:
            # The node processes nothing after this answer on this connection.
            self.transport.close()

    # -- control ------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def fail(self, error: EngineError) -> None:
        """Give up on this connection: its outstanding requests get ``error``."""
        if self.failure is None:
            self.failure = error
        self.usable = False
        if self.transport is not None:
            self.transport.abort()


class RawTxSender:
    """Writes pre-serialised JSON-RPC requests to one endpoint; see the module docstring.

    ``on_answer(token, outcome)`` is called on the event loop once per written request.
    Use ``await open()`` on the loop that will send, ``send`` to write, ``expire`` now and
    then to time out silent connections, and ``await close()`` at the end.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        allowed: Iterable[str] | Guard,
        on_answer: Callable[[Any, Any], None],
        connections: int = DEFAULT_CONNECTIONS,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ):
        if connections < 1:
            raise ValueError("a sender needs at least one connection")
        self.guard = allowed if isinstance(allowed, Guard) else Guard(allowed)
        self.target = self.guard.check(endpoint)
        if self.target.scheme not in ("http", "https"):
            raise EndpointRefused(endpoint, "the sender speaks HTTP: an http:// or https:// URL")
        self.endpoint = self.target.url
        self.on_answer = on_answer
        self.timeout = timeout
        self._size = connections
        self._ssl = None
        if self.target.scheme == "https":
            self._ssl = ssl_context or tls_context()
        self._connections: list[_Connection] = []
        self._tasks: set[asyncio.Task] = set()
        self._closed = False
        self._failures = 0
        self.opened = 0  # connections opened, for reports and tests

    def request(self, request_id: int, method: str, params: list) -> PreparedRequest:
        return encode_request(self.target, request_id, method, params)

    @property
    def outstanding(self) -> int:
        """Requests written and not yet answered."""
        return sum(len(c.pending) for c in self._connections)

    @property
    def open_connections(self) -> int:
        return sum(1 for c in self._connections if c.usable)

    async def open(self) -> None:
        """Open the connections; raises ``NodeUnreachable`` if not one could be opened."""
        results = await asyncio.gather(
            *(self._connect() for _ in range(self._size)), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        for r in results:
            if isinstance(r, _Connection):
                self._connections.append(r)
        for error in errors:
            if not isinstance(error, EngineError):
                raise error
        if not self._connections:
            raise errors[0]
        for _ in errors:
            self._reopen_later()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        host, port = self.target.host, self.target.port
        last: Exception | None = None
        # Resolved and checked now; the socket goes to a checked address, never the name.
        for address in self.guard.connect_addresses(host, port, url=self.endpoint):
            connection = _Connection(self)
            try:
                async with asyncio.timeout(min(self.timeout, 5.0)):
                    await loop.create_connection(
                        lambda c=connection: c,
                        address,
                        port,
                        ssl=self._ssl,
                        server_hostname=host if self._ssl else None,
                    )
            except (OSError, TimeoutError) as exc:
                last = exc
                continue
            self.opened += 1
            return connection
        reason = connection_failure(last) if last is not None else "connection failed"
        raise NodeUnreachable(self.endpoint, f"cannot connect: {reason}")

    def send(self, items: Sequence[tuple[PreparedRequest, Any]]) -> list[Any]:
        """Write each (request, token); returns the tokens that could not be written."""
        now = time.monotonic()
        live = [c for c in self._connections if c.usable]
        # A connection idle for a while may be the one the node is closing right now: use
        # those only when no other is open (``refresh`` replaces them before slow sends).
        fresh = [c for c in live if c.pending or now - c.last_used < IDLE_REFRESH_S]
        live = fresh or sorted(live, key=_recent)[:1]
        if not live:
            return [token for _, token in items]
        if len(live) == 1:
            connection = live[0]
            for request, token in items:
                connection.pending.append(_Pending(token, request, now))
            connection.last_used = now
            connection.write(b"".join(request.data for request, _ in items))
            return []
        chunks: dict[_Connection, list[bytes]] = {}
        for request, token in items:
            connection = min(live, key=_load)
            connection.pending.append(_Pending(token, request, now))
            connection.last_used = now
            chunks.setdefault(connection, []).append(request.data)
        for connection, parts in chunks.items():
            connection.write(b"".join(parts))
        return []

    def expire(self, now: float) -> None:
        """Give up on connections whose oldest request has waited ``timeout`` seconds."""
        for connection in self._connections:
            if connection.pending and now - connection.pending[0].sent > self.timeout:
                connection.fail(NodeUnreachable(self.endpoint, f"no answer in {self.timeout:g} s"))

    async def refresh(self, idle_s: float = IDLE_REFRESH_S) -> None:
        """Replace connections idle for ``idle_s`` (the node may be about to close them)."""
        now = time.monotonic()
        stale = [
            c
            for c in self._connections
            if c.usable and not c.pending and now - c.last_used > idle_s
        ]
        if not stale:
            return
        results = await asyncio.gather(*(self._connect() for _ in stale), return_exceptions=True)
        for old, new in zip(stale, results, strict=True):
            if isinstance(new, _Connection):
                self._connections[self._connections.index(old)] = new
                old.usable = False
                if old.transport is not None and not old.pending:
                    old.transport.close()

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        for connection in self._connections:
            connection.fail(NodeUnreachable(self.endpoint, "the sender was closed"))
        # Let the transports report their end (and outstanding requests their outcome).
        for _ in range(3):
            await asyncio.sleep(0)

    # -- called by connections -------------------------------------------------------------

    def _answered(self, entry: _Pending, outcome: Any) -> None:
        self._failures = 0
        self.on_answer(entry.token, outcome)

    def _lost(self, connection: _Connection, exc: Exception | None) -> None:
        pending = list(connection.pending)
        connection.pending.clear()
        if pending:
            if connection.closing_by_node and connection.failure is None:
                # Written after the node said it would close: never processed; send again.
                unsent = self.send([(p.request, p.token) for p in pending])
                pending = [p for p in pending if p.token in unsent]
                error: EngineError = NodeUnreachable(
                    self.endpoint, "the node closed the connection and no other was open"
                )
            else:
                error = connection.failure or NodeUnreachable(
                    self.endpoint,
                    "the connection closed before the answer"
                    + (f" ({connection_failure(exc)})" if exc else ""),
                )
            for entry in pending:
                self.on_answer(entry.token, error)
        if connection in self._connections:
            self._connections.remove(connection)
            if connection.failure is not None or exc is not None or not connection.answers:
                # Back off from a node that drops connections without answering.
                self._failures += 1
            self._reopen_later()

    def _reopen_later(self) -> None:
        if self._closed:
            return
        delay = min(1.0, 0.05 * (2 ** min(self._failures, 5))) if self._failures else 0.0
        task = asyncio.get_running_loop().create_task(self._reopen(delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reopen(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        if self._closed or len(self._connections) >= self._size:
            return
        try:
            connection = await self._connect()
        except EngineError:
            self._failures += 1
            self._reopen_later()
            return
        if self._closed:
            connection.fail(NodeUnreachable(self.endpoint, "the sender was closed"))
            return
        self._connections.append(connection)


def _load(connection: _Connection) -> tuple[int, float]:
    return (len(connection.pending), -connection.last_used)


def _recent(connection: _Connection) -> float:
    return -connection.last_used
