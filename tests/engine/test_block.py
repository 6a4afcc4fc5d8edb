"""Block suite against a real node, and its checks failing on a broken chain."""

import datetime
import time

import pytest

from assessments.engine import run_suite
from assessments.engine.errors import InvalidParameters
from assessments.engine.suites import block
from tests.engine.conftest import start_node, stop_node
from tests.engine.helpers import FakeNode, result
from tests.engine.nodes import local_target


def target(node):
    return local_target(node.url)


def test_it_passes_a_healthy_chain(interval_chain):
    seen = []
    result_ = run_suite(
        "block",
        target(interval_chain),
        {"blocks": 5, "observe_seconds": 2.5, "expected_interval_s": 1.0, "max_empty_ratio": 1.0},
        progress=lambda pct, msg: seen.append(pct),
    )
    assert result_.passed, result_.to_dict()["checks"]
    assert {c.name for c in result_.checks} >= {
        "parent_hash_linkage",
        "monotonic_heights",
        "monotonic_timestamps",
        "no_stall",
        "block_interval",
        "empty_block_ratio",
    }
    assert result_.metrics["blocks_seen_while_watching"] >= 1
    assert result_.check("head_age").outcome == "passed"
    assert result_.check("chain_advances").outcome == "passed"
    assert result_.outcome == "passed"
    assert result_.metrics["interval_s"]["mean"] == pytest.approx(1.0, abs=0.5)
    assert seen[-1] == 100 and seen == sorted(seen)


def test_it_fails_the_interval_check_when_blocks_are_slower_than_claimed(interval_chain):
    result_ = block.run(
        target(interval_chain),
        {"blocks": 5, "observe_seconds": 0, "expected_interval_s": 0.1, "interval_tolerance": 0.5},
    )
    assert result_.check("block_interval").passed is False
    assert result_.check("parent_hash_linkage").passed is True


def chain_of(blocks):
    """A fake node serving ``blocks`` (a list of dicts, index = height)."""

    def answer(request):
        if isinstance(request, list):
            return [answer(r) for r in request]
        if request["method"] == "eth_blockNumber":
            return result(request, hex(len(blocks) - 1))
        number = int(request["params"][0], 16)
        return result(request, blocks[number] if number < len(blocks) else None)

    return FakeNode(answer)


def make_block(n, parent, ts, txs=()):
    return {
        "number": hex(n),
        "hash": "0x%064x" % (1000 + n),
        "parentHash": parent,
        "timestamp": hex(ts),
        "transactions": list(txs),
        "gasLimit": "0x1c9c380",
        "gasUsed": "0x0",
    }


def test_it_reports_a_broken_parent_link_and_a_timestamp_going_back():
    blocks = [make_block(0, "0x" + "0" * 64, 1000)]
    for n in range(1, 6):
        blocks.append(make_block(n, blocks[-1]["hash"], 1000 + n))
    blocks[3]["parentHash"] = "0x" + "ab" * 32
    blocks[4]["timestamp"] = hex(1001)
    node = chain_of(blocks)
    try:
        result_ = block.run(target(node), {"blocks": 6, "observe_seconds": 0})
    finally:
        node.close()
    link = result_.check("parent_hash_linkage")
    assert link.passed is False
    assert link.evidence["broken"][0]["height"] == 3
    times = result_.check("monotonic_timestamps")
    assert times.passed is False and times.evidence["out_of_order"][0]["height"] == 4
    assert not result_.passed


def test_it_reports_a_block_at_the_wrong_height_and_a_stall():
    blocks = [make_block(0, "0x" + "0" * 64, 1000)]
    for n in range(1, 4):
        blocks.append(make_block(n, blocks[-1]["hash"], 1000 + n * 100))
    blocks[2]["number"] = hex(7)
    node = chain_of(blocks)
    try:
        result_ = block.run(target(node), {"blocks": 4, "observe_seconds": 0, "max_interval_s": 30})
    finally:
        node.close()
    assert result_.check("monotonic_heights").evidence["wrong_numbers"] == [{"asked": 2, "got": 7}]
    assert result_.check("no_stall").passed is False


def test_it_refuses_unknown_or_mistyped_parameters(interval_chain):
    with pytest.raises(InvalidParameters, match="unknown"):
        block.run(target(interval_chain), {"blockz": 3})
    with pytest.raises(InvalidParameters, match="integer"):
        block.run(target(interval_chain), {"blocks": "ten"})
    with pytest.raises(InvalidParameters, match="between"):
        block.run(target(interval_chain), {"blocks": 1})


@pytest.fixture
def stalled_chain(tmp_path):
    """A node that mined a few one-second blocks and then stopped mining altogether."""
    node = start_node(tmp_path, chain_id=31351, automine=False)
    try:
        while int(node.rpc("eth_blockNumber"), 16) < 3:
            time.sleep(0.2)
        node.rpc("evm_setIntervalMining", 0)
        yield node
    finally:
        stop_node(node)


def test_a_chain_that_stopped_is_named_stalled_with_height_and_time(stalled_chain):
    stopped_at = int(stalled_chain.rpc("eth_blockNumber"), 16)
    top = stalled_chain.rpc("eth_getBlockByNumber", hex(stopped_at), False)
    block_time = datetime.datetime.fromtimestamp(int(top["timestamp"], 16), datetime.UTC)
    result_ = block.run(
        target(stalled_chain),
        {"observe_seconds": 3, "stall_intervals": 2, "clock_tolerance_s": 0.5},
    )
    advances = result_.check("chain_advances")
    assert advances.outcome == "failed", advances.to_dict()
    assert advances.message.startswith(f"stalled: the chain stopped at height {stopped_at} ")
    assert f"{block_time:%Y-%m-%d %H:%M:%S} UTC" in advances.message
    assert "no block for 3 s while watching" in advances.message
    assert advances.evidence["blocks_seen"] == 0 and advances.evidence["height"] == stopped_at
    age = result_.check("head_age")
    assert age.outcome == "failed" and f"height {stopped_at}" in age.message
    assert age.evidence["age_s"] > age.evidence["bound_s"] == 2.5
    # The blocks it has are well formed: only liveness fails.
    assert result_.check("parent_hash_linkage").outcome == "passed"
    assert result_.outcome == "failed" and result_.passed is False


def now_chain(count, gap=1, age=0):
    """A fake chain of ``count`` blocks ``gap`` s apart whose head is ``age`` s old."""
    start = int(time.time()) - age - gap * (count - 1)
    blocks = [make_block(0, "0x" + "0" * 64, start)]
    for n in range(1, count):
        blocks.append(make_block(n, blocks[-1]["hash"], start + n * gap))
    return chain_of(blocks)


def test_a_short_watch_without_blocks_is_not_judged_not_passed():
    node = now_chain(5)
    try:
        result_ = block.run(target(node), {"blocks": 5, "observe_seconds": 0.3})
    finally:
        node.close()
    advances = result_.check("chain_advances")
    assert advances.outcome == "not_judged" and advances.passed is None
    assert "too short to call a stall" in advances.message
    assert "5 intervals of the chain's median block interval of 1.00 s" in advances.message
    assert result_.check("head_age").outcome == "passed"


def test_an_old_head_fails_the_head_age_by_how_much():
    node = now_chain(6, gap=2, age=100)
    try:
        result_ = block.run(target(node), {"blocks": 6, "observe_seconds": 0})
    finally:
        node.close()
    age = result_.check("head_age")
    assert age.outcome == "failed"
    # 5 intervals of 2 s plus 2 s clock tolerance: 12 s allowed, the head is ~100 s old.
    assert age.evidence["bound_s"] == 12 and 99 <= age.evidence["age_s"] <= 103
    assert age.message.startswith("stalled: the chain stopped at height 5 (block time ")
    assert "above the 12 s allowed" in age.message and "by 8" in age.message
    assert result_.check("chain_advances").outcome == "not_judged"


def test_a_claimed_block_time_sets_the_stall_window():
    node = now_chain(6, gap=1, age=30)
    try:
        quick = block.run(target(node), {"blocks": 6, "observe_seconds": 0})
        slow = block.run(
            target(node), {"blocks": 6, "observe_seconds": 0, "expected_interval_s": 10}
        )
    finally:
        node.close()
    assert quick.check("head_age").outcome == "failed"
    assert slow.check("head_age").outcome == "passed"  # 5 x 10 s + 2 s > 30 s
