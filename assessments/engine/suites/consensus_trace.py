"""Consensus-trace check: does an uploaded BFT trace show a safe, live, quorum-backed agreement?

A trace is evidence a firm exports from its consensus layer (Tendermint, IBFT/QBFT,
PBFT, HotStuff and the like) as **JSON Lines**: UTF-8, one JSON object per line, every
line (the last included) ending with a newline, no blank lines.

Format ``sandbox-consensus-trace/1``
====================================

The first line is the header::

    {"type": "header", "format": "sandbox-consensus-trace/1",
     "validators": ["0xA1...", "0xB2...", "0xC3...", "0xD4..."], "max_faulty": null}

- ``validators`` (required): the validator set, n distinct identifiers (compared without
  regard to case);
- ``max_faulty`` (optional, null by default): f, the faults tolerated; null means
  ``(n - 1) // 3``. It may not exceed ``(n - 1) // 3`` (BFT needs n >= 3f + 1). A quorum
  is ``2f + 1`` distinct validators of the set.

Every other line is one event, as recorded by one node::

    {"type": "prevote", "node": "node-1", "time": 1700000000.25, "height": 7, "round": 0,
     "validator": "0xA1...", "block": "0x5e...", "signature": "0x..."}

Fields:

- ``type`` (required): one of the types below;
- ``node`` (required): the node whose log recorded the event (a string);
- ``time`` (required): when the node recorded it, as seconds (a number, any epoch) or an
  ISO 8601 string (``2026-11-25T10:00:00.250Z``);
- ``height`` (required): the height (block number, instance, sequence), an integer >= 0;
- ``round`` (required; ``view`` is accepted in its place): the round or view within the
  height, an integer >= 0;
- ``validator`` (``sender`` is accepted in its place): the validator that sent or signed
  the message. Required for every type but ``commit``;
- ``block``: the block hash the message is about. Required (a string) for ``proposal``
  and ``commit``; required for votes, where ``null`` is a nil vote (a vote for no block);
  not read for ``view_change``;
- ``signature`` (optional): kept as evidence; signatures are not verified here (their
  scheme depends on the client), the trace is checked for what it claims.

Other fields are ignored. The types, with the names other protocols use for them:

================  ==========================  ==============================================
type              also accepted               meaning
================  ==========================  ==============================================
``proposal``      ``pre_prepare``             ``validator`` proposes ``block`` at the round
``prevote``       ``prepare``                 first-phase vote of ``validator`` for ``block``
``precommit``     ``commit_vote``             second-phase vote; a quorum of them for one
                                              block and round certifies the block
``commit``        ``decide``                  ``node`` decided (finalised) ``block`` at the
                                              height; ``round`` is the round it decided in
``view_change``   ``round_change``            ``validator`` moves to round (view) ``round``
================  ==========================  ==============================================

``commit`` is always the decision; PBFT's and IBFT's "COMMIT" *message* is the
second-phase vote, exported as ``precommit`` (or ``commit_vote``).

Ordering. Events need not be sorted by time (nodes' clocks differ), and events of one height
may interleave with those of nearby heights, but a trace must move forward: an event may
come at most ``window - 1`` heights below the highest height seen before it (``window``
is a parameter, 8 by default). A height is checked and its state dropped once the trace is
``window`` heights past it, so memory depends on the window and the validator set, never
on the length of the trace. An event for a height already checked is refused, naming its
line.

Refused outright, naming the line (``jsonl.FormatError``): a header that is missing or
wrong, a line that is not JSON, a missing or mistyped field, an unknown type, an event
for a height already checked, a last line without its newline (a truncated file), a
file over ``max_bytes``.

Checks (n validators, f faults tolerated, quorum q = 2f + 1; each violation names the
height, the round and the validators involved):

- ``commit_agreement``: no two commits at one height name different blocks;
- ``quorum_certificates``: every commit is backed by precommits for the same block and
  round from at least q distinct validators of the set (votes from outside the set do not
  count);
- ``equivocation``: no validator sent two different proposals or votes (nil counts as a
  value) in one step of one round at one height;
- ``validity``: every committed block was proposed at its height by a validator of the set;
- ``liveness``: every height but the last one of the trace was committed, and none took
  more than ``max_rounds`` rounds.

Liveness figures: rounds per height, view changes, and time to commit per height (from
the height's first event, whatever its round, to its first commit, so failed rounds
count) as mean, p50, p99 and max, kept in an HdrHistogram so memory stays bounded.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from ..errors import InvalidParameters
from ..jsonl import FormatError, LineReader, Source, decode_header
from ..results import Progress, Recorder, SuiteResult, parse_parameters, require
from ..stats import LatencyHistogram

FORMAT = "sandbox-consensus-trace/1"

PROPOSAL, PREVOTE, PRECOMMIT, COMMIT, VIEW_CHANGE = range(5)
TYPES = {
    "proposal": PROPOSAL,
    "pre_prepare": PROPOSAL,
    "prevote": PREVOTE,
    "prepare": PREVOTE,
    "precommit": PRECOMMIT,
    "commit_vote": PRECOMMIT,
    "commit": COMMIT,
    "decide": COMMIT,
    "view_change": VIEW_CHANGE,
    "round_change": VIEW_CHANGE,
}
STEP_NAMES = {PROPOSAL: "proposal", PREVOTE: "prevote", PRECOMMIT: "precommit"}
CANONICAL = {**STEP_NAMES, COMMIT: "commit", VIEW_CHANGE: "view_change"}
NIL = "nil"
EVIDENCE_LIMIT = 50
CHART_POINTS = 400

NonNegative = Annotated[int, msgspec.Meta(ge=0)]


class Header(msgspec.Struct, gc=False):
    type: str
    format: str
    validators: list[str]
    max_faulty: NonNegative | None = None


class Event(msgspec.Struct, gc=False):
    type: str
    node: str
    time: float | str
    height: NonNegative
    round: NonNegative | None = None
    view: NonNegative | None = None
    validator: str | None = None
    sender: str | None = None
    block: str | None | msgspec.UnsetType = msgspec.UNSET
    signature: str | None = None


@dataclass(frozen=True)
class TraceParameters:
    max_faulty: int | None = None
    """Faults tolerated (f); None takes the header's, else (n - 1) // 3."""
    quorum: int | None = None
    """Distinct validators a commit's certificate needs; None means 2f + 1."""
    window: int = 8
    """Heights an event may lag behind the highest height seen (see Ordering)."""
    max_rounds: int = 3
    """Most rounds (views) one height may take before liveness fails."""
    max_bytes: int | None = None
    """Largest trace accepted, in bytes; None for no limit."""

    def validate(self) -> None:
        require(self.max_faulty is None or self.max_faulty >= 0, "max_faulty must be >= 0")
        require(self.quorum is None or self.quorum >= 1, "quorum must be at least 1")
        require(1 <= self.window <= 1000, "window must be 1-1000")
        require(self.max_rounds >= 1, "max_rounds must be at least 1")
        require(self.max_bytes is None or self.max_bytes > 0, "max_bytes must be positive")


def _seconds(value: str, line: int) -> float:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise FormatError(line, f"time {value!r} is neither seconds nor ISO 8601") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


_header_decoder = msgspec.json.Decoder(Header)


def _decode_header(line: bytes) -> Header:
    header = decode_header(_header_decoder, line, FORMAT)
    if not header.validators:
        raise FormatError(1, "the header's validators list is empty")
    seen = set()
    for v in header.validators:
        key = v.lower()
        if key in seen:
            raise FormatError(1, f"validator {v!r} is listed twice")
        seen.add(key)
    return header


def _explain(obj: Any) -> str | None:
    """The reason a JSON line is not an event, when it is its type."""
    kind = obj.get("type") if isinstance(obj, dict) else None
    if not isinstance(obj, dict):
        return "an event is a JSON object"
    if kind == "header":
        return "a second header: the header is the first line only"
    if isinstance(kind, str) and kind not in TYPES:
        return f"unknown message type {kind!r}; known: {', '.join(sorted(TYPES))}"
    return None


class _Height:
    """What the checker keeps of one height while it is inside the window."""

    __slots__ = (
        "height",
        "first_time",
        "first_commit",
        "max_round",
        "votes",
        "proposed",
        "commits",
        "equivocations",
        "view_changes",
        "line",
    )

    def __init__(self, height: int, line: int, time: float):
        self.height = height
        self.line = line
        self.first_time = time
        self.first_commit: float | None = None
        self.max_round = 0
        # round * 4 + step -> {validator: block}
        self.votes: dict[int, dict[str, str]] = {}
        self.proposed: set[str] = set()
        # block -> {node: round}
        self.commits: dict[str, dict[str, int]] = {}
        # (validator, round * 4 + step) -> blocks
        self.equivocations: dict[tuple[str, int], set[str]] = {}
        self.view_changes = 0


class Series:
    """A chart series of at most ``2 * limit`` points: every k-th height, k doubling."""

    def __init__(self, limit: int = CHART_POINTS):
        self.limit = limit
        self.stride = 1
        self.points: list[list] = []

    def add(self, index: int, point: list) -> None:
        if index % self.stride:
            return
        self.points.append(point)
        if len(self.points) >= 2 * self.limit:
            self.stride *= 2
            self.points = self.points[::2]


class _Checker:
    def __init__(self, header: Header, p: TraceParameters):
        self.validators = list(header.validators)
        # Any spelling of a member -> its name as declared.
        self.members: dict[str, str] = {}
        for v in header.validators:
            self.members[v] = v
            self.members[v.lower()] = v
        n = len(self.validators)
        largest = (n - 1) // 3
        f = p.max_faulty if p.max_faulty is not None else header.max_faulty
        if f is None:
            f = largest
        if f > largest:
            raise InvalidParameters(
                f"max_faulty {f} needs at least {3 * f + 1} validators; the trace declares {n}"
            )
        self.n, self.f = n, f
        self.quorum = p.quorum if p.quorum is not None else 2 * f + 1
        if self.quorum > n:
            raise InvalidParameters(f"a quorum of {self.quorum} is more than the {n} validators")
        self.p = p
        self.heights: dict[int, _Height] = {}
        self.top = -1
        self.lowest_open = None  # lowest height still in the window
        self.first_height: int | None = None
        self.last_height: int | None = None
        # Totals.
        self.events = 0
        self.counts = [0] * 5
        self.outsider_messages = 0
        self.outsiders: list[str] = []
        self.view_changes = 0
        self.heights_seen = 0
        self.heights_committed = 0
        self.rounds_total = 0
        self.rounds_max = 0
        self.rounds_histogram: dict[int, int] = {}
        self.time_to_commit = LatencyHistogram(highest_s=7 * 86400.0)
        self.negative_times = 0
        # Violations (first EVIDENCE_LIMIT of each kind kept; all counted).
        self.found = dict.fromkeys(("disagreements", "weak", "equivocations", "invalid"), 0)
        self.disagreements: list[dict] = []
        self.weak: list[dict] = []
        self.equivocations: list[dict] = []
        self.invalid: list[dict] = []
        self.slow: list[dict] = []
        self.slow_count = 0
        self.uncommitted: list[int] = []
        self.uncommitted_count = 0
        self.ttc_series = Series()
        self.rounds_series = Series()

    # -- the hot loop ----------------------------------------------------------------

    def feed(self, first_line: int, events: list[Event]) -> None:
        types = TYPES
        members = self.members
        heights = self.heights
        unset = msgspec.UNSET
        counts = self.counts
        line = first_line - 1
        cur_h = -1
        hs: _Height | None = None
        for ev in events:
            line += 1
            code = types.get(ev.type)
            if code is None:
                self._unknown_type(ev, line)
            h = ev.height
            r = ev.round
            if r is None:
                r = ev.view
                if r is None:
                    raise FormatError(line, "missing field 'round' (or 'view')")
            t = ev.time
            if t.__class__ is not float:
                t = _seconds(t, line)
            if h != cur_h or hs is None:
                hs = heights.get(h)
                if hs is None:
                    hs = self._open(h, line, t)
                cur_h = h
            if t < hs.first_time:
                hs.first_time = t
            if r > hs.max_round:
                hs.max_round = r
            counts[code] += 1
            if code == COMMIT:
                block = ev.block
                if block is None or block is unset:
                    raise FormatError(line, "a commit needs its block (a string)")
                block = block.lower()
                nodes = hs.commits.get(block)
                if nodes is None:
                    hs.commits[block] = {ev.node: r}
                elif ev.node not in nodes:
                    nodes[ev.node] = r
                if hs.first_commit is None or t < hs.first_commit:
                    hs.first_commit = t
                continue
            sender = ev.validator
            if sender is None:
                sender = ev.sender
                if sender is None:
                    raise FormatError(
                        line, f"missing field 'validator' (a {ev.type} names its sender)"
                    )
            v = members.get(sender)
            if v is None:
                v = members.get(sender.lower())
            if code == VIEW_CHANGE:
                hs.view_changes += 1
                if v is None:
                    self._outsider(sender)
                continue
            block = ev.block
            if block is unset:
                raise FormatError(line, f"missing field 'block' (null for a nil {ev.type})")
            if block is None:
                if code == PROPOSAL:
                    raise FormatError(line, "a proposal needs its block (a string)")
                block = NIL
            else:
                block = block.lower()
            if v is None:
                self._outsider(sender)
                continue
            if code == PROPOSAL:
                hs.proposed.add(block)
            key = r * 4 + code
            ballots = hs.votes.get(key)
            if ballots is None:
                hs.votes[key] = {v: block}
                continue
            previous = ballots.get(v)
            if previous is None:
                ballots[v] = block
            elif previous != block:
                both = hs.equivocations.get((v, key))
                if both is None:
                    hs.equivocations[(v, key)] = {previous, block}
                else:
                    both.add(block)
        self.events += len(events)

    def _unknown_type(self, ev: Event, line: int):
        raise FormatError(line, _explain({"type": ev.type}) or "unknown message type")

    def _outsider(self, sender: str) -> None:
        self.outsider_messages += 1
        if len(self.outsiders) < 10 and sender not in self.outsiders:
            self.outsiders.append(sender)

    def _open(self, h: int, line: int, t: float) -> _Height:
        if h <= self.top - self.p.window:
            raise FormatError(
                line,
                f"height {h} comes after the trace reached height {self.top}: events may lag "
                f"the highest height by at most {self.p.window - 1} (window {self.p.window}), "
                f"and height {h} has already been checked",
            )
        hs = _Height(h, line, t)
        self.heights[h] = hs
        if h > self.top:
            self.top = h
            limit = h - self.p.window
            if self.lowest_open is not None and self.lowest_open <= limit:
                for old in sorted(k for k in self.heights if k <= limit):
                    self._finalize(self.heights.pop(old), last=False)
            self.lowest_open = min(self.heights)
        elif self.lowest_open is None or h < self.lowest_open:
            self.lowest_open = h
        return hs

    # -- a height leaves the window ---------------------------------------------------

    def _signers(self, hs: _Height, rnd: int, block: str) -> list[str]:
        """Validators of the set whose precommits at ``rnd`` name ``block`` (an equivocator's
        second vote counts for its block too: it did sign it)."""
        key = rnd * 4 + PRECOMMIT
        ballots = hs.votes.get(key, {})
        signers = {v for v, b in ballots.items() if b == block}
        for (v, k), blocks in hs.equivocations.items():
            if k == key and block in blocks:
                signers.add(v)
        return sorted(signers)

    def _finalize(self, hs: _Height, *, last: bool) -> None:
        h = hs.height
        if self.first_height is None or h < self.first_height:
            self.first_height = h
        index = self.heights_seen
        self.heights_seen += 1
        rounds = hs.max_round + 1
        self.rounds_total += rounds
        self.rounds_max = max(self.rounds_max, rounds)
        self.rounds_histogram[rounds] = self.rounds_histogram.get(rounds, 0) + 1
        self.rounds_series.add(index, [h, rounds])
        self.view_changes += hs.view_changes
        if rounds > self.p.max_rounds:
            self.slow_count += 1
            if len(self.slow) < EVIDENCE_LIMIT:
                self.slow.append({"height": h, "rounds": rounds, "view_changes": hs.view_changes})
        for (validator, key), blocks in hs.equivocations.items():
            self.found["equivocations"] += 1
            if len(self.equivocations) < EVIDENCE_LIMIT:
                self.equivocations.append(
                    {
                        "height": h,
                        "round": key // 4,
                        "step": STEP_NAMES[key % 4],
                        "validators": [validator],
                        "blocks": sorted(blocks),
                    }
                )
        if not hs.commits:
            if not last:
                self.uncommitted_count += 1
                if len(self.uncommitted) < EVIDENCE_LIMIT:
                    self.uncommitted.append(h)
            return
        self.heights_committed += 1
        elapsed = hs.first_commit - hs.first_time
        if elapsed < 0:
            self.negative_times += 1
            elapsed = 0.0
        self.time_to_commit.record(elapsed)
        self.ttc_series.add(index, [h, round(elapsed, 6)])
        if len(hs.commits) > 1:
            self.found["disagreements"] += 1
            if len(self.disagreements) < EVIDENCE_LIMIT:
                self.disagreements.append(
                    {
                        "height": h,
                        "rounds": sorted(
                            {r for nodes in hs.commits.values() for r in nodes.values()}
                        ),
                        "blocks": [
                            {
                                "block": block,
                                "nodes": sorted(nodes)[:20],
                                "validators": sorted(
                                    {
                                        s
                                        for r in set(nodes.values())
                                        for s in self._signers(hs, r, block)
                                    }
                                ),
                            }
                            for block, nodes in sorted(hs.commits.items())
                        ],
                    }
                )
        for block, nodes in hs.commits.items():
            for rnd in sorted(set(nodes.values())):
                signers = self._signers(hs, rnd, block)
                if len(signers) < self.quorum:
                    self.found["weak"] += 1
                    if len(self.weak) < EVIDENCE_LIMIT:
                        self.weak.append(
                            {
                                "height": h,
                                "round": rnd,
                                "block": block,
                                "validators": signers,
                                "distinct_validators": len(signers),
                                "quorum": self.quorum,
                                "nodes": sorted(n for n, r in nodes.items() if r == rnd)[:20],
                            }
                        )
            if block not in hs.proposed:
                self.found["invalid"] += 1
                if len(self.invalid) < EVIDENCE_LIMIT:
                    rounds_of = sorted(set(nodes.values()))
                    self.invalid.append(
                        {
                            "height": h,
                            "round": rounds_of[0],
                            "block": block,
                            "nodes": sorted(nodes)[:20],
                            "validators": sorted(
                                {s for r in rounds_of for s in self._signers(hs, r, block)}
                            ),
                            "proposed": sorted(hs.proposed)[:10],
                        }
                    )

    def finish(self) -> None:
        remaining = sorted(self.heights)
        for h in remaining:
            self._finalize(self.heights.pop(h), last=(h == remaining[-1]))
        self.last_height = remaining[-1] if remaining else None

    # -- the result -------------------------------------------------------------------

    def result(self, rec: Recorder) -> SuiteResult:
        c = self.counts
        commits = c[COMMIT]
        ttc = self.time_to_commit.summary()
        rec.result.metrics.update(
            {
                "validators": self.n,
                "max_faulty": self.f,
                "quorum": self.quorum,
                "events": self.events,
                "proposals": c[PROPOSAL],
                "prevotes": c[PREVOTE],
                "precommits": c[PRECOMMIT],
                "commits": commits,
                "view_changes": self.view_changes,
                "outsider_messages": self.outsider_messages,
                "heights": self.heights_seen,
                "heights_committed": self.heights_committed,
                "first_height": self.first_height,
                "last_height": self.last_height,
                "rounds_per_height": {
                    "mean": round(self.rounds_total / self.heights_seen, 4)
                    if self.heights_seen
                    else None,
                    "max": self.rounds_max or None,
                    "histogram": {str(k): v for k, v in sorted(self.rounds_histogram.items())},
                },
                "time_to_commit_s": {
                    "count": ttc["count"],
                    "mean": ttc["mean"],
                    "p50": ttc["p50"],
                    "p99": ttc["p99"],
                    "max": ttc["max"],
                },
                "disagreements": self.found["disagreements"],
                "weak_certificates": self.found["weak"],
                "equivocations": self.found["equivocations"],
                "invalid_commits": self.found["invalid"],
                "uncommitted_heights": self.uncommitted_count,
                "slow_heights": self.slow_count,
            }
        )
        rec.check(
            "commit_agreement",
            (self.found["disagreements"] == 0) if commits else None,
            "no two commits at one height name different blocks",
            disagreements=self.disagreements,
            count=self.found["disagreements"],
        )
        rec.check(
            "quorum_certificates",
            (self.found["weak"] == 0) if commits else None,
            f"every commit is backed by precommits for its block and round from at least "
            f"{self.quorum} distinct validators (2f+1, f={self.f})",
            weak=self.weak,
            count=self.found["weak"],
            quorum=self.quorum,
            outsiders=self.outsiders,
        )
        votes = c[PROPOSAL] + c[PREVOTE] + c[PRECOMMIT]
        rec.check(
            "equivocation",
            (self.found["equivocations"] == 0) if votes else None,
            "no validator sent two different proposals or votes in one step of one round",
            equivocations=self.equivocations,
            count=self.found["equivocations"],
        )
        rec.check(
            "validity",
            (self.found["invalid"] == 0) if commits else None,
            "every committed block was proposed at its height by a validator of the set",
            invalid=self.invalid,
            count=self.found["invalid"],
        )
        live = self.uncommitted_count == 0 and self.slow_count == 0
        rec.check(
            "liveness",
            live if self.heights_seen else None,
            f"every height but the last was committed, none in more than "
            f"{self.p.max_rounds} rounds",
            uncommitted_heights=self.uncommitted,
            slow_heights=self.slow,
            max_rounds=self.p.max_rounds,
        )
        rec.result.charts.update(
            {
                "time_to_commit_s": self.ttc_series.points,
                "rounds_per_height": self.rounds_series.points,
                "rounds_histogram": [[k, v] for k, v in sorted(self.rounds_histogram.items())],
            }
        )
        return rec.finish()


def check(
    source: Source,
    parameters: dict | TraceParameters | None = None,
    progress: Progress | None = None,
) -> SuiteResult:
    """Check a consensus trace (a path, bytes or a binary file); see the module docstring.

    A trace that breaks the format raises ``jsonl.FormatError`` naming the line.
    """
    p = parse_parameters(TraceParameters, parameters)
    with LineReader(source, Event, max_bytes=p.max_bytes, explain=_explain) as reader:
        header = reader.header(_decode_header)
        checker = _Checker(header, p)
        rec = Recorder("consensus_trace", [], p, progress)
        rec.log(f"{checker.n} validators, f={checker.f}, quorum {checker.quorum}")
        size = reader.size or 0
        next_report = 0.1
        for first, events in reader.chunks():
            checker.feed(first, events)
            if progress is not None and size and reader.bytes_read / size >= next_report:
                rec.progress(90 * reader.bytes_read / size, f"{reader.lines:,} lines read")
                next_report += 0.1
        checker.finish()
        rec.log(f"{reader.lines:,} lines, {checker.events:,} events, {reader.bytes_read:,} bytes")
    return checker.result(rec)


# The form every suite has: run(input, parameters, progress).
run = check


def header_of(source: Source) -> Header:
    """The trace's header alone (its first line), checked."""
    with LineReader(source, Event) as reader:
        return reader.header(_decode_header)


def events_at(source: Source, height: int, *, window: int = 8, limit: int = 2000) -> dict[str, Any]:
    """The events of one height, for a message-sequence chart: the header's validators and
    up to ``limit`` events as dicts with their line numbers. Stops reading once the trace
    is ``window`` heights past ``height``."""
    events: list[dict] = []
    truncated = False
    with LineReader(source, Event) as reader:
        header = reader.header(_decode_header)
        done = False
        for first, chunk in reader.chunks():
            for offset, ev in enumerate(chunk):
                if ev.height == height:
                    if len(events) >= limit:
                        truncated = True
                        continue
                    events.append(_as_dict(ev, first + offset))
                elif ev.height >= height + window:
                    done = True
                    break
            if done:
                break
    return {"validators": list(header.validators), "events": events, "truncated": truncated}


def _as_dict(ev: Event, line: int) -> dict[str, Any]:
    t = ev.time
    seconds = t if isinstance(t, float) else _seconds(t, line)
    block = None if ev.block is msgspec.UNSET else ev.block
    return {
        "line": line,
        "type": ev.type,
        "kind": CANONICAL.get(TYPES.get(ev.type), ev.type),
        "node": ev.node,
        "time": seconds,
        "height": ev.height,
        "round": ev.round if ev.round is not None else ev.view,
        "validator": ev.validator if ev.validator is not None else ev.sender,
        "block": block,
    }
