"""The demo's signed reports: every admitted demo case gets one, rendered on the spot."""

from applications.models import State
from assessments.evaluations.models import Evaluation, EvaluationStatus

from . import services
from .models import ReportStatus

ADMITTED_STATES = [
    State.ADMITTED,
    State.ADMITTED_WITH_CONDITIONS,
    State.IN_SANDBOX,
    State.EXIT_REVIEW,
    State.EXITED,
]


def render_demo_reports(actor):
    """Render (synchronously, without Celery) a report of the latest issued evaluation of
    each admitted case that has no ready report; returns a line per report made."""
    lines = []
    latest = {}
    issued = Evaluation.objects.filter(
        status=EvaluationStatus.ISSUED, application__state__in=ADMITTED_STATES
    ).order_by("application_id", "-version")
    for evaluation in issued:
        latest.setdefault(evaluation.application_id, evaluation)
    for evaluation in latest.values():
        if evaluation.reports.filter(status=ReportStatus.READY).exists():
            continue
        report = services.request_report(evaluation, actor=actor, enqueue=False)
        report = services.render_report(report.pk, actor=actor)
        lines.append(
            f"report {report.number} of {evaluation.application.reference} ({report.status})"
        )
    return lines
