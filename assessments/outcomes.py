"""The four outcomes of a check or suite, and the fifth of a run, read from stored results.

A check or suite is ``passed``, ``failed``, ``inconclusive`` (the evidence cannot decide)
or ``not_judged`` (nothing to judge); a suite or run whose own measuring instrument
misbehaved is ``invalid``. Only ``failed`` counts against a firm.

Stored results may predate outcomes (no ``"outcome"`` key): their outcome is read from
``passed`` (True -> passed, False -> failed, None -> not judged), so an old result reads
as it always did. Plain Python: pages, the API, evaluations and reports share it.
"""

PASSED = "passed"
FAILED = "failed"
INCONCLUSIVE = "inconclusive"
NOT_JUDGED = "not_judged"
INVALID = "invalid"

CHECK_OUTCOMES = (PASSED, FAILED, INCONCLUSIVE, NOT_JUDGED)
RUN_OUTCOMES = (*CHECK_OUTCOMES, INVALID)

LABELS = {
    PASSED: "Passed",
    FAILED: "Failed",
    INCONCLUSIVE: "Inconclusive",
    NOT_JUDGED: "Not judged",
    INVALID: "Invalid",
}

# Longest message or reason kept from a stored result (they are shown and stored again).
TEXT_LIMIT = 2000


def from_passed(passed):
    """The outcome an old result's ``passed`` stood for."""
    return {True: PASSED, False: FAILED}.get(passed, NOT_JUDGED)


def passed_of(outcome):
    """``passed`` as the contract keeps it: True iff passed, False iff failed, else None."""
    return {PASSED: True, FAILED: False}.get(outcome)


def _text(value):
    return value[:TEXT_LIMIT] if isinstance(value, str) else ""


def check_outcome(check):
    """A stored check's outcome, from ``outcome`` or else from ``passed``."""
    if not isinstance(check, dict):
        return NOT_JUDGED
    outcome = check.get("outcome")
    if outcome in CHECK_OUTCOMES:
        return outcome
    return from_passed(check.get("passed"))


def check_message(check):
    return _text(check.get("message")) if isinstance(check, dict) else ""


def is_instrument(check):
    return isinstance(check, dict) and check.get("instrument") is True


def suite_outcome(result, passed=None):
    """A stored suite result's outcome: its ``outcome``, else from its ``passed`` (or the
    row's ``passed`` when the result has none)."""
    result = result if isinstance(result, dict) else {}
    outcome = result.get("outcome")
    if outcome in RUN_OUTCOMES:
        return outcome
    if "passed" in result:
        return from_passed(result.get("passed"))
    return from_passed(passed)


def suite_invalid_reason(result):
    """Why a stored suite result is invalid: its ``invalid_reason``, else the messages of
    its failed instrument checks."""
    result = result if isinstance(result, dict) else {}
    reason = _text(result.get("invalid_reason"))
    if reason:
        return reason
    checks = result.get("checks") if isinstance(result.get("checks"), list) else []
    messages = [
        check_message(c) or f"{c.get('name', 'instrument check')} failed"
        for c in checks
        if is_instrument(c) and check_outcome(c) == FAILED
    ]
    return "; ".join(messages)[:TEXT_LIMIT]


def undecided_reason(result):
    """Why a stored suite result is inconclusive: its inconclusive checks' messages."""
    result = result if isinstance(result, dict) else {}
    checks = result.get("checks") if isinstance(result.get("checks"), list) else []
    messages = [
        check_message(c) or f"{c.get('name', 'a check')} is inconclusive"
        for c in checks
        if check_outcome(c) == INCONCLUSIVE
    ]
    return "; ".join(messages)[:TEXT_LIMIT]


def combine(outcomes):
    """The outcome of several suites (or checks): invalid if any is invalid, else failed if
    any failed, else inconclusive if any is, else passed if any passed, else not judged."""
    outcomes = list(outcomes)
    for outcome in (INVALID, FAILED, INCONCLUSIVE, PASSED):
        if outcome in outcomes:
            return outcome
    return NOT_JUDGED
