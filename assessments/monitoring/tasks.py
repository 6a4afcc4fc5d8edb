"""The Celery side of monitoring: the beat task that fans out one probe per monitored case,
the probe of one case, and the rollup of samples.

Tasks take ids only. ``probe_case`` is idempotent: the service claims the case for the
tick it was sent for, so a re-delivered message, or one arriving while the previous probe
of the case still runs, probes nothing.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import retention, services

logger = logging.getLogger(__name__)


@shared_task(name="assessments.monitoring.tasks.probe_monitored_cases")
def probe_monitored_cases():
    """Beat, every ``MONITORING_PROBE_INTERVAL_S``: one probe task per monitored case."""
    tick = timezone.now().isoformat()
    expires = max(1.0, settings.MONITORING_PROBE_INTERVAL_S * 2)
    case_ids = list(services.monitored_cases().values_list("pk", flat=True))
    for case_id in case_ids:
        probe_case.apply_async(args=[case_id, tick], expires=expires)
    services.clear_unmonitored()
    return len(case_ids)


@shared_task(
    name="assessments.monitoring.tasks.probe_case",
    soft_time_limit=300,
    time_limit=330,
)
def probe_case(application_id, tick=None):
    """Probe case ``application_id`` once for the beat tick ``tick`` (ISO 8601)."""
    outcome = services.probe_case(application_id, tick=parse_datetime(tick) if tick else None)
    logger.debug("monitoring probe of case %s: %s", application_id, outcome)
    return outcome


@shared_task(name="assessments.monitoring.tasks.roll_up_samples")
def roll_up_samples():
    """Beat, every five minutes: per-minute and per-hour aggregates, then retention."""
    return retention.roll_up()
