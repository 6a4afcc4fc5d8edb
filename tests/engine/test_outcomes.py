"""The four outcomes of a check, a suite's outcome and invalid reason, and log stamps."""

import datetime
import re

import pytest

from assessments.engine.results import (
    FAILED,
    INCONCLUSIVE,
    INVALID,
    NOT_JUDGED,
    PASSED,
    Check,
    Recorder,
    SuiteResult,
    outcome_of,
)


@pytest.mark.parametrize(
    ("passed", "outcome"), [(True, PASSED), (False, FAILED), (None, NOT_JUDGED)]
)
def test_outcome_is_derived_from_passed_for_existing_calls(passed, outcome):
    check = Check("x", passed=passed)
    assert check.outcome == outcome
    assert check.passed is passed
    assert outcome_of(passed) == outcome


@pytest.mark.parametrize(
    ("outcome", "passed"),
    [(PASSED, True), (FAILED, False), (INCONCLUSIVE, None), (NOT_JUDGED, None)],
)
def test_passed_follows_an_explicit_outcome(outcome, passed):
    # An outcome wins over a contradicting passed value: the two never disagree.
    check = Check("x", passed=True, outcome=outcome)
    assert check.outcome == outcome and check.passed is passed


def test_an_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="outcome"):
        Check("x", outcome="maybe")
    with pytest.raises(ValueError, match="passed"):
        Check("x", passed="yes")


def test_check_to_dict_has_every_contract_key():
    check = Check("lag", outcome=FAILED, message="lag 2 s", instrument=True, evidence={"a": 1})
    assert check.to_dict() == {
        "name": "lag",
        "outcome": "failed",
        "passed": False,
        "evidence": {"a": 1},
        "description": "",
        "message": "lag 2 s",
        "instrument": True,
    }


def suite(*checks):
    return SuiteResult(suite="s", parameters={}, endpoints=["http://n"], checks=list(checks))


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([], NOT_JUDGED),
        ([NOT_JUDGED, NOT_JUDGED], NOT_JUDGED),
        ([PASSED, NOT_JUDGED], PASSED),
        ([PASSED, INCONCLUSIVE, NOT_JUDGED], INCONCLUSIVE),
        ([PASSED, INCONCLUSIVE, FAILED], FAILED),
    ],
)
def test_suite_outcome_is_the_worst_of_its_checks(outcomes, expected):
    result = suite(*(Check(f"c{i}", outcome=o) for i, o in enumerate(outcomes)))
    assert result.outcome == expected
    assert result.passed is {PASSED: True, FAILED: False}.get(expected)
    assert result.invalid_reason == ""


def test_a_suite_with_nothing_judged_is_not_passed():
    result = suite(Check("a", passed=None), Check("b", passed=None))
    assert result.outcome == NOT_JUDGED
    assert result.passed is None


def test_a_failed_instrument_check_makes_the_suite_invalid_not_failed():
    result = suite(
        Check("latency", outcome=FAILED, message="p99 too slow"),
        Check("generator_lag", outcome=FAILED, instrument=True, message="generator lag 84 ms"),
        Check("clock", outcome=FAILED, instrument=True, message="clock off by 2 s"),
    )
    assert result.outcome == INVALID
    assert result.passed is None
    assert result.invalid_reason == "generator lag 84 ms; clock off by 2 s"
    data = result.to_dict()
    assert data["outcome"] == "invalid" and data["passed"] is None
    assert data["invalid_reason"] == "generator lag 84 ms; clock off by 2 s"


def test_a_passed_instrument_check_changes_nothing():
    result = suite(Check("latency", outcome=PASSED), Check("lag", outcome=PASSED, instrument=True))
    assert result.outcome == PASSED and result.invalid_reason == ""


def test_recorder_checks_carry_outcome_message_and_instrument():
    import dataclasses

    @dataclasses.dataclass
    class P:
        n: int = 1

    rec = Recorder("s", ["http://n"], P(), None)
    rec.check("a", True, "desc", height=5)
    rec.check("b", outcome=INCONCLUSIVE, message="too few samples (3 of 20)")
    rec.check("c", False, instrument=True, message="our poll lagged 3 s")
    result = rec.finish()
    a, b, c = result.checks
    assert a.evidence == {"height": 5} and a.outcome == PASSED
    assert b.outcome == INCONCLUSIVE and b.message == "too few samples (3 of 20)"
    assert c.instrument and result.outcome == INVALID
    assert any("inconclusive: too few samples" in line for line in result.logs)
    assert result.to_dict()["outcome"] == "invalid"


def test_log_lines_are_stamped_when_the_event_happened(monkeypatch):
    import dataclasses

    from assessments.engine import results

    @dataclasses.dataclass
    class P:
        n: int = 1

    moments = iter(
        [
            datetime.datetime(2025, 1, 2, 10, 2, 3, 120000, tzinfo=datetime.UTC),
            datetime.datetime(2025, 1, 2, 10, 2, 9, 450000, tzinfo=datetime.UTC),
        ]
    )

    rec = Recorder("s", ["http://n"], P(), None)
    monkeypatch.setattr(results, "_utcnow", lambda: next(moments))
    rec.log("first")
    rec.log("second")
    first, second = rec.result.logs
    assert first.startswith("10:02:03.120 UTC") and first.endswith("first")
    assert second.startswith("10:02:09.450 UTC") and second.endswith("second")
    assert re.search(r"\[\s*\d+\.\d{3}s\]", first)
