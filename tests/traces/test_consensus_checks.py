"""The consensus-trace checker: each violation found with its height, round and
validators; liveness figures; the format's refusals name the line; bounded state."""

import io
import json

import pytest

from assessments.engine import tracegen
from assessments.engine.jsonl import FormatError
from assessments.engine.suites import consensus_trace

from .helpers import V, consensus_header, example, failed_checks, jsonl


def check(data, **parameters):
    return consensus_trace.check(data, parameters or None)


def test_a_healthy_trace_passes_every_check_with_liveness_figures():
    result = check(example("healthy"))
    assert result.passed and failed_checks(result) == set()
    m = result.metrics
    assert (m["validators"], m["max_faulty"], m["quorum"]) == (4, 1, 3)
    assert m["heights"] == m["heights_committed"] == 12
    assert (m["first_height"], m["last_height"]) == (1, 12)
    assert m["events"] == 12 * 13 and m["commits"] == 48 and m["view_changes"] == 0
    assert m["rounds_per_height"]["mean"] == 1 and m["rounds_per_height"]["max"] == 1
    ttc = m["time_to_commit_s"]
    assert ttc["count"] == 12 and 0.1 < ttc["p50"] <= ttc["p99"] <= ttc["max"] < 0.3
    assert len(result.charts["time_to_commit_s"]) == 12


def test_view_changes_are_counted_and_still_live():
    result = check(example("view_changes"))
    assert failed_checks(result) == set()
    m = result.metrics
    assert m["view_changes"] == 2 * 4  # heights 5 and 10, one view change per validator
    assert m["rounds_per_height"]["max"] == 2
    assert m["rounds_per_height"]["histogram"] == {"1": 10, "2": 2}


def test_a_height_needing_too_many_rounds_fails_liveness():
    result = check(example("slow"))
    assert failed_checks(result) == {"liveness"}
    (slow,) = result.check("liveness").evidence["slow_heights"]
    assert slow == {"height": 7, "rounds": 5, "view_changes": 16}
    assert result.metrics["time_to_commit_s"]["max"] > 14  # 1 + 2 + 4 + 8 s of timeouts
    assert check(example("slow"), max_rounds=5).passed


def test_equivocation_names_the_validator_height_round_and_both_blocks():
    data = example("equivocation")
    validators = json.loads(data.split(b"\n")[0])["validators"]
    result = check(data)
    assert failed_checks(result) == {"equivocation"}
    (found,) = result.check("equivocation").evidence["equivocations"]
    assert found["height"] == 7 and found["round"] == 0 and found["step"] == "precommit"
    assert found["validators"] == [validators[-1]] and len(found["blocks"]) == 2


def test_a_fork_fails_agreement_with_the_validators_behind_each_block():
    data = example("fork")
    validators = json.loads(data.split(b"\n")[0])["validators"]
    result = check(data)
    assert failed_checks(result) == {"commit_agreement", "equivocation"}
    (fork,) = result.check("commit_agreement").evidence["disagreements"]
    assert fork["height"] == 7 and fork["rounds"] == [0]
    sides = {tuple(side["nodes"]): side["validators"] for side in fork["blocks"]}
    # f + 1 = 2 Byzantine validators signed both blocks; each honest one signed one.
    assert sorted(sides) == [("node-1", "node-2", "node-3"), ("node-4",)]
    assert sorted(sides[("node-1", "node-2", "node-3")]) == sorted(validators[:3])
    assert sorted(sides[("node-4",)]) == sorted([*validators[:2], validators[3]])
    equivocators = {
        e["validators"][0] for e in result.check("equivocation").evidence["equivocations"]
    }
    assert equivocators == set(validators[:2])


def test_a_commit_without_a_quorum_names_who_signed():
    data = example("no_quorum")
    validators = json.loads(data.split(b"\n")[0])["validators"]
    result = check(data)
    assert failed_checks(result) == {"quorum_certificates"}
    (weak,) = result.check("quorum_certificates").evidence["weak"]
    assert weak["height"] == 7 and weak["round"] == 0 and weak["quorum"] == 3
    assert weak["validators"] == sorted(validators[:2]) and weak["distinct_validators"] == 2
    assert weak["nodes"] == ["node-1", "node-2", "node-3", "node-4"]


def test_a_committed_block_nobody_proposed_fails_validity():
    result = check(example("invalid_commit"))
    assert failed_checks(result) == {"validity"}
    (invalid,) = result.check("validity").evidence["invalid"]
    assert invalid["height"] == 7 and invalid["round"] == 0
    assert len(invalid["validators"]) == 4 and invalid["block"] not in invalid["proposed"]


def test_a_height_left_without_a_commit_fails_liveness_unless_it_is_the_last():
    rows = [consensus_header()]
    for height in (1, 2):
        rows.append(
            {
                "type": "proposal",
                "node": "n1",
                "time": height,
                "height": height,
                "round": 0,
                "validator": "0xA1",
                "block": f"0x{height}",
            }
        )
    result = check(jsonl(rows))
    assert result.check("liveness").passed is False
    assert result.check("liveness").evidence["uncommitted_heights"] == [1]


def test_votes_may_come_in_any_time_order_within_the_window_and_iso_times_count():
    rows = [consensus_header()]
    block = "0xAB"
    # The commit first, then the votes that certify it, with ISO 8601 times.
    rows.append(
        {
            "type": "commit",
            "node": "n1",
            "time": "2026-11-25T10:00:01Z",
            "height": 5,
            "view": 0,
            "block": block,
        }
    )
    rows.append(
        {
            "type": "pre_prepare",
            "node": "n1",
            "time": "2026-11-25T10:00:00.000+00:00",
            "height": 5,
            "view": 0,
            "sender": "0xa1",
            "block": block.lower(),
        }
    )
    for v in V[:3]:
        rows.append(
            {
                "type": "commit_vote",
                "node": "n1",
                "time": 1795600800.5,
                "height": 5,
                "round": 0,
                "sender": v,
                "block": block,
                "signature": "0x00",
            }
        )
    result = check(jsonl(rows))
    assert result.passed, [c.to_dict() for c in result.checks if c.passed is False]
    assert result.metrics["time_to_commit_s"]["max"] == pytest.approx(1.0, abs=0.01)


def _lines_with(bad, at=3):
    lines = example("healthy").split(b"\n")
    lines[at - 1] = bad
    return b"\n".join(lines)


@pytest.mark.parametrize(
    "bad, words",
    [
        (b'{"type":"prevote","node":"n","time":1,"height":1,"round":0,', "not valid JSON"),
        (
            b'{"type":"gossip","node":"n","time":1,"height":1,"round":0}',
            "unknown message type 'gossip'",
        ),
        (
            b'{"type":"prevote","node":"n","time":1,"round":0,"validator":"x","block":"y"}',
            "missing field 'height'",
        ),
        (
            b'{"type":"prevote","node":"n","time":1,"height":1,"validator":"x","block":"y"}',
            "missing field 'round' (or 'view')",
        ),
        (
            b'{"type":"prevote","node":"n","time":1,"height":1,"round":0,"block":"y"}',
            "missing field 'validator'",
        ),
        (
            b'{"type":"prevote","node":"n","time":1,"height":1,"round":0,"validator":"x"}',
            "missing field 'block'",
        ),
        (
            b'{"type":"prevote","node":"n","time":1,"height":-1,"round":0,"validator":"x","block":"y"}',
            "field 'height'",
        ),
        (
            b'{"type":"prevote","node":"n","time":"noon","height":1,"round":0,"validator":"x","block":"y"}',
            "neither seconds nor ISO 8601",
        ),
        (b"", "the line is empty"),
        (b'{"type":"gossip"}', "unknown message type 'gossip'"),
        (b"[1, 2]", "an event is a JSON object"),
        (
            b'{"type":"header","format":"sandbox-consensus-trace/1","validators":["a"]}',
            "a second header",
        ),
    ],
)
def test_a_line_that_breaks_the_format_is_refused_naming_it(bad, words):
    with pytest.raises(FormatError) as caught:
        check(_lines_with(bad))
    assert caught.value.line == 3
    assert words in str(caught.value) and str(caught.value).startswith("line 3: ")


def test_a_truncated_file_is_refused_naming_its_last_line():
    data = example("healthy")
    total = data.count(b"\n")
    with pytest.raises(FormatError, match="truncated") as caught:
        check(data[:-40])  # cut inside the last line
    assert caught.value.line == total
    with pytest.raises(FormatError, match="no newline"):
        check(data[:-1])  # complete JSON, but not its newline: still cut off


def test_an_oversized_file_is_refused_naming_the_line_that_crosses_the_limit():
    data = example("healthy")
    limit = len(b"\n".join(data.split(b"\n")[:5])) + 10  # inside line 6
    with pytest.raises(FormatError, match="larger than the limit of") as caught:
        consensus_trace.check(io.BytesIO(data), {"max_bytes": limit})
    assert caught.value.line == 6


def test_a_line_far_behind_the_window_is_refused_naming_it():
    rows = [consensus_header()]
    for height in range(1, 12):
        rows.append(
            {
                "type": "commit",
                "node": "n1",
                "time": height,
                "height": height,
                "round": 0,
                "block": "0x1",
            }
        )
    rows.append(
        {"type": "commit", "node": "n2", "time": 1, "height": 2, "round": 0, "block": "0x1"}
    )
    with pytest.raises(
        FormatError, match="height 2 comes after the trace reached height 11"
    ) as caught:
        check(jsonl(rows))
    assert caught.value.line == 13
    # A wider window accepts the same trace.
    assert check(jsonl(rows), window=10).metrics["heights"] == 11


def test_state_stays_within_the_window_on_a_10k_event_trace(monkeypatch):
    data = example("view_changes", size=800, seed=11)
    assert data.count(b"\n") > 10_000
    sizes = []
    original = consensus_trace._Checker.feed

    def watched(self, first, events):
        for i in range(0, len(events), 100):
            original(self, first + i, events[i : i + 100])
            sizes.append(len(self.heights))

    monkeypatch.setattr(consensus_trace._Checker, "feed", watched)
    result = consensus_trace.check(data)
    assert result.passed and result.metrics["events"] > 10_000
    assert max(sizes) <= consensus_trace.TraceParameters().window + 1
    assert len(result.charts["time_to_commit_s"]) <= 2 * consensus_trace.CHART_POINTS


def test_events_at_returns_one_height_and_stops_past_it():
    data = example("fork")
    found = consensus_trace.events_at(data, 7)
    assert len(found["validators"]) == 4
    kinds = [e["kind"] for e in found["events"]]
    assert kinds.count("proposal") == 2 and kinds.count("commit") == 4
    assert {e["height"] for e in found["events"]} == {7}
    assert all(isinstance(e["line"], int) and e["line"] > 1 for e in found["events"])
    assert consensus_trace.events_at(data, 99)["events"] == []


def test_every_generated_kind_fails_exactly_its_checks():
    for kind in tracegen.CONSENSUS_KINDS:
        result = check(example(kind, seed=5))
        assert failed_checks(result) == tracegen.EXPECTED_FAILURES[kind], kind
