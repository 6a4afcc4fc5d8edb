"""The demo ends with its admitted cases evaluated and their signed reports ready."""

from io import StringIO

import pytest
from django.core.management import call_command

from applications.models import State
from assessments.reports import services
from assessments.reports.models import AccessEvaluationReport, ReportStatus

pytestmark = pytest.mark.django_db


def test_the_demo_admitted_case_has_a_ready_report_that_verifies():
    out = StringIO()
    call_command("load_demo", stdout=out)
    reports = AccessEvaluationReport.objects.select_related("evaluation__application")
    ready = [r for r in reports if r.status == ReportStatus.READY]
    assert ready, out.getvalue()
    admitted = {State.ADMITTED_WITH_CONDITIONS, State.ADMITTED, State.IN_SANDBOX}
    assert any(r.evaluation.application.state in admitted for r in ready)
    report = ready[0]
    with report.pdf.open("rb") as handle:
        verdict = services.verify_report(handle.read())
    assert verdict.authentic, verdict.reason
    assert verdict.evaluation["id"] == report.evaluation_id

    call_command("load_demo", stdout=StringIO())
    assert AccessEvaluationReport.objects.count() == len(reports)
