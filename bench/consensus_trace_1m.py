"""How fast the consensus-trace checker streams a trace, and that its memory does not grow
with the trace's length.

For each size (100,000 and 1,000,000 events by default) it generates a healthy trace
(``assessments.engine.tracegen``, 4 validators, 13 events per height) to a temporary file,
then checks it in a fresh process, twice: once timed (wall clock around
``consensus_trace.check``, with the process's peak RSS), once under ``tracemalloc`` (the
peak of memory the check allocated; tracemalloc slows the run, so that run is not timed).

    .venv/bin/python bench/consensus_trace_1m.py [--events 100000,1000000] [--kind healthy]
        [--validators 4] [--repeat 3]

Run by hand, never by CI. Target: 1,000,000 events in 3 s or less, memory flat in the size.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _child(path: str, mode: str) -> None:
    from assessments.engine.suites import consensus_trace

    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if mode == "time":
        start = time.perf_counter()
        result = consensus_trace.check(path)
        seconds = time.perf_counter() - start
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = {"seconds": seconds, "rss_mb": peak_kb / 1024, "baseline_rss_mb": baseline_kb / 1024}
    else:
        import tracemalloc

        tracemalloc.start()
        result = consensus_trace.check(path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out = {"traced_peak_mb": peak / 2**20}
    out.update({"events": result.metrics["events"], "passed": result.passed})
    print(json.dumps(out))


def _run(path: Path, mode: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(path), "--mode", mode],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", default="100000,1000000")
    parser.add_argument("--kind", default="healthy")
    parser.add_argument("--validators", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="time", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.mode)
        return

    from assessments.engine import tracegen

    per_height = 3 * args.validators + 1
    rows = []
    with tempfile.TemporaryDirectory(prefix="trace-bench-") as tmp:
        for wanted in (int(n) for n in args.events.split(",")):
            path = Path(tmp) / f"trace-{wanted}.jsonl"
            t0 = time.perf_counter()
            with open(path, "w", encoding="utf-8") as out:
                tracegen.write(
                    out, args.kind, size=max(1, wanted // per_height), participants=args.validators
                )
            generated = time.perf_counter() - t0
            timed = [_run(path, "time") for _ in range(args.repeat)]
            traced = _run(path, "trace")
            seconds = sorted(t["seconds"] for t in timed)
            row = {
                "events": timed[0]["events"],
                "bytes": os.path.getsize(path),
                "generate_s": round(generated, 2),
                "check_s_median": round(seconds[len(seconds) // 2], 3),
                "check_s_all": [round(s, 3) for s in seconds],
                "events_per_s": round(timed[0]["events"] / seconds[len(seconds) // 2]),
                "peak_rss_mb": round(max(t["rss_mb"] for t in timed), 1),
                "rss_after_imports_mb": round(timed[0]["baseline_rss_mb"], 1),
                "tracemalloc_peak_mb": round(traced["traced_peak_mb"], 2),
                "passed": timed[0]["passed"],
            }
            rows.append(row)
            path.unlink()
            print(json.dumps(row), flush=True)
    load = os.getloadavg()
    print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores")
    print("| events | file | check (median) | events/s | peak RSS | tracemalloc peak |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        size = f"{r['bytes'] / 2**20:.0f} MiB"
        print(
            f"| {r['events']:,} | {size} | {r['check_s_median']:.2f} s | {r['events_per_s']:,} "
            f"| {r['peak_rss_mb']:.0f} MB | {r['tracemalloc_peak_mb']:.1f} MB |"
        )


if __name__ == "__main__":
    main()
