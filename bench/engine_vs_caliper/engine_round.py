"""One round of the engine's clearing suite, with its per-transaction log.

Run as its own process, so its CPU time is the generator's alone::

    python engine_round.py URL FAUCET_KEY OUT.json '{"rates": [100], "step_seconds": 30}'

It calls the suite's public ``clearing.run`` unchanged, with workload "call" (the
``CallTarget.clear(uint256)`` call) and ``transaction_log`` on, so the result itself
carries each transaction's hash, scheduled send time, actual send time and the time the
suite saw its block (``charts["transactions"]``, on ``time.monotonic``, the same
system-wide clock the observer stamps) and each step's generator CPU (signing, timed
phase). OUT holds the result, the process's own CPU time, and the wall and monotonic
clocks read together at start.
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
    # The benchmark's node runs on this machine, which the guard refuses unless permitted.
    target = Target(
        endpoints=[url],
        allowed=[url],
        faucet_key=faucet_key,
        timeout=30.0,
        allowed_networks=["127.0.0.0/8"],
    )
    wall0, mono0 = time.time(), time.monotonic()
    result = clearing.run(target, {"workload": "call", "transaction_log": True, **parameters})
    Path(out).write_text(
        json.dumps(
            {
                "clock": {"wall": wall0, "mono": mono0},
                "process_cpu_s": time.process_time(),
                "result": result.to_dict(),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))
