"""The report prints the four outcomes: checks, suites and runs passed, failed,
inconclusive or not judged, an invalid run with its reason, inconclusive indicators, and
the re-test a mandatory one asks for; old results without outcomes print as before."""

import copy
import datetime
import io
import json

import pytest
from pypdf import PdfReader

from applications.models import Zone, ZoneRegistration
from assessments import outcomes
from assessments.models import RunStatus, SuiteRun
from assessments.reports import document, services
from assessments.reports.models import AccessEvaluationReport
from tests.conftest import advance

from .helpers import finished_run, issued_evaluation, payment_result

pytestmark = pytest.mark.django_db

LAG = "load generator lag p99 84 ms is over its 50 ms budget"
UNDECIDED = "double spend probe inconclusive: node-1 answered neither receipt within 30 s"


def _judge(result, name, outcome, message="", instrument=False):
    for check in result["checks"]:
        if check["name"] == name:
            break
    else:
        check = {"name": name, "evidence": {}, "description": ""}
        result["checks"].append(check)
    check.update(
        outcome=outcome,
        passed=outcomes.passed_of(outcome),
        message=message,
        instrument=instrument,
    )


def _outcome_run(app, actor):
    """A run whose payment suite has an inconclusive mandatory check, a not judged one and
    a failed instrument check: the suite and the run are invalid."""
    run = finished_run(app, actor, suites=("block",))
    result = copy.deepcopy(payment_result())
    _judge(result, "double_spend", "inconclusive", UNDECIDED)
    _judge(result, "rollback", "not_judged", "no failing payment could be sent")
    _judge(result, "submit_schedule", "failed", LAG, instrument=True)
    result.update(outcome="invalid", invalid_reason=LAG, passed=None)
    SuiteRun.objects.create(
        test_run=run,
        suite="payment",
        status=RunStatus.SUCCEEDED,
        outcome="invalid",
        invalid_reason=LAG,
        result=result,
    )
    run.suites = ["block", "payment"]
    run.outcome, run.invalid_reason = "invalid", f"payment: {LAG}"
    run.save(update_fields=["suites", "outcome", "invalid_reason"])
    return run


def _text(pdf):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _register_in_a_zone(people):
    zone = Zone.objects.create(name="Harbour free-trade zone", kind="free_trade")
    ZoneRegistration.objects.create(
        firm=people.firm_a,
        zone=zone,
        registered_address="1 Quay Street",
        registration_number="FTZ-1",
        registered_on=datetime.date(2026, 1, 5),
    )


def test_the_report_prints_every_outcome_and_the_invalid_runs_reason(people, submitted_a):
    _register_in_a_zone(people)  # so no failed mandatory indicator rejects the case
    app = advance(submitted_a, people, "evaluation")
    # Stored before outcomes: no "outcome" key. Its payment suite would be a valid reading
    # that an invalid run's never displaces, so it has none.
    old = finished_run(app, people.olivia, suites=("block", "clearing"))
    invalid = _outcome_run(app, people.olivia)
    evaluation = issued_evaluation(app, people.olivia, [old, invalid])
    report = AccessEvaluationReport.objects.create(
        evaluation=evaluation, requested_by=people.olivia
    )

    context = document.context(report)
    runs = {item["run"].pk: item for item in context["runs"]}
    assert runs[old.pk]["outcome"] == "passed"
    assert runs[invalid.pk]["outcome"] == "invalid"
    assert runs[invalid.pk]["invalid_reason"] == f"payment: {LAG}"

    assert evaluation.recommendation == "retest", evaluation.results["reasons"]
    pdf, _, _ = services.build_pdf(report)
    text = " ".join(_text(pdf).split())
    assert f"Test run {invalid.pk} invalid" in text
    assert "Invalid run: the engine’s own instrument misbehaved" in text
    assert LAG in text
    assert UNDECIDED in text
    assert "inconclusive" in text and "not judged" in text and "passed" in text
    assert "Inconclusive" in text  # the indicator of an invalid run's reading
    assert "Re-test before admission" in text  # the recommendation
    assert "Only “failed” counts against the firm" in text
    assert "(our instrument)" in text

    embedded = json.loads(evaluation.canonical_json)
    summaries = {r["id"]: r for r in embedded["test_runs"]}
    assert summaries[invalid.pk]["outcome"] == "invalid"
    assert summaries[old.pk]["outcome"] == "passed" and summaries[old.pk]["passed"] is True
