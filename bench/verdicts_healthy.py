"""Benchmark: false alarms on healthy chains. Counts the checks that fail, are inconclusive or
are not judged over N consecutive full runs of every suite, with the plan's defaults.

Run by hand, never by CI:

    .venv/bin/python bench/verdicts_healthy.py [--runs 20] [--impl hardhat,ganache] [--json F]

For each implementation it starts a fresh node with one-second blocks on a free 127.0.0.1
port (Hardhat as the reference node runs: interval mining, no automine; ganache 7.9.2 from
node_modules), then runs every suite of the test plan (``assessments.plans.SUITE_ORDER``)
with ``default_parameters()``, ``--runs`` times in a row, against that node (the consensus
suite compares it with itself through a pass-through proxy, ``tests/engine/faultproxy.py``).
It prints one line per run with the counts and the machine's load average when the run
ended, then per implementation the totals, every failed check with its run, name and
message, and every suite that raised instead of returning a result. A failed check of the
engine's own instrument (``instrument``) is counted apart: it makes a run invalid, not failed.
Exit status 1 when any check of the node failed or a suite raised.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

IMPLEMENTATIONS = ("hardhat", "ganache")
OUTCOMES = ("passed", "failed", "inconclusive", "not_judged")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _start(name: str, tmp: Path):
    import pytest

    from tests.engine.conftest import start_node
    from tests.engine.nodes import NodeStartFailed, start_ganache

    try:
        if name == "hardhat":
            return start_node(tmp, chain_id=31337, automine=False)
        return start_ganache(tmp)
    except (NodeStartFailed, pytest.fail.Exception) as exc:
        raise SystemExit(f"{name}: could not start the node: {exc}") from None


def _one_run(node_url: str, peer_url: str) -> list[dict]:
    """Every suite once; per suite its outcome, its checks and any error it raised."""
    from assessments.engine.errors import EngineError
    from assessments.engine.suites import SUITES
    from assessments.plans import SUITE_ORDER, default_parameters
    from tests.engine.nodes import suite_target

    parameters = default_parameters()
    suites = []
    for suite in SUITE_ORDER:
        started = time.monotonic()
        entry = {"suite": suite, "checks": [], "outcome": None, "error": None}
        try:
            result = SUITES[suite](suite_target(suite, node_url, peer_url), parameters[suite])
        except EngineError as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
        else:
            entry["outcome"] = result.outcome
            entry["checks"] = [c.to_dict() for c in result.checks]
        entry["seconds"] = round(time.monotonic() - started, 1)
        suites.append(entry)
    return suites


def _count(suites: list[dict]) -> Counter:
    counts: Counter = Counter()
    for entry in suites:
        counts["errors"] += entry["error"] is not None
        for check in entry["checks"]:
            if check["outcome"] == "failed" and check.get("instrument"):
                counts["instrument_failed"] += 1
            else:
                counts[check["outcome"]] += 1
    return counts


def _line(counts: Counter) -> str:
    return (
        f"{counts['failed']} failed, {counts['inconclusive']} inconclusive, "
        f"{counts['not_judged']} not judged, {counts['passed']} passed, "
        f"{counts['instrument_failed']} instrument failed, {counts['errors']} raised"
    )


def bench(name: str, runs: int) -> dict:
    from tests.engine.conftest import stop_node
    from tests.engine.faultproxy import FaultProxy

    with tempfile.TemporaryDirectory(prefix=f"verdicts-{name}-") as tmp:
        node = _start(name, Path(tmp))
        proxy = FaultProxy(node.url)
        version = node.rpc("web3_clientVersion")
        print(f"{name}: {version}, chain id {node.chain_id}, 1 s blocks, {node.url}", flush=True)
        history = []
        try:
            for i in range(1, runs + 1):
                started = time.monotonic()
                suites = _one_run(node.url, proxy.url)
                counts = _count(suites)
                load = _load()
                took = time.monotonic() - started
                history.append({"run": i, "suites": suites, "load_average": load})
                print(
                    f"  run {i}/{runs}: {_line(counts)} ({took:.0f} s; load average {load})",
                    flush=True,
                )
        finally:
            proxy.close()
            stop_node(node)
    return {"implementation": name, "client_version": version, "runs": history}


def report(outcome: dict) -> bool:
    """Print the totals of one implementation; True when nothing of the node failed."""
    name, history = outcome["implementation"], outcome["runs"]
    total: Counter = Counter()
    per_suite: dict[str, Counter] = {}
    for run in history:
        for entry in run["suites"]:
            counts = _count([entry])
            total.update(counts)
            per_suite.setdefault(entry["suite"], Counter()).update(counts)
    loads = [float(run["load_average"].split()[0]) for run in history]
    load = f"{min(loads):.2f}-{max(loads):.2f}" if loads else "-"
    print(f"\n{name}: {len(history)} full runs: {_line(total)} (1-min load average {load})")
    print(f"  {'suite':<11} failed  inconclusive  not judged  instrument failed  raised")
    for suite, c in per_suite.items():
        print(
            f"  {suite:<11} {c['failed']:>6}  {c['inconclusive']:>12}  {c['not_judged']:>10}"
            f"  {c['instrument_failed']:>17}  {c['errors']:>6}"
        )
    for run in history:
        for entry in run["suites"]:
            if entry["error"]:
                print(f"  run {run['run']} {entry['suite']} raised: {entry['error']}")
            for check in entry["checks"]:
                if check["outcome"] == "failed":
                    kind = "instrument failed" if check.get("instrument") else "FAILED"
                    print(
                        f"  run {run['run']} {entry['suite']}.{check['name']} {kind}"
                        f" (load average {run['load_average']}): {check.get('message', '')}"
                    )
    return total["failed"] == 0 and total["errors"] == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="Full runs per implementation.")
    parser.add_argument(
        "--impl",
        default=",".join(IMPLEMENTATIONS),
        help="Comma-separated implementations (hardhat, ganache).",
    )
    parser.add_argument("--json", type=Path, help="Also write every run's checks here.")
    args = parser.parse_args()
    chosen = [i.strip() for i in args.impl.split(",") if i.strip()]
    unknown = sorted(set(chosen) - set(IMPLEMENTATIONS))
    if unknown or not chosen:
        parser.error(f"--impl takes {', '.join(IMPLEMENTATIONS)}, not {', '.join(unknown)}")
    if not 1 <= args.runs <= 1000:
        parser.error("--runs must be between 1 and 1000")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox_portal.settings")
    import django

    django.setup()  # the plan's defaults live beside the portal's models

    print(f"load average at the start: {_load()}")
    outcomes = [bench(name, args.runs) for name in chosen]
    clean = [report(o) for o in outcomes]
    if args.json:
        args.json.write_text(json.dumps(outcomes, indent=1))
        print(f"\nevery run's checks: {args.json}")
    return 0 if all(clean) else 1


if __name__ == "__main__":
    sys.exit(main())
