"""Consensus traces (JSON Lines, streamed): quorum certificates, equivocation, commit
agreement, validity and liveness; refusals name the line. More in tests/traces/."""

import json

import pytest

from assessments.engine.errors import InvalidParameters
from assessments.engine.jsonl import FormatError
from assessments.engine.suites import check_consensus_trace, consensus_trace

VALIDATORS = ["0xA1", "0xB2", "0xC3", "0xD4"]  # n = 4, f = 1, quorum = 3


def header(**extra):
    return {
        "type": "header",
        "format": "sandbox-consensus-trace/1",
        "validators": VALIDATORS,
        "max_faulty": None,
        **extra,
    }


def event(kind, height, validator=None, block=None, node="node-1", round=0, time=None):
    line = {
        "type": kind,
        "node": node,
        "time": time if time is not None else 100.0 + height,
        "height": height,
        "round": round,
        "block": block,
    }
    if validator is not None:
        line["validator"] = validator
    return line


def healthy_events(heights=(1, 2, 3)):
    lines = []
    for height in heights:
        block = f"0xb{height}"
        lines.append(event("proposal", height, VALIDATORS[height % 4], block))
        for step in ("prevote", "precommit"):
            for v in VALIDATORS:
                lines.append(event(step, height, v, block, node=f"node-{v}"))
        for node in ("node-1", "node-2"):
            lines.append(event("commit", height, block=block, node=node))
    return lines


def trace(lines, head=None):
    rows = [head or header(), *lines]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def test_it_passes_a_healthy_trace():
    result = consensus_trace.check(trace(healthy_events()))
    assert result.passed
    assert result.metrics["quorum"] == 3 and result.metrics["heights"] == 3
    assert result.metrics["heights_committed"] == 3
    assert {c.name for c in result.checks} == {
        "commit_agreement",
        "quorum_certificates",
        "equivocation",
        "validity",
        "liveness",
    }


def test_the_registry_checks_uploads_with_the_same_function():
    assert check_consensus_trace is consensus_trace.check


def test_it_fails_a_certificate_below_two_f_plus_one_distinct_validators():
    lines = [
        e
        for e in healthy_events()
        if not (
            e["type"] == "precommit" and e["height"] == 1 and e["validator"] in ("0xC3", "0xD4")
        )
    ]
    # Two distinct members (0xA1 again, in lower case) and a stranger: not a quorum.
    lines.append(event("precommit", 1, "0xa1", "0xb1"))
    lines.append(event("precommit", 1, "0xEE", "0xb1"))
    check = consensus_trace.check(trace(lines)).check("quorum_certificates")
    assert check.passed is False
    (weak,) = check.evidence["weak"]
    assert weak["height"] == 1 and weak["round"] == 0
    assert weak["distinct_validators"] == 2 and weak["validators"] == ["0xA1", "0xB2"]
    assert check.evidence["outsiders"] == ["0xEE"]


def test_it_detects_a_validator_voting_for_two_blocks():
    lines = healthy_events()
    lines.append(event("precommit", 2, "0xC3", "0xevil"))
    check = consensus_trace.check(trace(lines)).check("equivocation")
    assert check.passed is False
    (found,) = check.evidence["equivocations"]
    assert found["validators"] == ["0xC3"] and found["height"] == 2 and found["round"] == 0
    assert found["step"] == "precommit" and found["blocks"] == ["0xb2", "0xevil"]


def test_it_detects_nodes_committing_different_blocks_at_one_height():
    lines = healthy_events()
    lines.append(event("commit", 3, block="0xfork", node="node-3"))
    check = consensus_trace.check(trace(lines)).check("commit_agreement")
    assert check.passed is False
    (found,) = check.evidence["disagreements"]
    assert found["height"] == 3 and found["rounds"] == [0]
    assert {side["block"]: side["nodes"] for side in found["blocks"]} == {
        "0xb3": ["node-1", "node-2"],
        "0xfork": ["node-3"],
    }


@pytest.mark.parametrize(
    "content, line, words",
    [
        (b"", 1, "empty"),
        (b'{"type":"header","format":"other/1","validators":["a"]}\n', 1, "format"),
        (b'{"type":"header","format":"sandbox-consensus-trace/1","validators":[]}\n', 1, "empty"),
        (b'{"type":"prevote"}\n', 1, "header"),
    ],
)
def test_it_refuses_a_malformed_trace_naming_the_line(content, line, words):
    with pytest.raises(FormatError, match=words) as caught:
        consensus_trace.check(content)
    assert caught.value.line == line and str(caught.value).startswith(f"line {line}:")


def test_it_refuses_more_faults_than_the_validators_tolerate():
    with pytest.raises(InvalidParameters, match="max_faulty 2 needs at least 7 validators"):
        consensus_trace.check(trace(healthy_events(), header(max_faulty=2)))
