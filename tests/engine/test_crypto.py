"""Crypto suite: signatures recover, low-s, EIP-155, and a reused ECDSA nonce gives the key away."""

import secrets

import pytest
from eth_account import Account
from eth_keys import keys

from assessments.engine import ecdsa
from assessments.engine.suites import crypto
from tests.engine.conftest import hardhat_key, start_node, stop_node
from tests.engine.helpers import FakeNode, legacy_tx_with_nonce, result, sign_with_nonce
from tests.engine.nodes import local_target


def target(node, faucet_key=None):
    return local_target(node.url, faucet_key=faucet_key)


def send_transfers(node, key, count):
    account = Account.from_key(key)
    nonce = int(node.rpc("eth_getTransactionCount", account.address, "pending"), 16)
    hashes = []
    for i in range(count):
        signed = account.sign_transaction(
            {
                "nonce": nonce + i,
                "gasPrice": 10**10,
                "gas": 21000,
                "to": account.address,
                "value": 1,
                "chainId": node.chain_id,
            }
        )
        hashes.append(
            node.rpc("eth_sendRawTransaction", "0x" + bytes(signed.raw_transaction).hex())
        )
    return hashes


def test_it_passes_a_healthy_chain(chain):
    send_transfers(chain, hardhat_key(5), 3)
    result_ = crypto.run(target(chain), {"blocks": 20})
    assert result_.passed, result_.to_dict()["checks"]
    assert result_.metrics["signatures_judged"] >= 3
    assert all(c.passed is True for c in result_.checks)


def test_it_recovers_the_private_key_from_two_signatures_sharing_a_nonce():
    key = secrets.token_bytes(32)
    k = secrets.randbelow(ecdsa.N - 1) + 1
    z1, z2 = secrets.token_bytes(32), secrets.token_bytes(32)
    r1, s1, _ = sign_with_nonce(key, z1, k)
    r2, s2, _ = sign_with_nonce(key, z2, k)
    assert r1 == r2
    recovered = ecdsa.recover_private_key(z1, s1, z2, s2, r1)
    assert recovered.to_bytes() == key
    address = keys.PrivateKey(key).public_key.to_checksum_address()
    assert ecdsa.recover_private_key(z1, s1, z2, s2, r1, address=address).to_bytes() == key


def test_two_signatures_with_different_nonces_reveal_nothing():
    key = secrets.token_bytes(32)
    z1, z2 = secrets.token_bytes(32), secrets.token_bytes(32)
    r1, s1, _ = sign_with_nonce(key, z1, 12345)
    _, s2, _ = sign_with_nonce(key, z2, 67890)
    address = keys.PrivateKey(key).public_key.to_checksum_address()
    with pytest.raises(ValueError):
        ecdsa.recover_private_key(z1, s1, z2, s2, r1, address=address)


def test_it_detects_a_reused_nonce_on_chain_and_proves_it_with_the_key(chain):
    key = bytes.fromhex(hardhat_key(6)[2:])
    account = Account.from_key(key)
    nonce = int(chain.rpc("eth_getTransactionCount", account.address, "pending"), 16)
    k = 0xC0FFEE
    hashes = []
    for i in range(2):
        raw, tx_hash, _ = legacy_tx_with_nonce(
            key,
            k,
            nonce=nonce + i,
            gas_price=10**10,
            to="0x" + "22" * 20,
            value=i + 1,
            chain_id=chain.chain_id,
        )
        assert chain.rpc("eth_sendRawTransaction", raw) == tx_hash
        hashes.append(tx_hash)
    result_ = crypto.run(target(chain), {"blocks": 10})
    check = result_.check("nonce_reuse")
    assert check.passed is False
    (reuse,) = check.evidence["reuses"]
    assert set(reuse["transactions"]) == set(hashes)
    assert reuse["key_recovered"] is True
    assert reuse["recovered_key_address"] == account.address
    import hashlib

    assert reuse["recovered_key_sha256"] == hashlib.sha256(key).hexdigest()
    assert key.hex() not in str(result_.to_dict())
    assert check.message.lower().startswith(f"{account.address.lower()} signed transactions ")
    assert all(h in check.message for h in hashes)
    assert check.message.endswith(
        f"; the private key recovered from the pair belongs to {account.address}"
    )
    # The signatures themselves are valid: only the nonce reuse fails.
    assert result_.check("signatures_recover").passed is True


def test_it_fails_a_signature_without_replay_protection(chain):
    account = Account.from_key(hardhat_key(7))
    nonce = int(chain.rpc("eth_getTransactionCount", account.address, "pending"), 16)
    signed = account.sign_transaction(
        {"nonce": nonce, "gasPrice": 10**10, "gas": 21000, "to": account.address, "value": 1}
    )
    tx_hash = chain.rpc("eth_sendRawTransaction", "0x" + bytes(signed.raw_transaction).hex())
    result_ = crypto.run(target(chain), {"blocks": 0, "transactions": [tx_hash]})
    check = result_.check("replay_protection")
    assert check.passed is False
    assert check.evidence["unprotected"][0]["tx"] == tx_hash
    assert check.message.startswith(
        f"transaction {tx_hash} from {account.address.lower()} commits to no chain id"
    )
    lenient = crypto.run(
        target(chain),
        {"blocks": 0, "transactions": [tx_hash], "require_replay_protection": False},
    )
    assert lenient.check("replay_protection").passed is True


def test_it_fails_a_signature_for_another_chain(chain):
    hashes = send_transfers(chain, hardhat_key(8), 1)
    result_ = crypto.run(target(chain), {"blocks": 0, "transactions": hashes, "chain_id": 1})
    assert result_.check("replay_protection").evidence["wrong_chain"][0]["signed_for"] == 31337
    assert result_.check("replay_protection").passed is False


def forged_node(tx):
    def answer(request):
        if isinstance(request, list):
            return [answer(r) for r in request]
        method = request["method"]
        if method == "eth_chainId":
            return result(request, hex(31337))
        if method == "eth_blockNumber":
            return result(request, "0x0")
        if method == "eth_getTransactionByHash":
            return result(request, tx)
        return result(request, None)

    return FakeNode(answer)


def signed_json(key, **overrides):
    account = Account.from_key(key)
    fields = {"nonce": 0, "gasPrice": 10**9, "gas": 21000, "to": "0x" + "33" * 20, "value": 9}
    signed = account.sign_transaction({**fields, "chainId": 31337})
    tx = {
        "hash": "0x" + bytes(signed.hash).hex(),
        "type": "0x0",
        "from": account.address.lower(),
        "nonce": "0x0",
        "gasPrice": hex(10**9),
        "gas": hex(21000),
        "to": fields["to"],
        "value": "0x9",
        "input": "0x",
        "v": hex(signed.v),
        "r": hex(signed.r),
        "s": hex(signed.s),
    }
    tx.update(overrides)
    return tx


def test_it_fails_a_signature_that_does_not_recover_to_the_sender():
    tx = signed_json(secrets.token_bytes(32), value="0xa")  # the signed value was 9
    node = forged_node(tx)
    try:
        result_ = crypto.run(target(node), {"blocks": 0, "transactions": [tx["hash"]]})
    finally:
        node.close()
    check = result_.check("signatures_recover")
    assert check.passed is False
    assert check.message.startswith(f"transaction {tx['hash']} from {tx['from']} carries ")
    assert "not to its sender (1 of 1 signatures)" in check.message


def test_it_fails_a_high_s_signature():
    tx = signed_json(secrets.token_bytes(32))
    s = int(tx["s"], 16)
    v = int(tx["v"], 16)
    # The malleated twin: (r, n - s) with the other parity recovers to the same sender.
    flipped = 35 + 2 * 31337 + (1 - (v - 35) % 2)
    tx.update(s=hex(ecdsa.N - s), v=hex(flipped))
    node = forged_node(tx)
    try:
        result_ = crypto.run(target(node), {"blocks": 0, "transactions": [tx["hash"]]})
    finally:
        node.close()
    low_s = result_.check("low_s")
    assert low_s.passed is False
    assert low_s.message.startswith(f"transaction {tx['hash']} from {tx['from']} has a high s")
    assert result_.check("signatures_recover").passed is True


def quiet_node():
    """A node whose only block holds no transaction."""

    def answer(request):
        if isinstance(request, list):
            return [answer(r) for r in request]
        if request["method"] == "eth_chainId":
            return result(request, hex(31337))
        if request["method"] == "eth_blockNumber":
            return result(request, "0x0")
        block = {"number": "0x0", "hash": "0x" + "11" * 32, "parentHash": "0x" + "00" * 32}
        return result(request, {**block, "timestamp": "0x1", "transactions": []})

    return FakeNode(answer)


def test_a_quiet_chain_without_a_faucet_is_not_judged_never_passed():
    node = quiet_node()
    try:
        result_ = crypto.run(target(node), {"blocks": 10})
    finally:
        node.close()
    assert result_.outcome == "not_judged" and result_.passed is None
    assert result_.to_dict()["outcome"] == "not_judged"
    for check in result_.checks:
        assert check.outcome == "not_judged"
        assert check.message == (
            "no signature to judge: 0 transaction(s) in the latest 10 blocks, and no faucet "
            "key to generate signed traffic"
        )


def test_a_quiet_chain_gets_its_own_signed_traffic(interval_chain):
    faucet = Account.from_key(hardhat_key(11))
    before = int(interval_chain.rpc("eth_getBalance", faucet.address, "latest"), 16)
    result_ = crypto.run(
        target(interval_chain, faucet_key=hardhat_key(11)), {"blocks": 1, "min_signatures": 3}
    )
    generated = result_.metrics["generated_transactions"]
    assert len(generated) == 3
    assert result_.metrics["signatures_judged"] >= 3
    assert result_.outcome == "passed", result_.to_dict()["checks"]
    assert all(c.outcome == "passed" for c in result_.checks)
    # The transfers are the suite's own test account's, sent back to the faucet.
    sent = interval_chain.rpc("eth_getTransactionByHash", generated[0])
    assert sent["to"].lower() == faucet.address.lower()
    assert sent["from"].lower() != faucet.address.lower()
    # What was left went back: the faucet paid only fees (five transfers' worth at most).
    after = int(interval_chain.rpc("eth_getBalance", faucet.address, "latest"), 16)
    assert before - after < 10**16


def test_a_stalled_chain_says_why_nothing_was_judged(tmp_path):
    node = start_node(tmp_path, chain_id=31352, automine=False)
    try:
        node.rpc("evm_setIntervalMining", 0)
        result_ = crypto.run(
            target(node, faucet_key=hardhat_key(1)), {"blocks": 5, "traffic_timeout_s": 2}
        )
    finally:
        stop_node(node)
    assert result_.outcome == "not_judged"
    message = result_.check("signatures_recover").message
    assert message.startswith("no signature to judge: 0 transaction(s) in the latest 5 blocks")
    assert "funding its own traffic failed within 2 s" in message
