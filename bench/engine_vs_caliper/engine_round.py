"""One round of the engine's clearing suite, with a per-transaction send log.

Run as its own process, so its CPU time is the generator's alone::

    python engine_round.py URL FAUCET_KEY OUT.json '{"rates": [100], "step_seconds": 30}'

It calls the suite's public ``clearing.run`` unchanged, with workload "call" (the
``CallTarget.clear(uint256)`` call). The suite reports only per-step summaries, so this
adapter wraps three of the suite's module functions to observe, without changing, what
they do: ``_prepare`` and ``_drive`` (CPU time spent signing and in the timed phase, from
``time.process_time``) and ``_summarise`` (keeps the step, whose transactions carry their
hash, scheduled send time, actual send time and the time the suite saw their block, all on
the event loop's clock, which is ``time.monotonic``, the same system-wide clock the
observer stamps).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from assessments.engine import Target  # noqa: E402
from assessments.engine.suites import clearing  # noqa: E402


def main(url: str, faucet_key: str, out: str, parameters: dict) -> None:
    steps: list[dict] = []
    cpu = {"prepare_s": 0.0, "drive_s": 0.0}
    prepare, drive, summarise = clearing._prepare, clearing._drive, clearing._summarise

    def timed_prepare(*args, **kwargs):
        before = time.process_time()
        try:
            return prepare(*args, **kwargs)
        finally:
            cpu["prepare_s"] += time.process_time() - before

    async def timed_drive(*args, **kwargs):
        before = time.process_time()
        try:
            return await drive(*args, **kwargs)
        finally:
            cpu["drive_s"] += time.process_time() - before

    def kept_summarise(step, p):
        summary = summarise(step, p)
        steps.append(
            {
                "rate": step.rate,
                "txs": [
                    {
                        "hash": t.signed.hash,
                        "scheduled": t.scheduled,
                        "sent": t.sent_at or None,
                        "seen": t.seen_at or None,
                        "state": t.state,
                    }
                    for t in step.txs
                ],
            }
        )
        return summary

    clearing._prepare, clearing._drive, clearing._summarise = (
        timed_prepare,
        timed_drive,
        kept_summarise,
    )
    target = Target(endpoints=[url], allowed=[url], faucet_key=faucet_key, timeout=30.0)
    wall0, mono0 = time.time(), time.monotonic()
    result = clearing.run(target, {"workload": "call", **parameters})
    Path(out).write_text(
        json.dumps(
            {
                "clock": {"wall": wall0, "mono": mono0},
                "cpu": {**cpu, "process_s": time.process_time()},
                "result": result.to_dict(),
                "steps": steps,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))
