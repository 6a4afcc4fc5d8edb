"""The engine's alert rules over a series, as the portal calls them: p95 latency over a
window, node down after several probes, a stall timed by the caller, final heights only,
and reorganisations deeper than tolerated."""

import pytest

from assessments.engine.errors import InvalidParameters
from assessments.engine.suites import monitoring


def sample(node, at, height=10, block_hash="0xaa", latency=0.01, up=True, **extra):
    return {
        "endpoint": node,
        "at": at,
        "up": up,
        "height": height,
        "hash": block_hash,
        "latency_s": latency,
        **extra,
    }


def rules(series, **parameters):
    return [a["rule"] for a in monitoring.alerts(series, {"stall_after_s": 1000, **parameters})]


def test_latency_is_judged_by_the_p95_over_the_window():
    def series(slow):
        return [[sample("n1", t, latency=5 if t in slow else 0.01)] for t in range(20)]

    # One slow answer in twenty leaves the p95 fast; two make it slow.
    assert rules(series({0}), max_latency_s=1) == []
    (alert,) = monitoring.alerts(series({0, 1}), {"max_latency_s": 1, "stall_after_s": 1000})
    assert alert["rule"] == "latency_over_bound" and alert["p95_s"] == 5
    assert alert["samples"] == 20 and alert["bound_s"] == 1
    # Outside the window slow answers no longer count.
    assert rules(series({0, 1}), max_latency_s=1, latency_window_s=5) == []
    assert rules(series({18, 19}), max_latency_s=1, latency_window_s=5) == ["latency_over_bound"]


def test_a_node_is_down_after_the_configured_unanswered_probes():
    down = [sample("n1", t, up=False) for t in (1, 2)]
    series = [[sample("n1", 0)], [down[0]]]
    assert rules(series, down_after_probes=2) == []
    assert rules([*series, [down[1]]], down_after_probes=2) == ["node_down"]


def test_the_caller_can_say_since_when_the_head_stands_still():
    series = [[sample("n1", 100, head_since=10)]]
    (alert,) = monitoring.alerts(series, {"stall_after_s": 60})
    assert alert["rule"] == "stalled_chain" and alert["stalled_s"] == 90


def test_only_final_heights_can_fork():
    # Heads differ at 12 (the lowest head) and agree at the final height 10.
    probe = [
        sample("n1", 0, 12, "0xa1", final={"height": 10, "hash": "0xf0"}),
        sample("n2", 0, 12, "0xb1", final={"height": 10, "hash": "0xf0"}),
    ]
    assert rules([probe], finality_depth=2) == []
    probe[1]["final"] = {"height": 10, "hash": "0xf1"}
    (alert,) = monitoring.alerts([probe], {"finality_depth": 2})
    assert alert["height"] == 10 and alert["hashes"] == {"n1": "0xf0", "n2": "0xf1"}
    # The genesis block is final however young the chain.
    young = [
        sample("n1", 0, 1, "0xa1", final={"height": 0, "hash": "0x00"}),
        sample("n2", 0, 1, "0xb1", final={"height": 0, "hash": "0x01"}),
    ]
    assert monitoring.alerts([young], {"finality_depth": 2})[0]["height"] == 0


def test_a_reorganisation_counts_when_deeper_than_tolerated():
    reorg = {"depth": 3, "changed": [{"height": 8, "was": "0x1", "now": "0x2"}]}
    assert rules([[sample("n1", 0, reorg=reorg)]], max_reorg_depth=3) == []
    assert rules([[sample("n1", 0, reorg=reorg)]], max_reorg_depth=2) == ["reorg"]


@pytest.mark.parametrize(
    "bad",
    [{"down_after_probes": 0}, {"finality_depth": -1}, {"latency_window_s": -5}],
)
def test_bad_parameters_are_refused(bad):
    with pytest.raises(InvalidParameters):
        monitoring.alerts([[sample("n1", 0)]], bad)


def test_the_percentile_is_the_nearest_rank():
    assert monitoring.percentile([], 95) is None
    assert monitoring.percentile([3.0], 95) == 3.0
    assert monitoring.percentile(list(range(1, 101)), 95) == 95
