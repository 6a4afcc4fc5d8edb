"""The ledger suite against a real Hardhat node: transfers, a contract creation and a
reverted payment replay to the balances the node reports; fees burned and tips to the
block's beneficiary conserve value; nonces run without gaps."""

import contextlib

import pytest

from assessments.engine import InvalidParameters, Target, contracts, run_suite
from assessments.engine.suites import ledger
from tests.engine.conftest import start_node, stop_node


@pytest.fixture(scope="module")
def busy_chain(tmp_path_factory):
    """Automine only: one block per transaction, no empty blocks."""
    node = start_node(
        tmp_path_factory.mktemp("ledger-chain"), chain_id=31377, block_ms=0, automine=True
    )
    accounts = node.rpc("eth_accounts")
    first = int(node.rpc("eth_blockNumber"), 16) + 1
    for i in range(3):
        node.rpc(
            "eth_sendTransaction",
            {"from": accounts[1], "to": accounts[2 + i], "value": hex(10**16 * (i + 1))},
        )
    node.rpc("eth_sendTransaction", {"from": accounts[5], "to": accounts[1], "value": hex(7)})
    # A contract creation (no recipient), then a payment to it that reverts.
    tx = node.rpc(
        "eth_sendTransaction",
        {"from": accounts[6], "data": contracts.bytecode("RevertingPayee"), "gas": hex(500_000)},
    )
    payee = node.rpc("eth_getTransactionReceipt", tx)["contractAddress"]
    # Hardhat reports the revert as an error; the transaction is still mined, as failed.
    with contextlib.suppress(RuntimeError):
        node.rpc(
            "eth_sendTransaction",
            {"from": accounts[6], "to": payee, "value": hex(10**15), "gas": hex(100_000)},
        )
    last = int(node.rpc("eth_blockNumber"), 16)
    yield node, first, last, accounts
    stop_node(node)


def target(node):
    return Target(endpoints=[node.url], allowed=[node.url], allowed_networks=["127.0.0.1/32"])


def test_a_real_range_replays_to_the_nodes_balances(busy_chain):
    node, first, last, accounts = busy_chain
    result = run_suite("ledger", target(node), {"from_block": first, "to_block": last})
    assert result.passed, [c.to_dict() for c in result.checks if c.passed is not True]
    for name in ("no_double_spend", "nonces_gap_free", "no_negative_balance", "value_conserved"):
        assert result.check(name).passed is True, name
    m = result.metrics
    assert m["transactions"] == last - first + 1 == 6
    assert m["failed_transactions"] == 1
    assert (m["first_block"], m["last_block"], m["blocks"]) == (first, last, 6)
    assert m["balance_mismatches"] == 0
    # Hardhat burns the base fee and pays the tip to the block's beneficiary.
    assert 0 < int(m["fees_burned_wei"]) < int(m["fees_paid_wei"])
    assert m["value_created_wei"] == "0"
    evidence = result.check("value_conserved").evidence
    assert evidence["actual_change_wei"] == evidence["expected_change_wei"]
    assert int(evidence["expected_change_wei"]) == -int(m["fees_burned_wei"])


def test_the_default_range_is_the_latest_blocks(busy_chain):
    node, first, last, _ = busy_chain
    result = ledger.run(target(node), {"blocks": 3})
    assert (result.metrics["first_block"], result.metrics["last_block"]) == (last - 2, last)
    assert result.passed


def test_the_range_must_be_on_the_chain(busy_chain):
    node, _, last, _ = busy_chain
    with pytest.raises(InvalidParameters, match="above the node's head"):
        ledger.run(target(node), {"from_block": 1, "to_block": last + 100})
    with pytest.raises(InvalidParameters, match="at most 2"):
        ledger.run(target(node), {"from_block": 1, "to_block": 3, "max_blocks": 2})
    with pytest.raises(InvalidParameters):
        ledger.run(target(node), {"from_block": 5, "to_block": 4})


def test_a_test_run_of_the_case_runs_the_ledger_suite(busy_chain, people, submitted_a):
    from applications.models import Node
    from assessments import services
    from assessments.evaluations.inputs import engine_inputs, source_error
    from tests.conftest import advance

    node, first, last, _ = busy_chain
    app = advance(submitted_a, people, "technical_testing")
    registered = app.nodes.get()
    Node.objects.filter(pk=registered.pk).update(endpoint_url=node.url)
    run = services.run_now(
        app,
        actor=people.olivia,
        suites=["ledger"],
        parameters={"ledger": {"from_block": first, "to_block": last}},
        node_ids=[registered.pk],
    )
    assert run.status == "succeeded" and run.suites == ["ledger"]
    (suite_run,) = run.suite_runs.all()
    assert suite_run.passed is True and suite_run.result["metrics"]["transactions"] == 6
    assert source_error("engine_check", "ledger.checks.value_conserved") is None
    values, _ = engine_inputs(
        [run.pk], ["ledger.checks.value_conserved", "ledger.metrics.nonce_gaps"]
    )
    assert values == {"ledger.checks.value_conserved": True, "ledger.metrics.nonce_gaps": 0}
