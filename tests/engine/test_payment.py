"""Payment suite: latency, double spend, rollback, value conservation, on a real node."""

import pytest

from assessments.engine.errors import InvalidParameters
from assessments.engine.results import Target
from assessments.engine.suites import payment
from tests.engine.conftest import hardhat_key

FAST = {
    "accounts": 3,
    "transfers": 12,
    "fund_wei": 10**16,
    "double_spend_observe_blocks": 1,
    "spread_s": 0,
}


def target(node, key_index):
    return Target(endpoints=[node.url], allowed=[node.url], faucet_key=hardhat_key(key_index))


def balance(node, index):
    from eth_account import Account

    return int(node.rpc("eth_getBalance", Account.from_key(hardhat_key(index)).address), 16)


def test_it_passes_a_healthy_chain(chain):
    before = balance(chain, 10)
    result = payment.run(target(chain, 10), {**FAST, "max_p99_finality_s": 5.0})
    assert result.passed, result.to_dict()["checks"]
    assert {c.name for c in result.checks} == {
        "receipt_latency",
        "finality_latency",
        "double_spend",
        "rollback",
        "value_conservation",
    }
    assert result.metrics["transfers"]["succeeded"] == 12
    assert result.metrics["receipt_latency_s"]["count"] == 12
    assert result.check("value_conservation").evidence["difference_wei"] == "0"
    # What was not spent on gas went back to the faucet.
    assert before - balance(chain, 10) < 10**16


def test_a_latency_criterion_below_the_real_latency_fails(chain):
    result = payment.run(
        target(chain, 11),
        {**FAST, "max_p99_latency_s": 0.000001, "double_spend": False, "rollback": False},
    )
    check = result.check("receipt_latency")
    assert check.passed is False
    assert check.evidence["p99_s"] > 0.000001
    assert result.check("value_conservation").passed is True


def test_the_double_spend_pair_is_never_both_included(interval_chain):
    """On interval mining both transactions reach the pool before a block is made.

    They are sent at once through two endpoints (two addresses of the one node).
    """
    endpoints = [interval_chain.url, interval_chain.url.replace("127.0.0.1", "localhost")]
    result = payment.run(
        Target(endpoints=endpoints, allowed=endpoints, faucet_key=hardhat_key(12)),
        {**FAST, "transfers": 2, "rollback": False, "double_spend_observe_blocks": 2},
    )
    check = result.check("double_spend")
    assert check.passed is True
    assert [s["endpoint"] for s in check.evidence["sent"]] == endpoints
    assert len(check.evidence["included"]) == 1
    assert check.evidence["nonce_consumed"] is True
    assert result.check("value_conservation").passed is True


def test_finality_waits_for_the_configured_depth(interval_chain):
    result = payment.run(
        target(interval_chain, 13),
        {
            **FAST,
            "transfers": 3,
            "finality_depth": 3,
            "max_p99_finality_s": 0.5,
            "double_spend": False,
            "rollback": False,
        },
    )
    # Two more one-second blocks cannot come within half a second.
    assert result.check("finality_latency").passed is False
    stats = result.metrics["finality_latency_s"]
    assert stats["min"] >= 1.5


def test_a_reverting_payment_leaves_balances_unchanged_but_for_gas(chain):
    result = payment.run(target(chain, 14), {**FAST, "transfers": 2, "double_spend": False})
    check = result.check("rollback")
    assert check.passed is True
    assert check.evidence["unexpected_changes"] == {}
    assert int(check.evidence["gas_fee_wei"]) > 0
    told = check.evidence["sender_told"]
    assert told.get("receipt_status") == "0x0" or "refused_at_submission" in told


def test_the_rollback_check_fails_when_the_payment_goes_through(chain, monkeypatch):
    # Creation code that deploys an empty contract: a payee that accepts every payment.
    monkeypatch.setattr(payment.contracts, "bytecode", lambda name: "0x60006000f3")
    result = payment.run(target(chain, 15), {**FAST, "transfers": 2, "double_spend": False})
    check = result.check("rollback")
    assert check.passed is False
    assert check.evidence["unexpected_changes"]  # the payee and the sender moved
    assert result.check("value_conservation").passed is True


def test_it_needs_a_faucet(chain):
    with pytest.raises(InvalidParameters, match="faucet"):
        payment.run(Target(endpoints=[chain.url], allowed=[chain.url]), FAST)
