"""What an endpoint answers is never repeated in an error: a status, a size or a class of
failure instead, the same for every client (httpx, the lean client, the pipelined sender,
WebSocket). An endpoint may be some other service, whose answer is not the firm's."""

import asyncio
import socket
import threading

import pytest

from assessments.engine.errors import (
    EngineError,
    NodeUnreachable,
    NonConformingNode,
    connection_failure,
)
from assessments.engine.rpc import RpcClient
from assessments.engine.sender import RawTxSender
from assessments.engine.wire import LeanRpcClient
from assessments.engine.ws import WsRpcClient
from tests.engine.conftest import free_port

SECRET = "internal-token-4f9c"
HTML = f"<html><body>{SECRET}</body></html>".encode()


class Service:
    """A local service answering every connection with ``reply`` (raw bytes)."""

    def __init__(self, reply: bytes):
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        with conn:
            conn.settimeout(2.0)
            try:
                if self.reply.startswith(b"HTTP/"):
                    conn.recv(65536)
                conn.sendall(self.reply)
            except OSError:
                pass

    def close(self):
        self.stopping.set()
        self.thread.join(timeout=2)
        self.sock.close()


def http(status: str, body: bytes, content_type="text/html") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def call_rpc(url):
    with RpcClient(url, allowed=[url], timeout=2, read_retries=0) as client:
        client.call("eth_chainId")


def call_lean(url):
    with LeanRpcClient(url, allowed=[url], timeout=2, read_retries=0) as client:
        client.call("eth_chainId")


def call_sender(url):
    outcomes = []
    sender = RawTxSender(url, allowed=[url], on_answer=lambda t, o: outcomes.append(o), timeout=2)

    async def go():
        await sender.open()
        try:
            sender.send([(sender.request(1, "eth_chainId", []), 1)])
            for _ in range(100):
                if outcomes:
                    break
                await asyncio.sleep(0.02)
        finally:
            await sender.close()

    asyncio.run(go())
    if outcomes and isinstance(outcomes[0], Exception):
        raise outcomes[0]


CLIENTS = [call_rpc, call_lean, call_sender]


def error_of(call, url) -> EngineError:
    with pytest.raises(EngineError) as failed:
        call(url)
    return failed.value


@pytest.mark.parametrize("call", CLIENTS)
def test_an_answer_that_is_not_json_is_named_by_its_size(call):
    service = Service(http("200 OK", HTML))
    try:
        error = error_of(call, f"http://127.0.0.1:{service.port}")
    finally:
        service.close()
    assert isinstance(error, NonConformingNode)
    assert f"not JSON ({len(HTML)} bytes)" in str(error)
    assert SECRET not in str(error)


@pytest.mark.parametrize("call", CLIENTS)
def test_an_error_status_is_named_by_its_code(call):
    service = Service(http("404 Not Found", HTML))
    try:
        error = error_of(call, f"http://127.0.0.1:{service.port}")
    finally:
        service.close()
    assert "HTTP 404" in str(error) and SECRET not in str(error)


@pytest.mark.parametrize("call", CLIENTS)
def test_a_banner_is_never_repeated(call):
    service = Service(f"SSH-2.0-{SECRET}\r\n".encode())
    try:
        error = error_of(call, f"http://127.0.0.1:{service.port}")
    finally:
        service.close()
    assert SECRET not in str(error) and "SSH" not in str(error)


@pytest.mark.parametrize("call", CLIENTS)
def test_a_closed_port_is_connection_refused_without_the_systems_text(call):
    error = error_of(call, f"http://127.0.0.1:{free_port()}")
    assert isinstance(error, NodeUnreachable)
    assert "connection refused" in str(error) and "Errno" not in str(error)


def test_a_refused_websocket_handshake_is_named_by_its_status():
    service = Service(http("404 Not Found", HTML))
    url = f"ws://127.0.0.1:{service.port}"

    async def go():
        async with WsRpcClient(url, allowed=[url], timeout=2):
            pass

    try:
        with pytest.raises(NodeUnreachable) as failed:
            asyncio.run(go())
    finally:
        service.close()
    assert "HTTP 404" in str(failed.value) and SECRET not in str(failed.value)


def test_socket_errors_become_classes():
    assert connection_failure(socket.gaierror(-2, "Name or service not known")) == (
        "name not resolved"
    )
    assert connection_failure(ConnectionRefusedError(111, "refused")) == "connection refused"
    assert connection_failure(TimeoutError()) == "timed out"
    wrapped = RuntimeError("[Errno 104] peer 10.9.8.7 said no")
    wrapped.__cause__ = ConnectionResetError(104, "Connection reset by peer")
    assert connection_failure(wrapped) == "connection reset"
    assert connection_failure(ValueError(SECRET)) == "connection failed"
