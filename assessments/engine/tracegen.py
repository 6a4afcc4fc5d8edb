"""Deterministic example traces: consensus traces (``sandbox-consensus-trace/1``) and ledger
histories (``sandbox-ledger-history/1``), healthy or with one kind of fault.

The same kind, size and seed always give the same bytes, so the examples shipped in
``examples/`` can be compared with what this module generates. Nothing here imports Django.

Consensus kinds (n validators, f = (n - 1) // 3; node ``node-i`` runs validator i; the
fault is at the middle height, ``first_height + heights // 2``):

- ``healthy``: every height is proposed, voted and committed by everyone in round 0;
- ``view_changes``: every fifth height loses its round 0 (the proposer is silent, nil votes,
  a view change) and commits in round 1; still live;
- ``slow``: like ``view_changes`` on every third height, and the middle height needs
  five rounds with growing timeouts: fails ``liveness``;
- ``equivocation``: the last validator also precommits a second block at the middle height:
  fails ``equivocation``;
- ``fork``: f + 1 validators (the proposer among them) vote for two blocks, the honest ones
  split, and the nodes commit two different blocks, each with a quorum: fails
  ``commit_agreement`` and ``equivocation``;
- ``no_quorum``: only 2f validators precommit the block the nodes commit: fails
  ``quorum_certificates``;
- ``invalid_commit``: the nodes vote for and commit a block nobody proposed: fails
  ``validity``.

Ledger kinds (a few accounts paying each other, one transaction per block and account):
``ledger_healthy``, ``ledger_nonce_gap`` (an account skips a nonce), ``ledger_repeated_nonce``
(an account's nonce is used twice: a double spend) and ``ledger_overdraft`` (an account
spends more than it holds).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import IO

CONSENSUS_FORMAT = "sandbox-consensus-trace/1"
LEDGER_FORMAT = "sandbox-ledger-history/1"

CONSENSUS_KINDS = (
    "healthy",
    "view_changes",
    "slow",
    "equivocation",
    "fork",
    "no_quorum",
    "invalid_commit",
)
LEDGER_KINDS = ("ledger_healthy", "ledger_nonce_gap", "ledger_repeated_nonce", "ledger_overdraft")
KINDS = CONSENSUS_KINDS + LEDGER_KINDS

# The checks each kind fails (every other check passes).
EXPECTED_FAILURES = {
    "healthy": set(),
    "view_changes": set(),
    "slow": {"liveness"},
    "equivocation": {"equivocation"},
    "fork": {"commit_agreement", "equivocation"},
    "no_quorum": {"quorum_certificates"},
    "invalid_commit": {"validity"},
    "ledger_healthy": set(),
    "ledger_nonce_gap": {"nonces_gap_free"},
    "ledger_repeated_nonce": {"no_double_spend"},
    "ledger_overdraft": {"no_negative_balance", "value_conserved"},
}

BLOCK_S = 1.0
TIMEOUT_S = 1.0


def _hex(rng: random.Random, bits: int) -> str:
    return f"0x{rng.getrandbits(bits):0{bits // 4}x}"


class _Writer:
    """Event lines of one height, written with a fixed field order (fast and stable)."""

    __slots__ = ("lines",)

    def __init__(self):
        self.lines: list[str] = []

    def event(self, kind, node, t, height, rnd, validator, block=None):
        if kind == "view_change":
            tail = "}\n"
        elif block is None:
            tail = ',"block":null}\n'
        else:
            tail = f',"block":"{block}"}}\n'
        self.lines.append(
            f'{{"type":"{kind}","node":"{node}","time":{t:.3f},"height":{height},'
            f'"round":{rnd},"validator":"{validator}"' + tail
        )


def consensus_lines(
    kind: str = "healthy",
    *,
    heights: int = 20,
    validators: int = 4,
    seed: int = 1,
    start: float = 1_700_000_000.0,
    first_height: int = 1,
) -> Iterator[str]:
    """The lines of a consensus trace (each ending with a newline); see the module docstring."""
    if kind not in CONSENSUS_KINDS:
        raise ValueError(f"unknown consensus trace kind {kind!r}; known: {CONSENSUS_KINDS}")
    if heights < 1 or validators < 1:
        raise ValueError("a trace needs at least one height and one validator")
    rng = random.Random(seed)  # noqa: S311 - reproducible examples, not secrets
    vals = [_hex(rng, 160) for _ in range(validators)]
    nodes = [f"node-{i + 1}" for i in range(validators)]
    n = validators
    f = (n - 1) // 3
    quorum = 2 * f + 1
    fault = first_height + heights // 2
    header = {
        "type": "header",
        "format": CONSENSUS_FORMAT,
        "validators": vals,
        "max_faulty": None,
    }
    yield json.dumps(header, separators=(",", ":")) + "\n"
    t = start
    for height in range(first_height, first_height + heights):
        failed = 0
        if kind == "view_changes" and height % 5 == 0:
            failed = 1
        elif kind == "slow":
            failed = 4 if height == fault else (1 if height % 3 == 0 else 0)
        w = _Writer()
        for rnd in range(failed):
            timeout = TIMEOUT_S * 2**rnd
            for step, at, to_round in (
                ("prevote", 0.5, rnd),
                ("precommit", 0.8, rnd),
                ("view_change", 1.0, rnd + 1),
            ):
                for i in range(n):
                    at_time = t + timeout * at + rng.random() * 0.02
                    w.event(step, nodes[i], at_time, height, to_round, vals[i])
            t += timeout
        rnd = failed
        block = _hex(rng, 256)
        proposer = (height + rnd) % n
        here = kind if height == fault else "healthy"
        if here == "fork":
            _fork(w, rng, t, height, rnd, vals, nodes, f, block)
        else:
            proposed = _hex(rng, 256) if here == "invalid_commit" else block
            at = t + 0.01 + rng.random() * 0.01
            w.event("proposal", nodes[proposer], at, height, rnd, vals[proposer], proposed)
            for i in range(n):
                at = t + 0.05 + rng.random() * 0.03
                w.event("prevote", nodes[i], at, height, rnd, vals[i], block)
            for i in range(n):
                nil = here == "no_quorum" and i >= quorum - 1
                at = t + 0.10 + rng.random() * 0.03
                w.event("precommit", nodes[i], at, height, rnd, vals[i], None if nil else block)
            if here == "equivocation":
                w.event("precommit", nodes[-1], t + 0.14, height, rnd, vals[-1], _hex(rng, 256))
            for i in range(n):
                at = t + 0.15 + rng.random() * 0.03
                w.event("commit", nodes[i], at, height, rnd, vals[i], block)
        t += BLOCK_S
        yield from w.lines


def _fork(w, rng, t, height, rnd, vals, nodes, f, block):
    """f + 1 Byzantine validators vote both ways; the honest split f / the rest."""
    other = _hex(rng, 256)
    byz = list(range(f + 1))
    honest = list(range(f + 1, len(vals)))
    side_a, side_b = honest[:f], honest[f:]
    p = byz[0]
    w.event("proposal", nodes[p], t + 0.01, height, rnd, vals[p], block)
    w.event("proposal", nodes[p], t + 0.012, height, rnd, vals[p], other)
    for step, at in (("prevote", 0.05), ("precommit", 0.10)):
        for i in byz:
            w.event(step, nodes[i], t + at, height, rnd, vals[i], block)
            w.event(step, nodes[i], t + at + 0.002, height, rnd, vals[i], other)
        for i in side_a:
            w.event(step, nodes[i], t + at + rng.random() * 0.03, height, rnd, vals[i], block)
        for i in side_b:
            w.event(step, nodes[i], t + at + rng.random() * 0.03, height, rnd, vals[i], other)
    for i in byz + side_a:
        w.event("commit", nodes[i], t + 0.15 + rng.random() * 0.03, height, rnd, vals[i], block)
    for i in side_b:
        w.event("commit", nodes[i], t + 0.15 + rng.random() * 0.03, height, rnd, vals[i], other)


ETH = 10**18
FEE = 21_000 * 10**9


def ledger_lines(
    kind: str = "ledger_healthy",
    *,
    blocks: int = 20,
    accounts: int = 4,
    seed: int = 1,
    first_block: int = 1,
) -> Iterator[str]:
    """The lines of a ledger history (each ending with a newline): every account pays the
    next one in each block; fees go half to the block's miner, half are burned."""
    if kind not in LEDGER_KINDS:
        raise ValueError(f"unknown ledger history kind {kind!r}; known: {LEDGER_KINDS}")
    if blocks < 1 or accounts < 2:
        raise ValueError("a history needs at least one block and two accounts")
    rng = random.Random(seed)  # noqa: S311 - reproducible examples, not secrets
    names = [f"0x{rng.getrandbits(160):040x}" for _ in range(accounts)]
    miner = f"0x{rng.getrandbits(160):040x}"
    opening = dict.fromkeys(names, 10 * ETH)
    poor = names[-1]
    if kind == "ledger_overdraft":
        opening[poor] = ETH // 10
    balances = dict(opening)
    balances[miner] = 0
    nonces = dict.fromkeys(names, 0)
    header = {
        "type": "header",
        "format": LEDGER_FORMAT,
        "first_block": first_block,
        "balances": {a: str(v) for a, v in opening.items()},
        "nonces": dict(nonces),
    }
    yield json.dumps(header, separators=(",", ":")) + "\n"
    fault = first_block + blocks // 2
    minted = 0
    for number in range(first_block, first_block + blocks):
        for i, sender in enumerate(names):
            to = names[(i + 1) % accounts]
            value = rng.randrange(1, 100) * 10**15
            if kind == "ledger_overdraft" and number == fault and sender == poor:
                value = ETH
            nonce = nonces[sender]
            if kind == "ledger_nonce_gap" and number == fault and i == 0:
                nonce += 1
            if kind == "ledger_repeated_nonce" and number == fault and i == 0:
                nonce -= 1
            nonces[sender] = nonce + 1
            tip = FEE // 2
            line = {
                "type": "tx",
                "block": number,
                "hash": _hex(rng, 256),
                "from": sender,
                "to": to,
                "value": str(value),
                "nonce": nonce,
                "fee": str(FEE),
                "tip": str(tip),
                "miner": miner,
                "status": 1,
            }
            balances[sender] -= value + FEE
            balances[to] += value
            balances[miner] += tip
            yield json.dumps(line, separators=(",", ":")) + "\n"
        reward = ETH // 100
        minted += reward
        balances[miner] += reward
        yield (
            json.dumps(
                {"type": "reward", "block": number, "to": miner, "value": str(reward)},
                separators=(",", ":"),
            )
            + "\n"
        )
    closing = {a: str(v) for a, v in balances.items()}
    if kind == "ledger_overdraft":
        # What the chain would really show: it never lets a balance below zero.
        closing[poor] = "0"
    yield json.dumps({"type": "closing", "balances": closing}, separators=(",", ":")) + "\n"


def lines(kind: str, *, size: int = 20, participants: int = 4, seed: int = 1) -> Iterator[str]:
    """The lines of a trace of any kind: ``size`` heights (or blocks) and ``participants``
    validators (or accounts)."""
    if kind in LEDGER_KINDS:
        return ledger_lines(kind, blocks=size, accounts=participants, seed=seed)
    return consensus_lines(kind, heights=size, validators=participants, seed=seed)


def write(out: IO[str], kind: str, *, size: int = 20, participants: int = 4, seed: int = 1) -> int:
    """Write a trace to a text file opened for writing; returns the number of lines."""
    count = 0
    batch: list[str] = []
    for line in lines(kind, size=size, participants=participants, seed=seed):
        batch.append(line)
        if len(batch) >= 10_000:
            out.write("".join(batch))
            count += len(batch)
            batch = []
    out.write("".join(batch))
    return count + len(batch)


# The examples shipped in ``examples/``: name -> (kind, size, participants, seed).
EXAMPLES = {
    "healthy.jsonl": ("healthy", 12, 4, 7),
    "view_changes.jsonl": ("view_changes", 12, 4, 7),
    "slow.jsonl": ("slow", 12, 4, 7),
    "equivocation.jsonl": ("equivocation", 12, 4, 7),
    "fork.jsonl": ("fork", 12, 4, 7),
    "no_quorum.jsonl": ("no_quorum", 12, 4, 7),
    "invalid_commit.jsonl": ("invalid_commit", 12, 4, 7),
    "ledger_healthy.jsonl": ("ledger_healthy", 10, 3, 7),
    "ledger_nonce_gap.jsonl": ("ledger_nonce_gap", 10, 3, 7),
    "ledger_repeated_nonce.jsonl": ("ledger_repeated_nonce", 10, 3, 7),
    "ledger_overdraft.jsonl": ("ledger_overdraft", 10, 3, 7),
}


def example_text(name: str) -> str:
    kind, size, participants, seed = EXAMPLES[name]
    return "".join(lines(kind, size=size, participants=participants, seed=seed))
