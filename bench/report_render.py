"""Benchmark: render the demo's access-evaluation report and print how long it took.

Run by hand, never by CI: ``.venv/bin/python bench/report_render.py [--runs N]``. It
loads the demo into a throwaway SQLite database under a temporary VAR_DIR (so the working
database is untouched), renders the report of the admitted case's issued evaluation
``--runs`` times without Celery, and prints each time and the median. It then does the same
for a fuller report: a new evaluation of that case over a finished test run with block,
payment and clearing results (the same realistic results the report tests use), so the
evidence chapter and its charts are timed too. Target: 5 s or less.
"""

import argparse
import atexit
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", help="Write the last PDF to this path.")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="report-bench-")
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    os.environ["VAR_DIR"] = scratch
    for name in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "REPORT_SIGNING_KEY_FILE"):
        os.environ.pop(name, None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox_portal.settings")

    import django

    django.setup()
    from django.core.management import call_command

    from assessments.evaluations.models import Evaluation, EvaluationStatus
    from assessments.reports import services
    from assessments.reports.demo import ADMITTED_STATES
    from assessments.reports.models import AccessEvaluationReport

    call_command("migrate", verbosity=0)
    call_command("load_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    evaluation = (
        Evaluation.objects.filter(
            status=EvaluationStatus.ISSUED, application__state__in=ADMITTED_STATES
        )
        .order_by("-issued_at")
        .first()
    )
    if evaluation is None:
        sys.exit("The demo has no issued evaluation of an admitted case.")
    report = AccessEvaluationReport.objects.filter(evaluation=evaluation).first()
    pdf = _time(f"demo report of {evaluation.application.reference}", report, args.runs)

    from assessments.evaluations.services import issue_evaluation_for
    from tests.reports.helpers import finished_run

    officer = report.requested_by
    run = finished_run(evaluation.application, officer)
    fuller = issue_evaluation_for(evaluation.application, officer, test_run_ids=[run.pk])
    fuller_report = services.request_report(fuller, actor=officer, enqueue=False)
    _time("with block, payment and clearing evidence", fuller_report, args.runs)
    if args.keep:
        Path(args.keep).write_bytes(pdf)
        print(f"demo report written to {args.keep}")


def _time(label, report, runs):
    from pypdf import PdfReader

    from assessments.reports import services

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        pdf, _signature, _fingerprint = services.build_pdf(report)
        times.append(time.perf_counter() - started)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(
        f"{label}: evaluation v{report.evaluation.version}, {len(pdf) / 1024:.0f} KiB, "
        f"{pages} pages"
    )
    print("  runs: " + ", ".join(f"{t:.2f} s" for t in times))
    print(f"  median: {statistics.median(times):.2f} s (target <= 5 s)")
    return pdf


if __name__ == "__main__":
    main()
