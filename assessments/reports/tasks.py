"""The Celery side of reports: rendering one on the ``reports`` queue.

``render_report`` takes ids only (the report and the acting user), acknowledges late (a
worker killed mid-render leaves the message to be delivered again) and is idempotent: the
service claims the report atomically, so a ready report is never rendered twice and a
re-delivered one replaces its file rather than adding a second.
"""

import logging

from celery import shared_task
from django.conf import settings

from sandbox_portal.accounts.models import User

from . import services

logger = logging.getLogger(__name__)


def enqueue(report_id, actor_id):
    """Send the report to the reports queue (``REPORTS_QUEUE``)."""
    render_report.apply_async(args=[report_id, actor_id], queue=settings.REPORTS_QUEUE)


@shared_task(
    name="assessments.reports.tasks.render_report",
    acks_late=True,
    reject_on_worker_lost=True,
)
def render_report(report_id, actor_id):
    """Render, sign and store report ``report_id`` on behalf of user ``actor_id``."""
    actor = User.objects.filter(pk=actor_id).first()
    report = services.render_report(report_id, actor=actor)
    status = report.status if report is not None else "missing"
    logger.info("report %s: %s", report_id, status)
    return status


@shared_task(name="assessments.reports.tasks.resend_stale_reports")
def resend_stale_reports():
    """Send again every report whose task message was lost (beat, every minute)."""
    outcomes = {}
    for report_id in list(services.stale_reports().values_list("pk", flat=True)):
        outcome = services.resend_stale(report_id)
        if outcome:
            outcomes[report_id] = outcome
            logger.warning("report %s: its task message was lost; %s", report_id, outcome)
    return outcomes
