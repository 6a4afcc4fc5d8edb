"""The engine-queue task that checks an uploaded trace, and the sweep that sends again an
upload whose message was lost. Both take ids only; the check is idempotent
(``services.check_upload``)."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from . import services

logger = logging.getLogger(__name__)


def enqueue(upload_id):
    """Send the check to the engine queue (``ENGINE_QUEUE``)."""
    check_trace_upload.apply_async(args=[upload_id], queue=settings.ENGINE_QUEUE)


@shared_task(
    bind=True,
    name="assessments.traces.tasks.check_trace_upload",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.ENGINE_SOFT_TIME_LIMIT,
    time_limit=settings.ENGINE_HARD_TIME_LIMIT,
)
def check_trace_upload(self, upload_id):
    """Check the uploaded trace ``upload_id`` and record its test run."""
    try:
        outcome = services.check_upload(upload_id, task_id=self.request.id or "")
    except SoftTimeLimitExceeded:
        limit = settings.ENGINE_SOFT_TIME_LIMIT
        outcome = services.give_up(upload_id, f"the check took longer than {limit} s")
    logger.info("trace upload %s: %s", upload_id, outcome)
    return outcome


@shared_task(name="assessments.traces.tasks.resend_stale_uploads")
def resend_stale_uploads():
    """Send again every upload still waiting long after it was queued (runs on beat)."""
    sent = []
    for upload_id in list(services.stale_uploads().values_list("pk", flat=True)):
        if services.resend(upload_id):
            sent.append(upload_id)
            logger.warning("trace upload %s: still unchecked; sent again", upload_id)
    return sent
