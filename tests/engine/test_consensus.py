"""Consensus suite: agreeing nodes pass; two different chains are a safety violation."""

import time

from assessments.engine.suites import consensus
from tests.engine.helpers import FakeNode, result
from tests.engine.nodes import local_target


def test_it_passes_two_endpoints_of_one_node(chain):
    # Hardhat runs one node per network: two addresses of it stand for two agreeing nodes.
    twin = chain.url.replace("127.0.0.1", "localhost")
    endpoints = [chain.url, twin]
    result = consensus.run(
        local_target(endpoints),
        {"duration_s": 2.5, "poll_interval_s": 0.25, "max_height_lag": 2},
    )
    assert result.passed, result.to_dict()["checks"]
    assert result.check("safety").passed is True
    assert result.metrics["safety_violations"] == 0
    assert len(result.charts["heads"]) == 2


def test_it_reports_two_different_chains_as_a_safety_violation(chain, other_chain):
    endpoints = [chain.url, other_chain.url]
    result = consensus.run(
        local_target(endpoints),
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
    assert next(iter(safety.evidence)) == "fork_point"
    assert safety.message.startswith("the nodes split with no majority at height 0:")
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
    result = consensus.run(local_target(url), {"duration_s": 4.5, "poll_interval_s": 0.1})
    thread.join()
    reorgs = result.check("reorgs")
    assert reorgs.passed is False
    assert reorgs.evidence["reorgs"][0]["depth"] >= 1
    assert result.check("safety").passed is None  # one node: nothing to compare


def fake_chain(*, fork_at=None, stuck_at=None, block_s=0.2, base=10):
    """A fake node of a chain growing one block every ``block_s`` from height ``base``.

    ``fork_at``: from that height on its blocks differ from every other fake's.
    ``stuck_at``: its head never passes that height.
    """
    started = time.monotonic()
    genesis = int(time.time()) - 1000

    def block_at(n):
        own = fork_at is not None and n >= fork_at

        def hash_of(k):
            return "0x%064x" % (k + (10**6 if own and k >= fork_at else 0))

        return {
            "number": hex(n),
            "hash": hash_of(n),
            "parentHash": hash_of(n - 1) if n else "0x" + "0" * 64,
            "timestamp": hex(genesis + n),
            "transactions": [],
        }

    def top():
        height = base + int((time.monotonic() - started) / block_s)
        return height if stuck_at is None else min(height, stuck_at)

    def answer(request):
        if isinstance(request, list):
            return [answer(r) for r in request]
        method, params = request["method"], request.get("params", [])
        if method == "eth_chainId":
            return result(request, "0x7a69")
        if method == "eth_blockNumber":
            return result(request, hex(top()))
        if method == "net_peerCount":
            return result(request, "0x2")
        if method == "eth_getBlockByHash":
            return result(request, block_at(int(params[0], 16) % 10**6))
        tag = params[0]
        n = top() if tag == "latest" else int(tag, 16)
        return result(request, block_at(n) if n <= top() else None)

    return FakeNode(answer)


def test_the_fork_point_comes_first_and_the_minority_node_is_named():
    nodes = [fake_chain(), fake_chain(), fake_chain(fork_at=7)]
    urls = [n.url for n in nodes]
    try:
        result_ = consensus.run(local_target(urls), {"duration_s": 0.5, "poll_interval_s": 0.1})
    finally:
        for n in nodes:
            n.close()
    safety = result_.check("safety")
    assert safety.outcome == "failed"
    assert next(iter(safety.evidence)) == "fork_point"
    assert safety.evidence["fork_point"] == 7 and result_.metrics["fork_point"] == 7
    assert safety.evidence["diverging"] == [urls[2]]
    assert safety.evidence["majority"] == urls[:2]
    assert safety.message.startswith(f"{urls[2]} diverged from the majority ({urls[0]} and ")
    assert "at height 7:" in safety.message and "0x" in safety.message
    # Every height from the fork point up was compared: no higher "compared height" to add.
    assert safety.evidence["height"] == 7 and "compared height" not in safety.message


def test_two_nodes_that_part_are_an_even_split():
    nodes = [fake_chain(), fake_chain(fork_at=3)]
    urls = [n.url for n in nodes]
    try:
        result_ = consensus.run(
            local_target(urls), {"duration_s": 0.3, "poll_interval_s": 0.1, "compare_blocks": 2}
        )
    finally:
        for n in nodes:
            n.close()
    safety = result_.check("safety")
    # Only the top two heights were compared: bisection still finds where the chains parted.
    compared = safety.evidence["height"]
    assert compared > 3
    assert safety.evidence["fork_point"] == 3 and safety.evidence["majority"] == []
    assert safety.evidence["diverging"] == urls
    assert safety.message.startswith("the nodes split with no majority at height 3:")
    assert safety.message.endswith(f"they still differ at the compared height {compared}")


def test_a_node_whose_head_stands_still_is_named_stalled():
    nodes = [fake_chain(), fake_chain(stuck_at=10)]
    urls = [n.url for n in nodes]
    params = {"duration_s": 1.5, "poll_interval_s": 0.1, "max_height_lag": 1000}
    try:
        claimed = consensus.run(
            local_target(urls), {**params, "expected_interval_s": 0.2, "stall_intervals": 2}
        )
        paced = consensus.run(local_target(urls), params)
    finally:
        for n in nodes:
            n.close()
    progress = claimed.check("head_progress")
    assert progress.outcome == "failed"
    assert progress.evidence["stalled"] == [urls[1]]
    assert progress.message.startswith(
        f"stalled: {urls[1]} stayed at height 10 for the whole 1.5 s window; "
        f"meanwhile {urls[0]} advanced from 1"
    )
    assert claimed.check("safety").outcome == "passed"  # one chain, one node behind
    # The chain's own pace (one block a second by its timestamps) makes 1.5 s too short.
    paced_progress = paced.check("head_progress")
    assert paced_progress.outcome == "not_judged"
    assert "too short to call a stall" in paced_progress.message
    assert "5 intervals of 1.00 s" in paced_progress.message


def test_a_lagging_node_is_named_with_how_far_behind():
    nodes = [fake_chain(), fake_chain(stuck_at=10)]
    urls = [n.url for n in nodes]
    try:
        result_ = consensus.run(
            local_target(urls), {"duration_s": 1.2, "poll_interval_s": 0.1, "max_height_lag": 2}
        )
    finally:
        for n in nodes:
            n.close()
    lag = result_.check("height_lag")
    assert lag.outcome == "failed"
    worst = lag.evidence["worst"]
    assert worst["behind"] == urls[1] and worst["height_behind"] == 10
    assert f"{urls[1]} was at height 10, {worst['lag']} blocks behind {urls[0]}" in lag.message
    assert f"above the bound of 2 by {worst['lag'] - 2}" in lag.message
