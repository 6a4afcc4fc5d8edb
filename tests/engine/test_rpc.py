"""The JSON-RPC client: results, batches, clear errors, retries only for reads."""

import pytest

from assessments.engine.errors import NodeUnreachable, NonConformingNode, RpcError
from assessments.engine.rpc import RpcClient
from tests.engine.helpers import FakeNode, Listener, result


@pytest.fixture
def fake():
    nodes = []

    def make(answer):
        node = FakeNode(answer)
        nodes.append(node)
        return node, RpcClient(node.url, allowed=[node.url], retry_backoff=0.01)

    yield make
    for node in nodes:
        node.close()


def test_it_calls_a_real_node(chain):
    with RpcClient(chain.url, allowed=[chain.url]) as client:
        assert client.call("eth_chainId") == hex(chain.chain_id)
        number, block = client.batch(
            [("eth_blockNumber", ()), ("eth_getBlockByNumber", ("0x0", False))]
        )
        assert int(number, 16) >= 0 and block["number"] == "0x0"


def test_it_reports_a_node_error_with_its_code(chain):
    with RpcClient(chain.url, allowed=[chain.url]) as client, pytest.raises(RpcError) as exc:
        client.call("eth_noSuchMethod")
    assert exc.value.code in (-32601, -32004)


def test_a_batch_can_keep_errors_in_place(chain):
    with RpcClient(chain.url, allowed=[chain.url]) as client:
        ok, failed = client.batch(
            [("eth_chainId", ()), ("eth_noSuchMethod", ())], raise_errors=False
        )
    assert ok == hex(chain.chain_id)
    assert isinstance(failed, RpcError)


def test_a_closed_port_is_unreachable():
    listener = Listener()
    url = listener.url
    listener.close()
    client = RpcClient(url, allowed=[url], read_retries=0)
    with pytest.raises(NodeUnreachable):
        client.call("eth_chainId")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (lambda r: b"<html>not json</html>", "not JSON"),
        (lambda r: {"jsonrpc": "1.0", "id": r["id"], "result": "0x1"}, "jsonrpc"),
        (lambda r: {"jsonrpc": "2.0", "id": r["id"]}, "exactly one of result or error"),
        (lambda r: {"jsonrpc": "2.0", "id": r["id"] + 1, "result": "0x1"}, "id"),
        (lambda r: {"jsonrpc": "2.0", "id": r["id"], "error": "boom"}, "malformed error"),
        (lambda r: ["0x1"], "not a JSON object"),
    ],
)
def test_it_refuses_a_non_conforming_answer(fake, answer, reason):
    _, client = fake(answer)
    with pytest.raises(NonConformingNode, match=reason):
        client.call("eth_chainId")


def test_it_refuses_a_batch_answer_with_missing_ids(fake):
    _, client = fake(lambda reqs: [result(reqs[0], "0x1")])
    with pytest.raises(NonConformingNode, match="batch answer ids"):
        client.batch([("eth_chainId", ()), ("eth_blockNumber", ())])


def test_it_matches_batch_answers_by_id_not_order(fake):
    _, client = fake(lambda reqs: [result(r, r["method"]) for r in reversed(reqs)])
    assert client.batch([("eth_chainId", ()), ("eth_blockNumber", ())]) == [
        "eth_chainId",
        "eth_blockNumber",
    ]


def test_a_block_without_fields_is_non_conforming(fake):
    from assessments.engine.results import Target
    from assessments.engine.suites import block

    def answer(r):
        if isinstance(r, list):
            return [answer(x) for x in r]
        if r["method"] == "eth_blockNumber":
            return result(r, "0x1")
        return result(r, {"number": "0x0"})

    node, _ = fake(answer)
    with pytest.raises(NonConformingNode, match="has no"):
        block.run(Target([node.url], [node.url]), {"observe_seconds": 0, "blocks": 2})


def test_it_retries_a_read_after_a_transport_failure(monkeypatch):
    listener = Listener()  # accepts nothing: the first attempts time out or are refused
    url = listener.url
    client = RpcClient(url, allowed=[url], timeout=0.3, read_retries=2, retry_backoff=0.01)
    attempts = []
    real_post = client._http.post

    def post(*args, **kwargs):
        attempts.append(1)
        return real_post(*args, **kwargs)

    monkeypatch.setattr(client._http, "post", post)
    with pytest.raises(NodeUnreachable):
        client.call("eth_blockNumber")
    assert len(attempts) == 3
    listener.close()


def test_it_never_retries_sending_a_transaction(monkeypatch):
    listener = Listener()
    url = listener.url
    client = RpcClient(url, allowed=[url], timeout=0.3, read_retries=5, retry_backoff=0.01)
    attempts = []
    real_post = client._http.post
    monkeypatch.setattr(
        client._http, "post", lambda *a, **k: attempts.append(1) or real_post(*a, **k)
    )
    with pytest.raises(NodeUnreachable):
        client.call("eth_sendRawTransaction", "0x00")
    assert len(attempts) == 1
    listener.close()
