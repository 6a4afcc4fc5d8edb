"""Block suite against a real node, and its checks failing on a broken chain."""

import pytest

from assessments.engine import run_suite
from assessments.engine.errors import InvalidParameters
from assessments.engine.results import Target
from assessments.engine.suites import block
from tests.engine.helpers import FakeNode, result


def target(node):
    return Target(endpoints=[node.url], allowed=[node.url])


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
