"""What a suite takes (``Target``, parameters) and what it returns (``SuiteResult``)."""

from __future__ import annotations

import dataclasses
import datetime
import time
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidParameters
from .guard import Guard, parse_networks

# progress(percent 0-100, message). It may raise ``RunCancelled`` to stop the suite.
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Target:
    """The system under test as one suite sees it.

    ``endpoints`` are the nodes to test; ``allowed`` is the allow-list every request is
    checked against (the case's registered nodes: an endpoint outside it is refused).
    ``faucet_key`` is the private key of a funded account from which suites that send
    transactions (payment, clearing) fund their own test accounts. ``allowed_networks`` are
    the non-public networks (CIDRs) the endpoints may resolve to; outside them only public
    addresses are reached (see ``guard``).
    """

    endpoints: Sequence[str]
    allowed: Sequence[str]
    faucet_key: str | None = None
    timeout: float = 10.0
    allowed_networks: Sequence[str] = ()

    def __post_init__(self):
        if isinstance(self.endpoints, str) or isinstance(self.allowed, str):
            raise InvalidParameters("endpoints and allowed are lists of URLs, not one string")
        object.__setattr__(self, "endpoints", tuple(self.endpoints))
        object.__setattr__(self, "allowed", tuple(self.allowed))
        networks = parse_networks(self.allowed_networks)  # a malformed entry fails here
        object.__setattr__(self, "allowed_networks", tuple(str(n) for n in networks))
        if not self.endpoints:
            raise InvalidParameters("a target needs at least one endpoint")

    def guard(self) -> Guard:
        """A guard for this target: its allow-list and its permitted networks."""
        return Guard(self.allowed, allowed_networks=self.allowed_networks)


# The four outcomes of a check. Only FAILED counts against the firm's system; INCONCLUSIVE
# means the evidence cannot decide (too few samples, an interval straddling the bound);
# NOT_JUDGED means there was nothing to judge.
PASSED = "passed"
FAILED = "failed"
INCONCLUSIVE = "inconclusive"
NOT_JUDGED = "not_judged"
OUTCOMES = (PASSED, FAILED, INCONCLUSIVE, NOT_JUDGED)
# A suite whose own measuring instrument failed judged nothing about the firm.
INVALID = "invalid"

_FROM_PASSED = {True: PASSED, False: FAILED, None: NOT_JUDGED}


def outcome_of(passed: bool | None) -> str:
    """The outcome a bare ``passed`` value stands for (results stored before outcomes)."""
    return _FROM_PASSED[passed]


@dataclass
class Check:
    """One named check and its outcome.

    ``outcome`` is one of ``OUTCOMES``; left None it is derived from ``passed`` (True ->
    passed, False -> failed, None -> not judged). ``passed`` is then kept consistent with the
    outcome: True only when passed, False only when failed, None otherwise. ``message`` is
    the sentence a regulator reads (what, where, how far from the bound; or why nothing was
    judged). ``instrument`` marks a check of the engine's own measuring instrument, never of
    the system under test: its failure makes the suite invalid, not failed.
    """

    name: str
    passed: bool | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    outcome: str | None = None
    message: str = ""
    instrument: bool = False

    def __post_init__(self):
        if self.outcome is None:
            if self.passed not in _FROM_PASSED:
                raise ValueError(f"passed must be True, False or None, not {self.passed!r}")
            self.outcome = _FROM_PASSED[self.passed]
        elif self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {self.outcome!r}")
        self.passed = {PASSED: True, FAILED: False}.get(self.outcome)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": self.outcome,
            "passed": self.passed,
            "evidence": self.evidence,
            "description": self.description,
            "message": self.message,
            "instrument": self.instrument,
        }


@dataclass
class SuiteResult:
    """Metrics, checks, chart series and log lines of one suite run; JSON-ready via to_dict."""

    suite: str
    parameters: dict[str, Any]
    endpoints: list[str]
    metrics: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    charts: dict[str, Any] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    started_at: str = ""
    finished_at: str = ""

    @property
    def outcome(self) -> str:
        """invalid if an instrument check failed; else the worst of the checks' outcomes.

        Order: failed, inconclusive, passed; a suite with no check judged is not_judged,
        never passed.
        """
        outcomes = [c.outcome for c in self.checks]
        if any(c.instrument and c.outcome == FAILED for c in self.checks):
            return INVALID
        for outcome in (FAILED, INCONCLUSIVE, PASSED):
            if outcome in outcomes:
                return outcome
        return NOT_JUDGED

    @property
    def invalid_reason(self) -> str:
        """Why the suite is invalid: the failed instrument checks' messages ("" if valid)."""
        return "; ".join(
            c.message or f"{c.name} failed"
            for c in self.checks
            if c.instrument and c.outcome == FAILED
        )

    @property
    def passed(self) -> bool | None:
        """True when the outcome is passed, False when failed, None otherwise."""
        return {PASSED: True, FAILED: False}.get(self.outcome)

    def check(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "outcome": self.outcome,
            "invalid_reason": self.invalid_reason,
            "passed": self.passed,
            "parameters": self.parameters,
            "endpoints": self.endpoints,
            "metrics": self.metrics,
            "checks": [c.to_dict() for c in self.checks],
            "charts": self.charts,
            "logs": self.logs,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _now() -> str:
    return _utcnow().isoformat(timespec="milliseconds")


class Recorder:
    """Builds a SuiteResult while a suite runs: log lines, progress, checks."""

    def __init__(
        self,
        suite: str,
        target: Target | Sequence[str],
        parameters: Any,
        progress: Progress | None,
    ):
        endpoints = target.endpoints if isinstance(target, Target) else target
        self.result = SuiteResult(
            suite=suite,
            parameters=dataclasses.asdict(parameters),
            endpoints=list(endpoints),
            started_at=_now(),
        )
        self._progress = progress
        self._t0 = time.monotonic()

    def log(self, message: str) -> None:
        """Append a line stamped now: the UTC time the event happened and the suite's age."""
        now = _utcnow()
        elapsed = time.monotonic() - self._t0
        self.result.logs.append(
            f"{now:%H:%M:%S}.{now.microsecond // 1000:03d} UTC [{elapsed:8.3f}s] {message}"
        )

    def progress(self, percent: float, message: str = "") -> None:
        if message:
            self.log(message)
        if self._progress is not None:
            self._progress(max(0.0, min(100.0, percent)), message)

    def check(
        self,
        name: str,
        passed: bool | None = None,
        description: str = "",
        *,
        outcome: str | None = None,
        message: str = "",
        instrument: bool = False,
        **evidence,
    ) -> Check:
        """Record a check; ``outcome`` (if given) wins over ``passed``. See ``Check``."""
        c = Check(
            name=name,
            passed=passed,
            evidence=evidence,
            description=description,
            outcome=outcome,
            message=message,
            instrument=instrument,
        )
        self.result.checks.append(c)
        verdict = c.outcome.replace("_", " ")
        if c.outcome == FAILED:
            verdict = "FAILED"
        kind = "instrument check" if instrument else "check"
        self.log(f"{kind} {name}: {verdict}" + (f": {message}" if message else ""))
        return c

    def finish(self) -> SuiteResult:
        self.result.finished_at = _now()
        self.progress(100.0, "done")
        return self.result


def parse_parameters(cls: type, given: Mapping[str, Any] | Any | None):
    """Build a suite's parameter dataclass from a mapping, refusing unknown or mistyped keys."""
    if given is None:
        return cls()
    if isinstance(given, cls):
        return given
    if not isinstance(given, Mapping):
        raise InvalidParameters(f"parameters must be a mapping, not {type(given).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(given) - names)
    if unknown:
        raise InvalidParameters(f"unknown parameters {unknown}; known: {sorted(names)}")
    values = {}
    for name, value in given.items():
        values[name] = _coerce(name, value, hints[name])
    try:
        params = cls(**values)
    except (TypeError, ValueError) as exc:
        raise InvalidParameters(str(exc)) from None
    validate = getattr(params, "validate", None)
    if validate is not None:
        validate()
    return params


def _coerce(name: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(name, value, inner[0])
    if origin in (tuple, list, Sequence):
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise InvalidParameters(f"{name} must be a list")
        item = args[0] if args else Any
        return tuple(_coerce(name, v, item) for v in value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidParameters(f"{name} must be a number, not {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidParameters(f"{name} must be an integer, not {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise InvalidParameters(f"{name} must be true or false, not {value!r}")
        return value
    if hint is str and not isinstance(value, str):
        raise InvalidParameters(f"{name} must be a string, not {value!r}")
    return value


def require(condition: bool, message: str) -> None:
    """Parameter validation helper for the suites' ``validate`` methods."""
    if not condition:
        raise InvalidParameters(message)
