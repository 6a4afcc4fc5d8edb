from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import notifications
from .models import Condition, ConditionStatus, State

# Conditions bind a firm only while its case is admitted and not yet out.
LIVE_STATES = [
    State.ADMITTED,
    State.ADMITTED_WITH_CONDITIONS,
    State.IN_SANDBOX,
    State.EXIT_REVIEW,
]


@shared_task(name="applications.tasks.remind_due_conditions")
def remind_due_conditions():
    """Email the firm and the case officer once about every open condition that
    falls due within ``CONDITION_REMINDER_DAYS``. Idempotent: a reminded
    condition is not reminded again."""
    horizon = timezone.localdate() + timezone.timedelta(days=settings.CONDITION_REMINDER_DAYS)
    sent = 0
    due_ids = Condition.objects.filter(
        status=ConditionStatus.OPEN,
        reminded_at__isnull=True,
        due_date__lte=horizon,
        application__state__in=LIVE_STATES,
    ).values_list("pk", flat=True)
    for condition_id in list(due_ids):
        with transaction.atomic():
            claimed = Condition.objects.filter(pk=condition_id, reminded_at__isnull=True).update(
                reminded_at=timezone.now()
            )
            if claimed:
                transaction.on_commit(lambda cid=condition_id: notifications.condition_due(cid))
                sent += 1
    return sent


@shared_task(name="applications.tasks.ping")
def ping(marker):
    """Write a marker into the audit trail: proves a worker consumes the broker."""
    from sandbox_portal.audit.services import record

    record(actor=None, action="worker.ping", after={"marker": str(marker)[:100]})
    return marker
