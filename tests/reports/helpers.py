"""Realistic suite results and an issued evaluation built through the services."""

import io

from django.utils import timezone
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from assessments.evaluations import services as evaluation_services
from assessments.models import RunStatus, SuiteRun, TestRun


def _check(name, passed, description="", **evidence):
    return {"name": name, "passed": passed, "description": description, "evidence": evidence}


def block_result():
    intervals = [[h, 1.0 + (0.2 if h % 5 == 0 else 0.0)] for h in range(101, 161)]
    return {
        "suite": "block",
        "passed": True,
        "metrics": {
            "blocks": 60,
            "block_interval_s": {"mean": 1.04, "p50": 1.0, "p99": 1.2, "max": 1.2},
            "empty_block_ratio": 0.15,
        },
        "checks": [
            _check("parent_hash_linkage", True, "Every block names its parent.", blocks=60),
            _check("monotonic_heights", True, "Heights increase by one.", first=101, last=160),
            _check("monotonic_timestamps", True, "Timestamps never go back."),
            _check("no_stall", True, "No gap longer than 10 s.", longest_gap_s=1.2),
        ],
        "charts": {
            "block_interval_s": intervals,
            "transactions_per_block": [[h, (h * 7) % 13] for h in range(101, 161)],
        },
    }


def payment_result():
    return {
        "suite": "payment",
        "passed": True,
        "metrics": {
            "transfers": 200,
            "receipt_latency_s": {"count": 200, "p50": 0.41, "p90": 0.62, "p99": 0.83, "max": 0.97},
            "finality_latency_s": {"count": 200, "p50": 1.4, "p90": 1.7, "p99": 1.95, "max": 2.1},
        },
        "checks": [
            _check("receipt_latency", True, "p99 submit-to-receipt within 1 s.", p99_s=0.83),
            _check("value_conservation", True, "Total value unchanged.", accounts=20),
            _check("double_spend", True, "At most one of two conflicting transfers.", included=1),
            _check("rollback", True, "A failing payment leaves balances unchanged."),
        ],
        "charts": {},
    }


def clearing_result():
    steps = [(10, 10.0, 10.0, 10.0), (20, 20.0, 19.8, 19.6), (40, 40.0, 37.5, 35.2)]
    return {
        "suite": "clearing",
        "passed": True,
        "metrics": {"saturation": {"max_sustained_confirmed_tps": 35.2, "at_offered_tps": 40}},
        "checks": [
            _check("all_confirmed", True, "Every accepted transaction confirmed."),
            _check("sustained_throughput", True, "At least 20 tx/s sustained.", tps=35.2),
        ],
        "charts": {
            "rates": [list(s) for s in steps],
            "latency_s": [[10, 0.5, 0.9, 1.1], [20, 0.6, 1.1, 1.4], [40, 0.9, 1.9, 2.4]],
        },
    }


RESULTS = {"block": block_result, "payment": payment_result, "clearing": clearing_result}


def finished_run(app, actor, suites=("block", "payment", "clearing")):
    """A succeeded test run of ``suites`` with realistic results."""
    now = timezone.now()
    run = TestRun.objects.create(
        application=app,
        suites=list(suites),
        requested_by=actor,
        status=RunStatus.SUCCEEDED,
        progress=100,
        targets=[{"id": 1, "label": "validator-1", "endpoint": "http://127.0.0.1:8545"}],
        started_at=now,
        finished_at=now,
    )
    for suite in suites:
        SuiteRun.objects.create(
            test_run=run,
            suite=suite,
            status=RunStatus.SUCCEEDED,
            passed=True,
            result=RESULTS[suite](),
            started_at=now,
            finished_at=now,
        )
    return run


def issued_evaluation(app, officer, runs=()):
    evaluation = evaluation_services.create_evaluation(
        app, actor=officer, test_run_ids=[r.pk for r in runs]
    )
    return evaluation_services.issue_evaluation(evaluation, actor=officer)


def replace_attachment(pdf_bytes, name, transform):
    """The PDF rebuilt with pypdf, the embedded file ``name`` replaced by
    ``transform(old_bytes)``; every other byte of the document is carried over."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes)))
    names = writer.root_object["/Names"]["/EmbeddedFiles"]["/Names"]
    found = False
    for i in range(0, len(names), 2):
        if str(names[i]) == name:
            spec = names[i + 1].get_object()
            stream = spec["/EF"]["/F"].get_object()
            stream.set_data(transform(stream.get_data()))
            for key in ("/Params",):
                if key in stream:
                    params = stream[key]
                    if "/CheckSum" in params:
                        del params[NameObject("/CheckSum")]
            found = True
    assert found, f"no attachment {name}"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
