"""Consensus-trace check: does an uploaded BFT trace show a safe, quorum-backed agreement?

A trace is evidence a firm exports from its consensus layer (IBFT, QBFT, Tendermint,
HotStuff and the like), as JSON::

    {
      "validators": ["0xA1...", "0xB2...", "0xC3...", "0xD4..."],
      "votes":   [{"validator": "0xA1...", "height": 7, "round": 0,
                   "step": "commit", "block": "0x5e..."}, ...],
      "commits": [{"node": "node-1", "height": 7, "round": 0,
                   "block": "0x5e...", "signers": ["0xA1...", "0xB2...", "0xC3..."]}, ...]
    }

With n validators and f = (n - 1) // 3 tolerated faults, it guarantees these checks:

- ``quorum_certificates``: every commit is certified by at least 2f + 1 distinct members of
  the validator set (signers outside it do not count);
- ``equivocation``: no validator voted for two different blocks in one step of one round at
  one height;
- ``commit_agreement``: no two commits (from any node) name different blocks at one height.

Vote signatures are not verified here: their scheme depends on the client; the trace is
checked for what it claims.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidParameters
from ..results import Progress, Recorder, SuiteResult, parse_parameters, require


@dataclass(frozen=True)
class TraceParameters:
    max_faulty: int | None = None
    """Faults tolerated (f); None derives it from the validator set: (n - 1) // 3."""
    quorum: int | None = None
    """Distinct signers a certificate needs; None means 2f + 1."""

    def validate(self) -> None:
        require(self.max_faulty is None or self.max_faulty >= 0, "max_faulty must be >= 0")
        require(self.quorum is None or self.quorum >= 1, "quorum must be at least 1")


def _key(value: Any) -> str:
    return str(value).lower()


def _entries(trace: Mapping, name: str, fields: tuple[str, ...]) -> list[dict]:
    entries = trace.get(name, [])
    if not isinstance(entries, list):
        raise InvalidParameters(f"the trace's {name} must be a list")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise InvalidParameters(f"{name}[{i}] is not an object")
        missing = [f for f in fields if f not in entry]
        if missing:
            raise InvalidParameters(f"{name}[{i}] has no {', '.join(missing)}")
    return entries


def run(
    trace: Mapping[str, Any],
    parameters: dict | TraceParameters | None = None,
    progress: Progress | None = None,
) -> SuiteResult:
    """Check a consensus trace; see the module docstring. A malformed trace is refused."""
    p = parse_parameters(TraceParameters, parameters)
    if not isinstance(trace, Mapping):
        raise InvalidParameters("a consensus trace is a JSON object")
    validators = trace.get("validators")
    if not isinstance(validators, list) or not validators:
        raise InvalidParameters("the trace needs a non-empty list of validators")
    votes = _entries(trace, "votes", ("validator", "height", "step", "block"))
    commits = _entries(trace, "commits", ("height", "block", "signers"))
    rec = Recorder("consensus_trace", [], p, progress)

    members = {_key(v) for v in validators}
    n = len(members)
    f = p.max_faulty if p.max_faulty is not None else (n - 1) // 3
    quorum = p.quorum if p.quorum is not None else 2 * f + 1

    weak = []
    for c in commits:
        signers = c["signers"] if isinstance(c["signers"], list) else []
        counted = {_key(s) for s in signers} & members
        if len(counted) < quorum:
            weak.append(
                {
                    "node": c.get("node"),
                    "height": c["height"],
                    "block": c["block"],
                    "distinct_validators": len(counted),
                    "outsiders": sorted({_key(s) for s in signers} - members)[:10],
                }
            )

    ballots: dict[tuple, set[str]] = defaultdict(set)
    for v in votes:
        ballots[(_key(v["validator"]), v["height"], v.get("round", 0), v["step"])].add(
            _key(v["block"])
        )
    equivocations = [
        {"validator": k[0], "height": k[1], "round": k[2], "step": k[3], "blocks": sorted(b)}
        for k, b in ballots.items()
        if len(b) > 1
    ]

    by_height: dict[Any, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for c in commits:
        by_height[c["height"]][_key(c["block"])].append(c.get("node"))
    disagreements = [
        {"height": h, "blocks": dict(blocks)} for h, blocks in by_height.items() if len(blocks) > 1
    ]

    rec.result.metrics.update(
        {
            "validators": n,
            "max_faulty": f,
            "quorum": quorum,
            "votes": len(votes),
            "commits": len(commits),
            "heights": len(by_height),
            "weak_certificates": len(weak),
            "equivocations": len(equivocations),
            "disagreements": len(disagreements),
        }
    )
    rec.check(
        "quorum_certificates",
        (not weak) if commits else None,
        f"every commit is signed by at least {quorum} distinct validators (2f+1, f={f})",
        weak=weak[:20],
        quorum=quorum,
    )
    rec.check(
        "equivocation",
        (not equivocations) if votes else None,
        "no validator voted for two blocks in one step of one round",
        equivocations=equivocations[:20],
    )
    rec.check(
        "commit_agreement",
        (not disagreements) if commits else None,
        "no two commits name different blocks at one height",
        disagreements=disagreements[:20],
    )
    return rec.finish()
