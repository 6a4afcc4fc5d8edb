"""The hand-written HTTP/1.1 of the load generator: framing and the watcher's lean client."""

import pytest

from assessments.engine.errors import (
    EndpointRefused,
    NodeUnreachable,
    NonConformingNode,
    RpcError,
)
from assessments.engine.guard import parse_endpoint
from assessments.engine.wire import LeanRpcClient, encode_request, next_answer
from tests.engine.helpers import Listener
from tests.engine.sink import Sink, tls_pair


def lean(url, **kwargs):
    kwargs.setdefault("allowed", [url])
    return LeanRpcClient(url, **kwargs)


# --- framing ------------------------------------------------------------------------------


def test_a_request_names_the_path_query_and_host():
    request = encode_request(
        parse_endpoint("https://node.example:8443/rpc/v1?key=abc"), 7, "eth_chainId", []
    )
    head, _, body = request.data.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[:2] == [
        b"POST /rpc/v1?key=abc HTTP/1.1",
        b"Host: node.example:8443",
    ]
    assert f"Content-Length: {len(body)}".encode() in head
    assert body == b'{"jsonrpc":"2.0","id":7,"method":"eth_chainId","params":[]}'
    default = encode_request(parse_endpoint("http://[::1]"), 1, "eth_chainId", [])
    assert default.data.startswith(b"POST / HTTP/1.1\r\nHost: [::1]\r\n")


def test_answers_are_framed_by_length_chunks_or_the_end_of_the_connection():
    buf = bytearray(
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1;x=y\r\n[\r\n1\r\n]\r\n0\r\n\r\n"
        b"HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        b"HTTP/1.0 200 OK\r\n\r\nrest"
    )
    head, body, pos = next_answer(buf, 0, "e")
    assert (head.status, body, head.close) == (200, b"{}", False)
    head, body, pos = next_answer(buf, pos, "e")
    assert (head.status, body) == (200, b"[]")
    head, body, pos = next_answer(buf, pos, "e")
    assert (head.status, body, head.close) == (503, b"", True)
    assert next_answer(buf, pos, "e") is None  # its body ends with the connection
    assert next_answer(bytearray(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}"), 0, "e") is None
    with pytest.raises(NonConformingNode, match="HTTP/1.1"):
        next_answer(bytearray(b"SSH-2.0-OpenSSH\r\n\r\n"), 0, "e")
    with pytest.raises(NonConformingNode, match="Content-Length"):
        next_answer(bytearray(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), 0, "e")
    with pytest.raises(NonConformingNode, match="too long"):
        next_answer(bytearray(b"HTTP/1.1 200 OK\r\n" + b"x" * 70_000), 0, "e")


# --- the lean blocking client ----------------------------------------------------------------


def test_the_lean_client_calls_and_batches_a_real_node(chain):
    with lean(chain.url) as rpc:
        assert int(rpc.call("eth_chainId"), 16) == chain.chain_id
        blocks = rpc.batch([("eth_getBlockByNumber", (hex(n), False)) for n in (0, 1)])
        assert blocks[0]["number"] == "0x0" and blocks[1]["parentHash"] == blocks[0]["hash"]
        with pytest.raises(RpcError) as refused:
            rpc.call("eth_noSuchMethod")
        assert refused.value.method == "eth_noSuchMethod"
        mixed = rpc.batch([("eth_chainId", ()), ("eth_noSuchMethod", ())], raise_errors=False)
        assert mixed[0] == hex(chain.chain_id) and isinstance(mixed[1], RpcError)


def test_the_lean_client_refuses_what_the_guard_refuses_without_connecting():
    listener = Listener()
    try:
        with pytest.raises(EndpointRefused):
            lean(listener.url, allowed=["http://127.0.0.1:1"])
        with pytest.raises(EndpointRefused, match="http"):
            lean(f"ws://127.0.0.1:{listener.port}", allowed=[f"ws://127.0.0.1:{listener.port}"])
        assert listener.accepted() == 0
    finally:
        listener.close()


def test_the_lean_client_reconnects_when_the_node_closes_between_reads():
    with Sink(close_first_after=1) as sink, lean(sink.url) as rpc:
        assert [rpc.call("eth_chainId") for _ in range(3)] == ["0x7a69"] * 3
        assert sink.accepted == 2


def test_the_lean_client_speaks_tls_and_chunks(tmp_path):
    server_context, client_context = tls_pair(tmp_path)
    with Sink(ssl_context=server_context, chunked=True) as sink:
        with lean(sink.url, ssl_context=client_context) as rpc:
            assert rpc.batch([("eth_chainId", ()), ("eth_gasPrice", ())]) == [
                "0x7a69",
                "0x3b9aca00",
            ]
        with pytest.raises(NodeUnreachable, match="TLS error: the certificate does not verify"):
            lean(sink.url).call("eth_chainId")


def test_a_silent_node_times_out_and_only_reads_are_asked_twice():
    with Sink(lambda request: None) as sink:
        with lean(sink.url, timeout=0.2) as rpc, pytest.raises(NodeUnreachable):
            rpc.call("eth_blockNumber")
        assert len(sink.requests) == 2  # one retry of the read
        with lean(sink.url, timeout=0.2) as rpc, pytest.raises(NodeUnreachable):
            rpc.call("eth_sendRawTransaction", "0x00")
        assert len(sink.requests) == 3  # a transaction is sent once


@pytest.mark.parametrize(
    ("reply", "error", "match"),
    [
        (b"<html>no</html>", NonConformingNode, "not JSON"),
        ({"jsonrpc": "2.0", "id": 99, "result": "0x1"}, NonConformingNode, "id"),
        ({"jsonrpc": "2.0", "id": 1, "error": {"code": 3, "message": "no"}}, RpcError, "no"),
    ],
)
def test_the_lean_client_checks_answers_as_the_engine_does(reply, error, match):
    with (
        Sink(lambda request: reply) as sink,
        lean(sink.url) as rpc,
        pytest.raises(error, match=match),
    ):
        rpc.call("eth_chainId")
