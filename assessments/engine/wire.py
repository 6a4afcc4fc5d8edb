"""HTTP/1.1 for JSON-RPC, written by hand for the load generator, and ``LeanRpcClient``.

The clearing suite's sender (``sender``) and block watcher (``watcher``) make thousands of
small JSON-RPC requests to one endpoint; a general HTTP client spends more CPU on each of
them than the node does. This module holds what both need and nothing more:

- ``encode_request`` / ``frame``: the bytes of a POST with ``Host``, ``Content-Type`` and
  ``Content-Length`` (built once, written as they are);
- ``next_answer``: one answer taken from a receive buffer: the status line and the
  headers that frame the body (``Content-Length``, ``Transfer-Encoding: chunked``,
  ``Connection: close``; informational 1xx answers are skipped), with limits on header and
  body sizes;
- ``LeanRpcClient``: a blocking client over one keep-alive connection, for one thread.

``LeanRpcClient`` keeps the guarantees of ``rpc.RpcClient``: the endpoint passes
``Guard.check`` before every request and the socket is opened only to an address
``Guard.connect_addresses`` checked just before (never to the name; no proxy is read);
https is verified TLS (the CA bundle ``rpc`` uses); every request has a ``timeout``;
idempotent reads (``rpc.READ_METHODS``) are retried ``read_retries`` times on a fresh
connection and nothing else is; answers are checked as ``rpc`` checks them
(``NonConformingNode``, ``RpcError``, ``NodeUnreachable``).
"""

from __future__ import annotations

import itertools
import json
import socket
import ssl
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import httpx

from .errors import (
    EndpointRefused,
    NodeUnreachable,
    NonConformingNode,
    RpcError,
    answer_size,
    connection_failure,
)
from .guard import Endpoint, Guard
from .rpc import DEFAULT_TIMEOUT, RETRYABLE_STATUS, Call, _decode, _is_read, _payload

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024


class PreparedRequest(NamedTuple):
    """One JSON-RPC request as the bytes that go on the wire."""

    id: int
    method: str
    data: bytes


def frame(endpoint: Endpoint, body: bytes) -> bytes:
    """The HTTP/1.1 POST of ``body`` (JSON) to ``endpoint``."""
    target = (endpoint.path or "/") + (f"?{endpoint.query}" if endpoint.query else "")
    host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    if endpoint.port != (443 if endpoint.scheme == "https" else 80):
        host = f"{host}:{endpoint.port}"
    head = (
        f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


def encode_request(
    endpoint: Endpoint, request_id: int, method: str, params: list
) -> PreparedRequest:
    """One JSON-RPC call to ``endpoint``, ready to write."""
    body = json.dumps(
        {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params},
        separators=(",", ":"),
    ).encode()
    return PreparedRequest(request_id, method, frame(endpoint, body))


class Head(NamedTuple):
    status: int
    length: int  # -1: chunked, -2: until the connection closes
    close: bool


def parse_head(raw: bytes, endpoint: str) -> Head:
    """Status and body framing of an answer's head (without its final blank line)."""
    lines = raw.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise NonConformingNode(endpoint, f"not an HTTP/1.1 answer ({answer_size(raw)} of header)")
    status = int(parts[1])
    close = parts[0] == b"HTTP/1.0"
    length, chunked = -2, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            value = value.strip()
            if not value.isdigit():
                raise NonConformingNode(endpoint, "a Content-Length that is not a number")
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            tokens = value.lower()
            if b"close" in tokens:
                close = True
            elif b"keep-alive" in tokens:
                close = False
    if chunked:
        length = -1
    if 100 <= status < 200 or status in (204, 304):
        length = 0
    if length > MAX_BODY:
        raise NonConformingNode(endpoint, f"an answer of {length} bytes")
    return Head(status, length, close)


def _dechunk(buf: bytearray, pos: int, endpoint: str) -> tuple[bytes | None, int]:
    """(body, position after it) of a chunked body at ``pos``, or (None, pos) if incomplete."""
    parts = []
    size_total = 0
    p = pos
    while True:
        eol = buf.find(b"\r\n", p)
        if eol < 0:
            return None, pos
        size_text = bytes(buf[p:eol]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise NonConformingNode(endpoint, "a chunk size that is not a number") from None
        size_total += size
        if size_total > MAX_BODY:
            raise NonConformingNode(endpoint, f"an answer of more than {MAX_BODY} bytes")
        p = eol + 2
        if size == 0:
            if buf[p : p + 2] == b"\r\n":
                return b"".join(parts), p + 2
            end = buf.find(b"\r\n\r\n", p)  # trailers
            if end < 0:
                return None, pos
            return b"".join(parts), end + 4
        if len(buf) < p + size + 2:
            return None, pos
        parts.append(bytes(buf[p : p + size]))
        p += size + 2


def next_answer(buf: bytearray, pos: int, endpoint: str) -> tuple[Head, bytes, int] | None:
    """The complete answer at ``pos`` in ``buf`` and the position after it, or None.

    A body that ends with the connection (no length, not chunked) is never complete here:
    the caller takes the rest of the buffer when the connection ends.
    """
    while True:
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            if len(buf) - pos > MAX_HEAD:
                raise NonConformingNode(endpoint, "an answer's header is too long")
            return None
        head = parse_head(bytes(buf[pos:end]), endpoint)
        start = end + 4
        if 100 <= head.status < 200:
            pos = start  # informational: the real answer follows
            continue
        if head.length >= 0:
            if len(buf) - start < head.length:
                return None
            return head, bytes(buf[start : start + head.length]), start + head.length
        if head.length == -1:
            body, after = _dechunk(buf, start, endpoint)
            return None if body is None else (head, body, after)
        return None


def status_error(status: int, body: bytes, endpoint: str) -> Exception | None:
    """The error an HTTP status means for a JSON-RPC answer, or None if the body decides."""
    if status in RETRYABLE_STATUS:
        return NodeUnreachable(endpoint, f"HTTP {status}")
    if status >= 400 and not body.lstrip().startswith((b"{", b"[")):
        return NonConformingNode(endpoint, f"HTTP {status} ({answer_size(body)})")
    return None


def tls_context() -> ssl.SSLContext:
    """Verified TLS with the CA bundle the rest of the engine uses."""
    return httpx.create_ssl_context(trust_env=False)


class LeanRpcClient:
    """A blocking JSON-RPC client over one keep-alive connection; see the module docstring.

    Same ``call`` and ``batch`` as ``rpc.RpcClient``. Not for use by two threads at once.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        allowed: Iterable[str] | Guard,
        timeout: float = DEFAULT_TIMEOUT,
        read_retries: int = 1,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.guard = allowed if isinstance(allowed, Guard) else Guard(allowed)
        self.target = self.guard.check(endpoint)
        if self.target.scheme not in ("http", "https"):
            raise EndpointRefused(endpoint, "an HTTP client needs an http:// or https:// URL")
        self.endpoint = self.target.url
        self.timeout = timeout
        self.read_retries = read_retries
        self._ssl = None
        if self.target.scheme == "https":
            self._ssl = ssl_context or tls_context()
        self._ids = itertools.count(1)
        self._sock: socket.socket | None = None
        self._buffer = bytearray()

    def call(self, method: str, *params: Any) -> Any:
        (outcome,) = self._send([(method, params)], batch=False)
        if isinstance(outcome, RpcError):
            raise outcome
        return outcome

    def batch(self, calls: Sequence[Call], *, raise_errors: bool = True) -> list[Any]:
        if not calls:
            raise ValueError("a request needs at least one call")
        outcomes = self._send(list(calls), batch=True)
        if raise_errors:
            for outcome in outcomes:
                if isinstance(outcome, RpcError):
                    raise outcome
        return outcomes

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._buffer.clear()

    def __enter__(self) -> LeanRpcClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _send(self, calls: Sequence[Call], batch: bool) -> list[Any]:
        requests = _payload(calls, (next(self._ids) for _ in calls))
        body = json.dumps(requests if batch else requests[0], separators=(",", ":")).encode()
        attempts = 1 + (self.read_retries if _is_read(calls) else 0)
        for attempt in range(attempts):
            self.guard.check(self.endpoint)
            try:
                status, answer = self._exchange(frame(self.target, body))
            except (OSError, NodeUnreachable) as exc:
                self.close()
                if attempt + 1 >= attempts:
                    if isinstance(exc, NodeUnreachable):
                        raise
                    raise NodeUnreachable(self.endpoint, connection_failure(exc)) from None
                continue
            error = status_error(status, answer, self.endpoint)
            if isinstance(error, NodeUnreachable) and attempt + 1 < attempts:
                continue
            if error is not None:
                raise error
            return _decode(answer, requests, batch, self.endpoint)
        raise AssertionError("unreachable")

    def _exchange(self, data: bytes) -> tuple[int, bytes]:
        if self._sock is None:
            self._sock = self._connect()
        sock, buf = self._sock, self._buffer
        sock.sendall(data)
        while True:
            try:
                found = next_answer(buf, 0, self.endpoint)
            except NonConformingNode:
                self.close()
                raise
            if found is not None:
                head, body, after = found
                del buf[:after]
                if head.close:
                    self.close()
                return head.status, body
            chunk = sock.recv(262144)
            if not chunk:
                end = buf.find(b"\r\n\r\n")
                if end >= 0:
                    head = parse_head(bytes(buf[:end]), self.endpoint)
                    if head.length == -2:  # the body ends with the connection
                        body = bytes(buf[end + 4 :])
                        self.close()
                        return head.status, body
                raise NodeUnreachable(self.endpoint, "the connection closed before the answer")
            buf += chunk

    def _connect(self) -> socket.socket:
        host, port = self.target.host, self.target.port
        last: Exception | None = None
        # Resolved and checked now; the socket goes to a checked address, never the name.
        for address in self.guard.connect_addresses(host, port, url=self.endpoint):
            try:
                sock = socket.create_connection((address, port), timeout=min(self.timeout, 5.0))
            except OSError as exc:
                last = exc
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                if self._ssl is not None:
                    sock = self._ssl.wrap_socket(sock, server_hostname=host)
            except OSError as exc:
                sock.close()
                last = exc
                continue
            sock.settimeout(self.timeout)
            return sock
        reason = connection_failure(last) if last is not None else "connection failed"
        raise NodeUnreachable(self.endpoint, f"cannot connect: {reason}")
