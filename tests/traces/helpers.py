"""Building traces and histories line by line for the tests."""

import json

from assessments.engine import tracegen

V = ["0xA1", "0xB2", "0xC3", "0xD4"]  # n = 4, f = 1, quorum = 3


def consensus_header(validators=V, **extra):
    return {
        "type": "header",
        "format": "sandbox-consensus-trace/1",
        "validators": list(validators),
        "max_faulty": None,
        **extra,
    }


def jsonl(rows):
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows).encode()


def example(kind, size=12, participants=4, seed=3):
    return "".join(tracegen.lines(kind, size=size, participants=participants, seed=seed)).encode()


def failed_checks(result):
    return {c.name for c in result.checks if c.passed is False}


def ledger_header(balances, nonces=None, **extra):
    head = {"type": "header", "format": "sandbox-ledger-history/1", "balances": balances}
    if nonces is not None:
        head["nonces"] = nonces
    head.update(extra)
    return head


def tx(block, sender, to, value, nonce, fee=21000, status=1, **extra):
    return {
        "type": "tx",
        "block": block,
        "from": sender,
        "to": to,
        "value": str(value),
        "nonce": nonce,
        "fee": str(fee),
        "status": status,
        **extra,
    }
