"""Clearing suite: open-loop stepped load on a real node, saturation and unconfirmed counts."""

import time

import pytest

from assessments.engine.results import FAILED, INVALID, NOT_JUDGED
from assessments.engine.sender import RawTxSender
from assessments.engine.suites import clearing
from tests.engine.conftest import hardhat_key, start_node, stop_node
from tests.engine.nodes import local_target
from tests.engine.sink import Sink

# Judged against time budgets (latency, generator lag): run alone, not beside other tests.
pytestmark = pytest.mark.serial

# The machine running the tests is shared: allow the generator some scheduling slack
# except where its lag is what is tested.
LAG = {"max_generator_lag_s": 0.25}


def target(node, key_index):
    return local_target(node.url, hardhat_key(key_index))


def test_it_clears_a_light_stepped_load(interval_chain):
    result = clearing.run(
        target(interval_chain, 16),
        {
            "rates": [5, 10],
            "step_seconds": 2,
            "in_flight_window_s": 3,
            "min_sustained_tps": 4,
            **LAG,
        },
    )
    assert result.passed, result.to_dict()["checks"]
    first, second = result.metrics["steps"]
    assert (first["offered"], second["offered"]) == (10, 20)
    assert second["confirmed"] == 20 and second["unconfirmed"] == 0
    assert first["valid"] and second["sustained"]
    # One-second blocks: a transaction waits up to a block for inclusion.
    assert 0 < second["latency_s"]["p50"] <= 2.5
    assert result.metrics["saturation"]["reached"] is False
    assert result.metrics["saturation"]["max_sustained_rate"] == 10
    assert result.metrics["accounts"] == 31
    # Confirmations come from blocks: the step's transactions appear in the block series.
    assert sum(ours for _, _, ours in result.charts["blocks"]["10.0"]) == 20


def test_it_reports_the_saturation_point(narrow_chain):
    # Blocks hold ten transfers a second: 4 tx/s is cleared, 20 tx/s piles up.
    result = clearing.run(
        target(narrow_chain, 17),
        {
            "rates": [4, 20, 40],
            "step_seconds": 2,
            "in_flight_window_s": 1,
            "max_p99_latency_s": 2.0,
            "min_sustained_tps": 100,
            **LAG,
        },
    )
    saturation = result.metrics["saturation"]
    assert saturation["max_sustained_rate"] == 4, result.metrics["steps"]
    assert saturation["reached"] is True and saturation["first_unsustained_rate"] == 20
    assert len(result.metrics["steps"]) == 2  # it stopped at saturation
    slow = result.metrics["steps"][1]
    assert slow["latency_s"]["p99"] > 2.0
    # Latency counts from the schedule: the backlog shows, it is not hidden by waiting.
    assert slow["latency_s"]["max"] >= (40 - 20) / 10
    assert result.check("sustained_throughput").passed is False


def test_what_is_never_confirmed_is_counted_as_unconfirmed(interval_chain):
    result = clearing.run(
        target(interval_chain, 18),
        {
            "rates": [5],
            "step_seconds": 1,
            "confirm_timeout_s": 0.05,
            "in_flight_window_s": 2,
            **LAG,
        },
    )
    (step,) = result.metrics["steps"]
    assert step["unconfirmed"] > 0
    assert step["confirmed"] + step["unconfirmed"] + step["failed"] + step["refused"] == 5
    assert step["sustained"] is False


def test_it_loads_a_contract_call_workload(interval_chain):
    result = clearing.run(
        target(interval_chain, 19),
        {"rates": [5], "step_seconds": 1, "workload": "call", "in_flight_window_s": 2, **LAG},
    )
    (step,) = result.metrics["steps"]
    assert step["confirmed"] == 5, step
    assert result.passed


def test_generator_lag_beyond_the_bound_invalidates_a_step(interval_chain):
    result = clearing.run(
        target(interval_chain, 15),
        {"rates": [5], "step_seconds": 1, "max_generator_lag_s": 1e-9, "in_flight_window_s": 2},
    )
    (step,) = result.metrics["steps"]
    assert step["valid"] is False
    check = result.check("generator_valid")
    assert check.outcome == FAILED and check.instrument
    assert "generator_limit_rate" in result.metrics["saturation"]
    # The engine's generator fell behind, not the chain: invalid, with the reason.
    assert result.outcome == INVALID and result.passed is None
    assert "load generator fell behind its schedule (p99 lag" in result.invalid_reason
    assert "at 5 tx/s" in check.message
    assert result.check("all_confirmed").outcome == NOT_JUDGED


def test_funding_that_is_never_mined_is_a_named_stall(tmp_path):
    node = start_node(tmp_path, chain_id=31346, block_ms=0, automine=False)
    try:
        height = int(node.rpc("eth_blockNumber"), 16)
        result = clearing.run(
            target(node, 3),
            {"rates": [5], "step_seconds": 1, "confirm_timeout_s": 0.5, "accounts": 2, **LAG},
        )
    finally:
        stop_node(node)
    check = result.check("funding")
    assert check.outcome == FAILED
    assert check.message.startswith(f"no block produced for 30 s since height {height} ")
    assert "2 of 2 funding transactions were not mined" in check.message
    assert result.outcome == FAILED and result.metrics.get("steps") is None


# --- against a sink that takes every transaction at once ------------------------------------

SINK_FAUCET = "0x" + "11" * 32  # the sink holds every account rich; nothing is really paid


def sink_target(sink):
    return local_target(sink.url, SINK_FAUCET)


def test_every_transaction_is_logged_with_its_schedule_send_and_block(tmp_path):
    with Sink() as sink:
        result = clearing.run(
            sink_target(sink),
            {
                "rates": [100],
                "step_seconds": 1,
                "in_flight_window_s": 1,
                "connections": 2,
                "transaction_log": True,
                "return_funds": False,
                **LAG,
            },
        )
        received = set(sink.chain.received)
    (step,) = result.metrics["steps"]
    assert step["confirmed"] == step["offered"] == 100
    assert step["generator_lag_s"]["count"] == 100
    assert step["generator_cpu_s"]["signing"] >= 0 and step["generator_cpu_s"]["timed_phase"] > 0
    log = result.charts["transactions"]["100.0"]
    assert log["fields"] == ["hash", "scheduled", "sent", "seen", "state"]
    assert len(log["rows"]) == 100
    assert {row[0] for row in log["rows"]} <= received
    for tx_hash, scheduled, sent, seen, state in log["rows"]:
        assert state == "confirmed"
        assert scheduled <= sent <= seen
    scheduled = [row[1] for row in log["rows"]]
    assert scheduled == sorted(scheduled) and scheduled[-1] - scheduled[0] == pytest.approx(0.99)


def test_a_generator_stall_shows_as_lag_and_invalidates_the_step(monkeypatch):
    send = RawTxSender.send
    stalled = []

    def stall_once(self, items):
        if not stalled:
            stalled.append(True)
            time.sleep(0.2)  # the loop is blocked: the next sends fall due meanwhile
        return send(self, items)

    monkeypatch.setattr(RawTxSender, "send", stall_once)
    with Sink() as sink:
        result = clearing.run(
            sink_target(sink),
            {
                "rates": [100],
                "step_seconds": 1,
                "in_flight_window_s": 1,
                "return_funds": False,
                "max_generator_lag_s": 0.1,
            },
        )
    (step,) = result.metrics["steps"]
    # Sends scheduled during the stall went out late, and the lag says by how much.
    assert step["generator_lag_s"]["max"] >= 0.15
    assert step["generator_lag_s"]["p99"] > 0.1
    assert step["valid"] is False
    assert result.check("generator_valid").passed is False
    assert result.outcome == INVALID
    assert step["confirmed"] == 100  # late, not lost


def test_refused_transactions_are_counted_and_their_accounts_stop():
    refusing = []

    def answer(request):
        if refusing and request["method"] == "eth_sendRawTransaction":
            error = {"code": -32000, "message": "intrinsic gas too low"}
            return {"jsonrpc": "2.0", "id": request["id"], "error": error}
        return sink.chain.respond(request)

    def refuse_from_the_first_step(percent, message):
        if message.startswith("step"):
            refusing.append(True)

    with Sink(lambda r: [answer(x) for x in r] if isinstance(r, list) else answer(r)) as sink:
        result = clearing.run(
            sink_target(sink),
            {"rates": [20], "step_seconds": 1, "accounts": 2, "return_funds": False, **LAG},
            progress=refuse_from_the_first_step,
        )
    (step,) = result.metrics["steps"]
    # The first transaction of each account is refused; the rest could never be mined.
    assert (step["refused"], step["not_sent"], step["confirmed"]) == (2, 18, 0)
    assert step["accepted"] == 0
    assert step["send_errors"] == {"refused: [-32000] intrinsic gas too low": 2}
    assert step["sustained"] is False
    assert any("intrinsic gas too low" in line for line in result.logs)


def test_a_slow_load_sends_on_fresh_connections(monkeypatch):
    # 0.4 tx/s: the second transaction is due 2.5 s after the first, longer than a node
    # may keep an idle connection open; the sender replaces its idle connections first.
    refresh = RawTxSender.refresh
    replaced = []

    async def counted(self, *args, **kwargs):
        before = self.opened
        await refresh(self, *args, **kwargs)
        replaced.append(self.opened - before)

    monkeypatch.setattr(RawTxSender, "refresh", counted)
    with Sink() as sink:
        result = clearing.run(
            sink_target(sink),
            {"rates": [0.4], "step_seconds": 5, "return_funds": False, **LAG},
        )
    (step,) = result.metrics["steps"]
    assert step["confirmed"] == step["offered"] == 2
    assert replaced and replaced[0] >= 1
