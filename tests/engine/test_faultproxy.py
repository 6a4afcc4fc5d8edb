"""The fault-injecting proxy itself, against a real Hardhat node: each fault does what it says
(and a healed proxy passes answers through unchanged)."""

import time

import httpx
import pytest
from eth_account import Account

from assessments.engine import ecdsa
from tests.engine.conftest import hardhat_key, start_node, stop_node
from tests.engine.faultproxy import FaultProxy, sender_and_nonce


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """Hardhat with one-second blocks and no automine: a transaction waits for its block."""
    started = start_node(tmp_path_factory.mktemp("proxied"), chain_id=31341, automine=False)
    yield started
    stop_node(started)


@pytest.fixture
def proxy(node):
    with FaultProxy(node.url) as p:
        yield p


def call(url, method, *params):
    body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)}
    reply = httpx.post(url, json=body, timeout=10).json()
    assert reply["id"] == 7
    return reply


def result(url, method, *params):
    reply = call(url, method, *params)
    assert "result" in reply, reply
    return reply["result"]


def height(url):
    return int(result(url, "eth_blockNumber"), 16)


def wait_for_height(url, target, timeout=15):
    deadline = time.monotonic() + timeout
    while height(url) < target:
        assert time.monotonic() < deadline, f"height {target} not reached"
        time.sleep(0.2)


def transfer(node, key_index, nonce, to="0x" + "11" * 20, value=1, gas_price=2 * 10**9):
    account = Account.from_key(hardhat_key(key_index))
    signed = account.sign_transaction(
        {
            "nonce": nonce,
            "gasPrice": gas_price,
            "gas": 21000,
            "to": to,
            "value": value,
            "chainId": node.chain_id,
        }
    )
    return "0x" + bytes(signed.raw_transaction).hex(), "0x" + bytes(signed.hash).hex()


def mined_transfer(node, proxy, key_index):
    """A transfer sent through the proxy and mined; its hash."""
    address = Account.from_key(hardhat_key(key_index)).address
    nonce = int(node.rpc("eth_getTransactionCount", address, "pending"), 16)
    raw, tx_hash = transfer(node, key_index, nonce)
    assert result(proxy.url, "eth_sendRawTransaction", raw) == tx_hash
    deadline = time.monotonic() + 15
    while node.rpc("eth_getTransactionReceipt", tx_hash) is None:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return tx_hash


def test_without_a_fault_it_passes_single_calls_and_batches_through(node, proxy):
    wait_for_height(node.url, 2)
    direct = node.rpc("eth_getBlockByNumber", "0x1", True)
    assert result(proxy.url, "eth_getBlockByNumber", "0x1", True) == direct
    batch = [
        {"jsonrpc": "2.0", "id": "a", "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": "b", "method": "eth_getBlockByNumber", "params": ["0x1", False]},
    ]
    answers = httpx.post(proxy.url, json=batch, timeout=10).json()
    assert [a["id"] for a in answers] == ["a", "b"]
    assert int(answers[0]["result"], 16) == 31341
    assert answers[1]["result"]["hash"] == direct["hash"]
    assert call(proxy.url, "eth_noSuchMethod")["error"]["code"] < 0
    assert proxy.calls["eth_getBlockByNumber"] >= 2


def test_a_stalled_head_stays_put_while_the_node_goes_on(node, proxy):
    frozen = proxy.stall()
    tx_hash = mined_transfer(node, proxy, 1)
    wait_for_height(node.url, frozen + 2)
    assert height(proxy.url) == frozen
    assert int(result(proxy.url, "eth_getBlockByNumber", "latest", False)["number"], 16) == frozen
    assert result(proxy.url, "eth_getBlockByNumber", hex(frozen + 1), False) is None
    assert result(proxy.url, "eth_getTransactionReceipt", tx_hash) is None
    assert result(proxy.url, "eth_getTransactionByHash", tx_hash)["blockNumber"] is None
    proxy.heal()
    assert height(proxy.url) >= frozen + 2
    assert result(proxy.url, "eth_getTransactionReceipt", tx_hash)["transactionHash"] == tx_hash


def test_delayed_blocks_appear_only_after_the_delay(node, proxy):
    wait_for_height(node.url, 8)
    proxy.delay(4)

    def timestamp(number):
        block = node.rpc("eth_getBlockByNumber", hex(number), False)
        return None if block is None else int(block["timestamp"], 16)

    hidden = []
    for _ in range(3):
        before = time.time()
        shown = height(proxy.url)
        assert timestamp(shown) <= time.time() - 4  # old enough to be shown
        following = timestamp(shown + 1)
        assert following is None or following > before - 4  # the next one is too young
        hidden.append(height(node.url) - shown)
        time.sleep(1)
    assert max(hidden) >= 1, hidden


def test_a_fork_changes_hashes_from_its_height_on_and_keeps_a_linked_chain(node):
    with FaultProxy(node.url) as healthy, FaultProxy(node.url) as forked:
        wait_for_height(node.url, 5)
        at = height(node.url) - 2
        forked.fork(at)
        below = [
            result(p.url, "eth_getBlockByNumber", hex(at - 1), False) for p in (healthy, forked)
        ]
        assert below[0]["hash"] == below[1]["hash"]
        ours = result(healthy.url, "eth_getBlockByNumber", hex(at), False)
        theirs = result(forked.url, "eth_getBlockByNumber", hex(at), False)
        above = result(forked.url, "eth_getBlockByNumber", hex(at + 1), False)
        assert theirs["hash"] != ours["hash"] and theirs["parentHash"] == below[1]["hash"]
        assert above["parentHash"] == theirs["hash"]
        by_hash = result(forked.url, "eth_getBlockByHash", theirs["hash"], False)
        assert by_hash["hash"] == theirs["hash"]
        assert result(forked.url, "eth_getBlockByHash", ours["hash"], False) is None


def test_both_transactions_of_a_same_nonce_pair_are_reported_included(node, proxy):
    proxy.double_spend()
    address = Account.from_key(hardhat_key(2)).address
    nonce = int(node.rpc("eth_getTransactionCount", address, "pending"), 16)
    pair = [transfer(node, 2, nonce, value=v) for v in (1, 2)]
    assert sender_and_nonce(pair[0][0]) == (address.lower(), nonce)
    accepted = [call(proxy.url, "eth_sendRawTransaction", raw) for raw, _ in pair]
    assert [a.get("result") for a in accepted] == [h for _, h in pair]
    deadline = time.monotonic() + 15
    while node.rpc("eth_getTransactionReceipt", pair[0][1]) is None:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    receipts = [result(proxy.url, "eth_getTransactionReceipt", h) for _, h in pair]
    assert [r["transactionHash"] for r in receipts] == [h for _, h in pair]
    assert node.rpc("eth_getTransactionReceipt", pair[1][1]) is None  # the node took one


def test_high_s_and_corrupted_signatures_are_served_for_the_chosen_transactions(node, proxy):
    tx_hash = mined_transfer(node, proxy, 3)
    sender = Account.from_key(hardhat_key(3)).address
    honest = result(proxy.url, "eth_getTransactionByHash", tx_hash)
    assert ecdsa.signature_of(honest).low_s and ecdsa.recover_sender(honest) == sender

    proxy.high_s([tx_hash])
    served = result(proxy.url, "eth_getTransactionByHash", tx_hash)
    assert not ecdsa.signature_of(served).low_s
    assert ecdsa.recover_sender(served) == sender  # malleable: same sender, other s
    block = result(proxy.url, "eth_getBlockByNumber", served["blockNumber"], True)
    in_block = next(t for t in block["transactions"] if t["hash"] == tx_hash)
    assert in_block["s"] == served["s"]

    proxy.heal()
    proxy.corrupt_signatures([tx_hash])
    served = result(proxy.url, "eth_getTransactionByHash", tx_hash)
    assert ecdsa.signature_of(served).low_s and served["s"] != honest["s"]
    assert ecdsa.recover_sender(served) != sender


def test_two_transactions_signed_with_one_nonce_are_served_inside_a_block(node, proxy):
    top = height(node.url)
    reuse = proxy.reuse_nonce(top)
    block = result(proxy.url, "eth_getBlockByNumber", hex(top), True)
    served = [t for t in block["transactions"] if t["hash"] in reuse["hashes"]]
    assert len(served) == 2 and {t["r"] for t in served} == {reuse["r"]}
    assert all(ecdsa.recover_sender(t) == reuse["sender"] for t in served)
    by_hash = result(proxy.url, "eth_getTransactionByHash", reuse["hashes"][1])
    assert by_hash["blockNumber"] == hex(top) and by_hash["r"] == reuse["r"]
    hashes_only = result(proxy.url, "eth_getBlockByNumber", hex(top), False)["transactions"]
    assert reuse["hashes"][0] in hashes_only
    assert node.rpc("eth_getTransactionByHash", reuse["hashes"][0]) is None
