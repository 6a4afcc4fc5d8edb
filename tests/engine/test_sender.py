"""The load generator's sender, signer and framing: real node, scripted sinks, the guard."""

import asyncio
import secrets
import time

import pytest
from eth_account import Account

from assessments.engine import accounts as acc
from assessments.engine.errors import (
    EndpointRefused,
    NodeUnreachable,
    NonConformingNode,
    RpcError,
)
from assessments.engine.guard import Guard
from assessments.engine.rawtx import LegacySigner
from assessments.engine.sender import RawTxSender
from tests.engine.conftest import hardhat_key
from tests.engine.helpers import Listener
from tests.engine.sink import Sink, tls_pair


def exchange(sender: RawTxSender, calls, *, batches=1, wait_s=20.0):
    """Send ``calls`` ([(method, params)]) in ``batches`` writes; {token: [outcomes]}."""
    outcomes: dict[int, list] = {}
    sender.on_answer = lambda token, outcome: outcomes.setdefault(token, []).append(outcome)

    async def go():
        await sender.open()
        try:
            requests = [(sender.request(i + 1, m, p), i) for i, (m, p) in enumerate(calls)]
            size = -(-len(requests) // batches)
            unsent = []
            for k in range(0, len(requests), size):
                unsent += sender.send(requests[k : k + size])
                await asyncio.sleep(0)
            assert unsent == []
            deadline = time.monotonic() + wait_s
            while len(outcomes) < len(calls) and time.monotonic() < deadline:
                sender.expire(time.monotonic())
                await asyncio.sleep(0.01)
        finally:
            await sender.close()

    asyncio.run(go())
    return outcomes


class ClientFor:
    """The node's own test client, shaped as the engine's for ``accounts.wait_receipts``."""

    def __init__(self, node):
        self.node = node

    def batch(self, calls, raise_errors=True):
        return [self.node.rpc(method, *params) for method, params in calls]


def make_sender(url, **kwargs):
    kwargs.setdefault("allowed", [url])
    return RawTxSender(url, on_answer=lambda token, outcome: None, **kwargs)


# --- the signer -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"nonce": 0, "gas_price": 1, "gas": 21_000, "to": "0x" + "11" * 20},
        {"nonce": 127, "gas_price": 2 * 10**9, "gas": 120_000, "to": "0x" + "ab" * 20},
        {"nonce": 10**6, "gas_price": 10**20, "gas": 30_000_000, "to": "0x" + "00" * 20},
    ],
)
@pytest.mark.parametrize("data", [b"", b"\x01", b"\x12" * 36, bytes(range(256)) * 3])
@pytest.mark.parametrize("value", [0, 1, 10**18])
def test_the_fast_signer_signs_what_eth_account_signs(fields, data, value):
    account = Account.from_key(secrets.token_bytes(32))
    for chain in (1, 31337, 2**40):
        ours = LegacySigner(bytes(account.key), account.address, chain).sign(
            **fields, value=value, data=data
        )
        theirs = acc.sign(account, chain_id=chain, value=value, data=data, **fields)
        assert (ours.raw, ours.hash) == (theirs.raw, theirs.hash)


def test_the_fast_signer_refuses_a_bad_recipient_or_chain():
    account = Account.from_key(secrets.token_bytes(32))
    signer = LegacySigner(bytes(account.key), account.address, 1)
    with pytest.raises(ValueError, match="20 bytes"):
        signer.sign(nonce=0, gas_price=1, gas=21_000, to="0x1234")
    with pytest.raises(ValueError, match="non-negative"):
        signer.sign(nonce=-1, gas_price=1, gas=21_000, to="0x" + "11" * 20)
    with pytest.raises(ValueError, match="chain id"):
        LegacySigner(bytes(account.key), account.address, 0)


# --- against the real node ---------------------------------------------------------------


def test_it_sends_pipelined_transactions_that_the_node_mines(interval_chain):
    chain = interval_chain
    faucet = Account.from_key(hardhat_key(3))
    signer = LegacySigner(bytes(faucet.key), faucet.address, chain.chain_id)
    nonce = int(chain.rpc("eth_getTransactionCount", faucet.address, "pending"), 16)
    price = 2 * int(chain.rpc("eth_gasPrice"), 16)
    to = Account.from_key(secrets.token_bytes(32)).address
    txs = [
        signer.sign(nonce=nonce + i, gas_price=price, gas=21_000, to=to, value=1) for i in range(12)
    ]
    # Pipelined on two connections: the node may take them in any order, and mines them
    # all in its next block.
    sender = make_sender(chain.url, connections=2)
    outcomes = exchange(sender, [("eth_sendRawTransaction", [t.raw]) for t in txs], batches=3)
    assert [outcomes[i] for i in range(12)] == [[t.hash] for t in txs]
    receipts = acc.wait_receipts(ClientFor(chain), [t.hash for t in txs], timeout=20)
    assert all(acc.succeeded(r) for r in receipts.values())
    assert int(chain.rpc("eth_getBalance", to, "latest"), 16) == 12
    assert sender.opened == 2


def test_the_nodes_refusal_is_reported_with_its_message(chain):
    faucet = Account.from_key(hardhat_key(4))
    nonce = int(chain.rpc("eth_getTransactionCount", faucet.address, "pending"), 16)
    # Signed for another chain: the node must refuse it.
    foreign = LegacySigner(bytes(faucet.key), faucet.address, chain.chain_id + 1).sign(
        nonce=nonce, gas_price=10**10, gas=21_000, to=faucet.address
    )
    outcomes = exchange(
        make_sender(chain.url), [("eth_sendRawTransaction", [foreign.raw]), ("eth_chainId", [])]
    )
    (refusal,) = outcomes[0]
    assert isinstance(refusal, RpcError)
    assert refusal.method == "eth_sendRawTransaction" and refusal.message
    assert str(chain.url) in str(refusal)
    assert outcomes[1] == [hex(chain.chain_id)]
    assert int(chain.rpc("eth_getTransactionCount", faucet.address, "pending"), 16) == nonce


# --- the guard -------------------------------------------------------------------------------


def test_an_endpoint_outside_the_allow_list_is_refused_without_a_connection():
    listener = Listener()
    try:
        with pytest.raises(EndpointRefused, match="registered"):
            make_sender(listener.url, allowed=["http://127.0.0.1:1"])
        with pytest.raises(EndpointRefused, match="http"):
            make_sender(
                f"ws://127.0.0.1:{listener.port}", allowed=[f"ws://127.0.0.1:{listener.port}"]
            )
        assert listener.accepted() == 0
    finally:
        listener.close()


def test_a_name_that_resolves_to_a_metadata_address_at_connect_time_is_never_connected():
    listener = Listener()
    url = f"http://node.sandbox.test:{listener.port}"
    calls = []

    def resolver(host, port):  # a name whose answer changes between check and connect
        calls.append(host)
        return ["127.0.0.1"] if len(calls) == 1 else ["169.254.169.254"]

    guard = Guard([url], resolver=resolver, cache_seconds=0)
    try:
        sender = make_sender(url, allowed=guard)  # the first answer passes the check
        with pytest.raises(EndpointRefused, match="metadata"):
            asyncio.run(sender.open())  # the second is checked before any socket
        assert listener.accepted() == 0
    finally:
        listener.close()


def test_it_connects_to_the_address_the_guard_checked_and_names_the_host():
    with Sink() as sink:
        url = f"http://node.sandbox.test:{sink.port}"
        resolved = []

        def resolver(host, port):
            resolved.append(host)
            return ["127.0.0.1"]

        guard = Guard([url], resolver=resolver, cache_seconds=0)
        outcomes = exchange(make_sender(url, allowed=guard, connections=2), [("eth_chainId", [])])
        assert outcomes == {0: ["0x7a69"]}
        assert resolved.count("node.sandbox.test") >= 3  # the check, then each connection
        assert sink.hosts == [f"node.sandbox.test:{sink.port}"]
        assert sink.accepted == 2


def test_an_unreachable_node_is_a_clear_error():
    listener = Listener()
    url = listener.url
    listener.close()  # nothing listens there any more
    with pytest.raises(NodeUnreachable, match="cannot connect"):
        asyncio.run(make_sender(url).open())


# --- framing and outcomes --------------------------------------------------------------------


def test_pipelined_answers_are_matched_to_their_requests():
    def answer(request):
        if request["id"] % 3 == 0:
            error = {"code": -32000, "message": f"nonce too low ({request['id']})"}
            return {"jsonrpc": "2.0", "id": request["id"], "error": error}
        return {"jsonrpc": "2.0", "id": request["id"], "result": request["params"][0]}

    with Sink(answer) as sink:
        calls = [("eth_sendRawTransaction", [f"0x{i:04x}"]) for i in range(60)]
        outcomes = exchange(make_sender(sink.url, connections=3), calls, batches=4)
        assert sink.accepted == 3
    for i in range(60):
        (outcome,) = outcomes[i]
        if (i + 1) % 3 == 0:
            assert isinstance(outcome, RpcError)
            assert (outcome.code, outcome.message) == (-32000, f"nonce too low ({i + 1})")
        else:
            assert outcome == f"0x{i:04x}"


def test_chunked_answers_are_read():
    with Sink(chunked=True) as sink:
        outcomes = exchange(make_sender(sink.url), [("eth_blockNumber", [])] * 5)
    assert all(len(o) == 1 and o[0].startswith("0x") for o in outcomes.values())
    assert len(outcomes) == 5


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (b"<html>busy</html>", "not JSON"),
        ({"jsonrpc": "2.0", "id": 999, "result": "0x1"}, "response id"),
        ({"jsonrpc": "1.0", "id": 1, "result": "0x1"}, "jsonrpc"),
        ({"jsonrpc": "2.0", "id": 1}, "exactly one of result or error"),
    ],
)
def test_an_answer_that_is_not_json_rpc_is_non_conforming(reply, match):
    with Sink(lambda request: reply) as sink:
        outcomes = exchange(make_sender(sink.url), [("eth_sendRawTransaction", ["0x00"])])
    (outcome,) = outcomes[0]
    assert isinstance(outcome, NonConformingNode)
    assert match in str(outcome)


def test_a_silent_node_ends_in_no_answer_after_the_timeout():
    with Sink(lambda request: None) as sink:
        sender = make_sender(sink.url, connections=1, timeout=0.3)
        outcomes = exchange(sender, [("eth_sendRawTransaction", ["0x00"])] * 3)
    assert len(outcomes) == 3
    for (outcome,) in outcomes.values():
        assert isinstance(outcome, NodeUnreachable)
        assert "no answer in 0.3 s" in str(outcome)


def test_requests_after_the_nodes_connection_close_are_sent_again_elsewhere():
    # The first connection answers twice, the second time with "Connection: close", and
    # processes nothing more: what was pipelined behind it goes to the other connection.
    with Sink(close_first_after=2) as sink:
        calls = [("eth_blockNumber", [])] * 8
        outcomes = exchange(make_sender(sink.url, connections=2), calls)
        processed = len(sink.requests)
    assert sorted(outcomes) == list(range(8))
    assert all(len(o) == 1 and o[0].startswith("0x") for o in outcomes.values())
    assert processed == 8  # each request processed exactly once


def test_https_endpoints_are_verified_and_spoken_to_over_tls(tmp_path):
    server_context, client_context = tls_pair(tmp_path)
    with Sink(ssl_context=server_context) as sink:
        outcomes = exchange(
            make_sender(sink.url, ssl_context=client_context), [("eth_chainId", [])] * 4
        )
        assert outcomes == {i: ["0x7a69"] for i in range(4)}
        # Without trusting the certificate, there is no connection to talk over.
        with pytest.raises(NodeUnreachable, match="TLS error: the certificate does not verify"):
            asyncio.run(make_sender(sink.url).open())
