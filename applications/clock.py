"""The regulator's service-level clock: working days since submission,
with the time a request for information was open excluded."""

from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from .models.choices import CLOCK_STATES_ENDED


def _working_days(start: date, end: date) -> set[date]:
    days = set()
    current = start
    while current < end:
        if current.weekday() < 5:
            days.add(current)
        current += timedelta(days=1)
    return days


def _local_date(moment):
    return timezone.localtime(moment).date()


class Clock:
    def __init__(self, elapsed, paused, running, target):
        self.elapsed = elapsed
        self.paused = paused
        self.running = running
        self.target = target

    @property
    def remaining(self):
        # A case not yet submitted has no clock: nothing remains and nothing is late.
        if self.elapsed is None:
            return None
        return self.target - self.elapsed

    @property
    def overdue(self):
        return self.elapsed is not None and self.elapsed > self.target

    @property
    def label(self):
        if self.elapsed is None:
            return "not started"
        state = "paused (RFI open)" if self.paused else ("running" if self.running else "stopped")
        return f"{self.elapsed} of {self.target} working days, {state}"


def service_clock(application, now=None) -> Clock:
    """Compute the clock from the case's own dates and its RFIs.

    Uses ``application.rfis.all()`` so a prefetched list costs no query.
    """
    target = settings.SLA_TARGET_WORKING_DAYS
    if application.submitted_at is None:
        return Clock(None, False, False, target)
    now = now or timezone.now()
    ended = application.state in CLOCK_STATES_ENDED
    end_moment = (application.decided_at or application.updated_at) if ended else now
    start = _local_date(application.submitted_at)
    end = _local_date(end_moment)
    counted = _working_days(start, end)
    paused = False
    for rfi in application.rfis.all():
        rfi_end = rfi.answered_at or now
        if rfi.answered_at is None:
            paused = True
        counted -= _working_days(_local_date(rfi.raised_at), _local_date(rfi_end))
    return Clock(len(counted), paused and not ended, not ended and not paused, target)
