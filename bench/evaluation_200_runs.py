"""Benchmark: one evaluation over 200 finished test runs; prints its time and peak memory.

Run by hand, never by CI: ``.venv/bin/python bench/evaluation_200_runs.py [--runs 200]``.
It migrates a throwaway SQLite database under a temporary VAR_DIR (the working database is
untouched), loads the demo, gives one case ``--runs`` finished test runs holding the six
suites' results in the engine's shape (with their chart series and logs, as stored), then
times ``create_evaluation`` over all of them and reports the peak Python memory it
allocated (tracemalloc). Target: 15 s or less, memory bounded (it does not grow with the
number of runs: results are streamed and only the needed values are read).
"""

import argparse
import datetime
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _padded(result, points):
    """A suite result with chart series and log lines the size real runs store."""
    result = dict(result)
    result["charts"] = {
        **result.get("charts", {}),
        "series": [[n, round(0.5 + (n % 17) / 10, 3)] for n in range(points)],
    }
    result["logs"] = [f"{result['suite']}: step {n} done" for n in range(points // 10)]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--points", type=int, default=2000, help="Chart points per suite.")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="evaluation-bench-")
    os.environ["VAR_DIR"] = scratch
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox_portal.settings")

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from applications.models import Application, State
    from assessments.evaluations import services
    from assessments.models import SuiteRun
    from sandbox_portal.accounts.models import User
    from tests.evaluations import samples

    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    officer = User.objects.get(username="olivia")
    app = (
        Application.objects.exclude(state__in=[State.DRAFT, State.WITHDRAWN])
        .filter(target_level__gte=2)
        .first()
    )
    suites = [
        samples.block(),
        samples.crypto(),
        samples.consensus(),
        samples.payment(),
        samples.clearing(),
        {
            "suite": "monitoring",
            "passed": True,
            "metrics": {"samples": [], "alerts": []},
            "checks": [
                {"name": rule, "passed": True, "evidence": {"alerts": []}, "description": ""}
                for rule in ("node_down", "latency_over_bound", "fork")
            ],
        },
    ]
    suites = [_padded(s, args.points) for s in suites]
    started = time.perf_counter()
    now = timezone.now()
    run_ids = []
    for n in range(args.runs):
        run = samples.finished_run(
            app,
            officer,
            suites,
            finished_at=now - datetime.timedelta(minutes=args.runs - n),
        )
        run_ids.append(run.pk)
    stored = SuiteRun.objects.filter(test_run_id__in=run_ids).count()
    print(
        f"Set-up: {args.runs} finished runs, {stored} suite results "
        f"({args.points} chart points each) in {time.perf_counter() - started:.1f} s"
    )

    tracemalloc.start()
    started = time.perf_counter()
    evaluation = services.create_evaluation(app, actor=officer, test_run_ids=run_ids)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    started = time.perf_counter()
    issued = services.issue_evaluation(evaluation, actor=officer)
    issue_elapsed = time.perf_counter() - started
    _, issue_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"Case {app.reference}, evaluation version {evaluation.version}")
    print(f"create_evaluation over {args.runs} runs: {elapsed:.2f} s (target <= 15 s)")
    print(f"Peak memory allocated while evaluating: {peak / 1_000_000:.1f} MB")
    print(f"issue_evaluation: {issue_elapsed:.2f} s, peak memory {issue_peak / 1_000_000:.1f} MB")
    print(
        f"Overall score {evaluation.overall_score}, {evaluation.recommendation}; "
        f"{evaluation.results['counts']['not_assessed']} indicators not assessed; "
        f"canonical JSON {len(issued.canonical_json.encode()) / 1000:.1f} kB"
    )
    if elapsed > 15:
        sys.exit("Slower than the 15 s target.")


if __name__ == "__main__":
    main()
