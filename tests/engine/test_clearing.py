"""Clearing suite: open-loop stepped load on a real node, saturation and unconfirmed counts."""

from assessments.engine.results import Target
from assessments.engine.suites import clearing
from tests.engine.conftest import hardhat_key

# The machine running the tests is shared: allow the generator some scheduling slack
# except where its lag is what is tested.
LAG = {"max_generator_lag_s": 0.25}


def target(node, key_index):
    return Target(endpoints=[node.url], allowed=[node.url], faucet_key=hardhat_key(key_index))


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
    assert result.check("generator_valid").passed is False
    assert "generator_limit_rate" in result.metrics["saturation"]
