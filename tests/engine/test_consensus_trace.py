"""Consensus traces: quorum certificates, equivocation and commit agreement."""

import pytest

from assessments.engine.errors import InvalidParameters
from assessments.engine.suites import consensus_trace

VALIDATORS = ["0xA1", "0xB2", "0xC3", "0xD4"]  # n = 4, f = 1, quorum = 3


def healthy_trace():
    votes, commits = [], []
    for height in (1, 2, 3):
        block = f"0xb{height}"
        for v in VALIDATORS:
            votes.append(
                {"validator": v, "height": height, "round": 0, "step": "commit", "block": block}
            )
        for node in ("node-1", "node-2"):
            commits.append(
                {"node": node, "height": height, "block": block, "signers": VALIDATORS[:3]}
            )
    return {"validators": VALIDATORS, "votes": votes, "commits": commits}


def test_it_passes_a_healthy_trace():
    result = consensus_trace.run(healthy_trace())
    assert result.passed
    assert result.metrics["quorum"] == 3 and result.metrics["heights"] == 3


def test_it_fails_a_certificate_below_two_f_plus_one_distinct_validators():
    trace = healthy_trace()
    # Two distinct members, one of them twice, and a stranger: not a quorum.
    trace["commits"][0]["signers"] = ["0xA1", "0xa1", "0xB2", "0xEE"]
    result = consensus_trace.run(trace)
    check = result.check("quorum_certificates")
    assert check.passed is False
    (weak,) = check.evidence["weak"]
    assert weak["distinct_validators"] == 2 and weak["outsiders"] == ["0xee"]


def test_it_detects_a_validator_voting_for_two_blocks():
    trace = healthy_trace()
    trace["votes"].append(
        {"validator": "0xC3", "height": 2, "round": 0, "step": "commit", "block": "0xevil"}
    )
    check = consensus_trace.run(trace).check("equivocation")
    assert check.passed is False
    assert check.evidence["equivocations"][0]["validator"] == "0xc3"


def test_it_detects_nodes_committing_different_blocks_at_one_height():
    trace = healthy_trace()
    trace["commits"][-1]["block"] = "0xfork"
    check = consensus_trace.run(trace).check("commit_agreement")
    assert check.passed is False
    assert check.evidence["disagreements"][0]["height"] == 3


@pytest.mark.parametrize(
    "trace",
    [[], {"validators": []}, {"validators": ["0xA1"], "commits": [{"height": 1}]}],
)
def test_it_refuses_a_malformed_trace(trace):
    with pytest.raises(InvalidParameters):
        consensus_trace.run(trace)
