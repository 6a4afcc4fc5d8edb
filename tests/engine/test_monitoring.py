"""Monitoring probes of live nodes, and the alert rules over a series of probes."""

from assessments.engine.suites import monitoring
from tests.engine.helpers import Listener
from tests.engine.nodes import local_target
from tests.engine.test_consensus import fake_chain


def test_a_healthy_node_raises_no_alert(chain):
    result = monitoring.run(local_target(chain.url))
    assert result.passed, result.metrics
    (sample,) = result.metrics["samples"]
    assert sample["up"] and sample["chain_id"] == 31337 and sample["latency_s"] < 2


def test_a_node_that_does_not_answer_is_down(chain):
    listener = Listener()
    dead = listener.url
    listener.close()
    endpoints = [chain.url, dead]
    result = monitoring.run(local_target(endpoints, timeout=1))
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
    assert alert == {
        "rule": "fork",
        "height": 12,
        "hashes": {"n1": "0xaa", "n2": "0xbb"},  # an even split: both named
        "majority": [],
        "majority_hash": None,
        "compared_height": 12,
    }


def test_the_fork_names_the_minority_node_not_every_node():
    probe = [
        sample("n1", 0, 12, "0xaa"),
        sample("n2", 0, 12, "0xbb"),
        sample("n3", 0, 12, "0xaa"),
    ]
    (alert,) = monitoring.alerts([probe])
    assert alert["hashes"] == {"n2": "0xbb"}
    assert alert["majority"] == ["n1", "n3"] and alert["majority_hash"] == "0xaa"


def test_the_probe_finds_the_fork_point_and_the_alert_leads_with_it():
    nodes = [fake_chain(), fake_chain(fork_at=4), fake_chain()]
    urls = [n.url for n in nodes]
    try:
        result = monitoring.run(local_target(urls))
    finally:
        for n in nodes:
            n.close()
    check = result.check("fork")
    assert check.outcome == "failed"
    (alert,) = check.evidence["alerts"]
    assert alert["height"] == 4 and alert["compared_height"] > 4
    assert list(alert["hashes"]) == [urls[1]]
    assert alert["majority"] == [urls[0], urls[2]]
    assert check.message.startswith(f"{urls[1]} diverged from the majority ({urls[0]} and ")
    assert "at height 4:" in check.message


def test_a_slow_answer_is_over_the_latency_bound():
    (alert,) = monitoring.alerts([[sample("n1", 0, 5, latency=3.5)]], {"max_latency_s": 2})
    assert alert["rule"] == "latency_over_bound"
