"""Returning test accounts' funds to the faucet: never across a nonce gap."""

from eth_account import Account

from assessments.engine import accounts as acc
from assessments.engine.rpc import RpcClient

from .conftest import hardhat_key

FAUCET = 7  # a Hardhat account no other engine test funds from


def _funded(rpc, count):
    chain = acc.chain_id(rpc)
    price = acc.gas_price(rpc, 2.0)
    wallet = acc.new_accounts(count)
    acc.fund(
        rpc,
        hardhat_key(FAUCET),
        [a.address for a in wallet],
        10**16,
        chain=chain,
        price=price,
        timeout=30,
    )
    return wallet, chain, price


def test_an_account_behind_its_handed_over_nonce_is_left_alone(interval_chain):
    with RpcClient(interval_chain.url, allowed=[interval_chain.url]) as rpc:
        (gapped, clean), chain_id, price = _funded(rpc, 2)
        faucet = Account.from_key(hardhat_key(FAUCET)).address
        # Nonce 0 was "lost on the way"; nonce 1 waits in the node's queue behind the gap.
        queued = acc.sign(gapped, nonce=1, chain_id=chain_id, gas_price=price, to=faucet, value=1)
        acc.send_raw(rpc, queued)
        handed_over = {gapped.address: 2, clean.address: 0}
        returned = acc.sweep(
            rpc,
            [gapped, clean],
            faucet,
            chain=chain_id,
            price=price,
            timeout=5,
            next_nonces=handed_over,
        )
        # The clean account was swept; the gapped one kept its balance and its gap.
        assert returned > 0
        assert acc.balances(rpc, [clean.address])[clean.address] < 21_000 * price
        assert acc.balances(rpc, [gapped.address])[gapped.address] == 10**16
        assert acc.nonce_of(rpc, gapped.address, "latest") == 0
        # The node still answers for the pending block. (A refund that filled the gap would
        # have released the queued transaction against an empty account, after which this
        # Hardhat node refuses every request that reads the pending block.)
        assert acc.nonce_of(rpc, gapped.address, "pending") == 0
        assert acc.nonce_of(rpc, clean.address, "pending") == 1
