"""Crypto suite: signatures recover, low-s, EIP-155, and a reused ECDSA nonce gives the key away."""

import secrets

import pytest
from eth_account import Account
from eth_keys import keys

from assessments.engine import ecdsa
from assessments.engine.results import Target
from assessments.engine.suites import crypto
from tests.engine.conftest import hardhat_key
from tests.engine.helpers import FakeNode, legacy_tx_with_nonce, result, sign_with_nonce


def target(node):
    return Target(endpoints=[node.url], allowed=[node.url])


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
    assert result_.check("signatures_recover").passed is False


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
    assert result_.check("low_s").passed is False
    assert result_.check("signatures_recover").passed is True
