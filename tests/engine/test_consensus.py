"""Consensus suite: agreeing nodes pass; two different chains are a safety violation."""

from assessments.engine.results import Target
from assessments.engine.suites import consensus


def test_it_passes_two_endpoints_of_one_node(chain):
    # Hardhat runs one node per network: two addresses of it stand for two agreeing nodes.
    twin = chain.url.replace("127.0.0.1", "localhost")
    endpoints = [chain.url, twin]
    result = consensus.run(
        Target(endpoints=endpoints, allowed=endpoints),
        {"duration_s": 2.5, "poll_interval_s": 0.25, "max_height_lag": 2},
    )
    assert result.passed, result.to_dict()["checks"]
    assert result.check("safety").passed is True
    assert result.metrics["safety_violations"] == 0
    assert len(result.charts["heads"]) == 2


def test_it_reports_two_different_chains_as_a_safety_violation(chain, other_chain):
    endpoints = [chain.url, other_chain.url]
    result = consensus.run(
        Target(endpoints=endpoints, allowed=endpoints),
        {"duration_s": 1.0, "poll_interval_s": 0.25, "max_height_lag": 1000},
    )
    safety = result.check("safety")
    assert safety.passed is False
    height = safety.evidence["height"]
    hashes = safety.evidence["hashes"]
    assert set(hashes) == set(endpoints)
    assert hashes[chain.url] != hashes[other_chain.url]
    # The reported hashes are the nodes' real blocks at that height.
    assert chain.rpc("eth_getBlockByNumber", hex(height), False)["hash"] == hashes[chain.url]
    assert (
        other_chain.rpc("eth_getBlockByNumber", hex(height), False)["hash"]
        == hashes[other_chain.url]
    )
    assert safety.evidence["fork_point"] == 0  # they never shared a block
    assert result.check("same_chain_id").passed is False


def test_it_measures_a_reorganisation(interval_chain):
    """evm_snapshot/evm_revert make the node replace blocks it showed as its head."""
    url = interval_chain.url
    snapshot = interval_chain.rpc("evm_snapshot")
    start = int(interval_chain.rpc("eth_blockNumber"), 16)
    import threading
    import time

    def rewrite():
        while int(interval_chain.rpc("eth_blockNumber"), 16) < start + 2:
            time.sleep(0.05)
        time.sleep(0.5)
        interval_chain.rpc("evm_revert", snapshot)
        interval_chain.rpc("evm_mine")

    thread = threading.Thread(target=rewrite)
    thread.start()
    result = consensus.run(
        Target(endpoints=[url], allowed=[url]), {"duration_s": 4.5, "poll_interval_s": 0.1}
    )
    thread.join()
    reorgs = result.check("reorgs")
    assert reorgs.passed is False
    assert reorgs.evidence["reorgs"][0]["depth"] >= 1
    assert result.check("safety").passed is None  # one node: nothing to compare
