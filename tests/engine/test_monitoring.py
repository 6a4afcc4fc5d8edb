"""Monitoring probes of live nodes, and the alert rules over a series of probes."""

from assessments.engine.results import Target
from assessments.engine.suites import monitoring
from tests.engine.helpers import Listener


def test_a_healthy_node_raises_no_alert(chain):
    result = monitoring.run(Target(endpoints=[chain.url], allowed=[chain.url]))
    assert result.passed, result.metrics
    (sample,) = result.metrics["samples"]
    assert sample["up"] and sample["chain_id"] == 31337 and sample["latency_s"] < 2


def test_a_node_that_does_not_answer_is_down(chain):
    listener = Listener()
    dead = listener.url
    listener.close()
    endpoints = [chain.url, dead]
    result = monitoring.run(Target(endpoints=endpoints, allowed=endpoints, timeout=1))
    check = result.check("node_down")
    assert check.passed is False
    assert check.evidence["alerts"][0]["endpoint"] == dead


def sample(endpoint, at, height, block_hash="0xaa", latency=0.01, up=True):
    return {
        "endpoint": endpoint,
        "at": at,
        "up": up,
        "height": height,
        "hash": block_hash,
        "latency_s": latency,
    }


def test_a_head_that_stops_moving_is_a_stalled_chain():
    series = [[sample("n1", t, 10 if t >= 30 else 9)] for t in range(0, 120, 10)]
    (alert,) = monitoring.alerts(series, {"stall_after_s": 60})
    assert alert["rule"] == "stalled_chain" and alert["stalled_s"] == 80
    assert monitoring.alerts(series, {"stall_after_s": 100}) == []


def test_two_nodes_with_different_blocks_at_one_height_are_a_fork():
    probe = [sample("n1", 0, 12, "0xaa"), sample("n2", 0, 12, "0xbb")]
    (alert,) = monitoring.alerts([probe])
    assert alert == {"rule": "fork", "height": 12, "hashes": {"n1": "0xaa", "n2": "0xbb"}}


def test_a_slow_answer_is_over_the_latency_bound():
    (alert,) = monitoring.alerts([[sample("n1", 0, 5, latency=3.5)]], {"max_latency_s": 2})
    assert alert["rule"] == "latency_over_bound"
