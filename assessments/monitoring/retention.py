"""Downsampling and retention of probe samples (the storage bound is in ``models``).

``roll_up(now)`` runs on Celery beat every five minutes. For every (case, node) it folds
the complete minutes of raw samples after its last per-minute row into per-minute rows,
and the complete hours of per-minute rows after its last per-hour row into per-hour rows;
then it deletes raw samples older than ``MONITORING_RAW_HOURS`` and per-minute rows older
than ``MONITORING_MINUTE_DAYS``, but never anything not yet rolled up. A minute is rolled
up only once it ended ``GRACE`` ago, so a probe still being written is not left out.

It is idempotent: a bucket is written with an upsert on (case, node, resolution, start),
and running it twice, or after a pause of any length, gives the same rows.
"""

from __future__ import annotations

import datetime
from itertools import groupby

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .aggregate import SAMPLE_COLUMNS, STAT_FIELDS, fold_samples, from_row, merge
from .history import HOUR, MINUTE, floor, watermarks
from .models import ProbeRollup, ProbeSample, Resolution

GRACE = datetime.timedelta(minutes=2)
BATCH = 500


def _upsert(rows):
    for i in range(0, len(rows), BATCH):
        ProbeRollup.objects.bulk_create(
            rows[i : i + BATCH],
            update_conflicts=True,
            unique_fields=["application", "node", "resolution", "bucket"],
            update_fields=list(STAT_FIELDS),
        )
    return len(rows)


def _roll_minutes(app_id, node_id, start, end):
    qs = ProbeSample.objects.filter(application_id=app_id, node_id=node_id, at__lt=end)
    if start is not None:
        qs = qs.filter(at__gte=start)
    rows = qs.order_by("at", "pk").values_list("at", *SAMPLE_COLUMNS).iterator(chunk_size=2000)
    out = []
    for bucket, group in groupby(rows, key=lambda row: floor(row[0], "minute")):
        stats = fold_samples(row[1:] for row in group)
        out.append(
            ProbeRollup(
                application_id=app_id,
                node_id=node_id,
                resolution=Resolution.MINUTE,
                bucket=bucket,
                **stats.as_row(),
            )
        )
    return _upsert(out)


def _roll_hours(app_id, node_id, start, end):
    qs = ProbeRollup.objects.filter(
        application_id=app_id, node_id=node_id, resolution=Resolution.MINUTE, bucket__lt=end
    )
    if start is not None:
        qs = qs.filter(bucket__gte=start)
    out = []
    for bucket, group in groupby(qs.order_by("bucket"), key=lambda row: floor(row.bucket, "hour")):
        stats = merge(from_row(row) for row in group)
        out.append(
            ProbeRollup(
                application_id=app_id,
                node_id=node_id,
                resolution=Resolution.HOUR,
                bucket=bucket,
                **stats.as_row(),
            )
        )
    return _upsert(out)


def roll_up(now=None):
    """Fold, then prune; returns what it did, by kind."""
    now = now or timezone.now()
    minute_end = floor(now - GRACE, "minute")
    done = {"minutes": 0, "hours": 0, "raw_deleted": 0, "minutes_deleted": 0}
    pairs = sorted(
        set(
            ProbeSample.objects.filter(at__lt=minute_end)
            .values_list("application_id", "node_id")
            .distinct()
        )
    )
    minute_marks = watermarks(Resolution.MINUTE)
    for app_id, node_id in pairs:
        with transaction.atomic():
            done["minutes"] += _roll_minutes(
                app_id, node_id, minute_marks.get((app_id, node_id)), minute_end
            )
    minute_marks = watermarks(Resolution.MINUTE)
    hour_marks = watermarks(Resolution.HOUR)
    for (app_id, node_id), minute_mark in sorted(minute_marks.items()):
        hour_end = floor(minute_mark, "hour")
        with transaction.atomic():
            done["hours"] += _roll_hours(
                app_id, node_id, hour_marks.get((app_id, node_id)), hour_end
            )
    done.update(prune(now))
    return done


def prune(now=None):
    """Delete raw samples and per-minute rows past their retention, once rolled up."""
    now = now or timezone.now()
    raw_cutoff = now - datetime.timedelta(hours=settings.MONITORING_RAW_HOURS)
    minute_cutoff = now - datetime.timedelta(days=settings.MONITORING_MINUTE_DAYS)
    raw_deleted = minutes_deleted = 0
    for (app_id, node_id), mark in watermarks(Resolution.MINUTE).items():
        raw_deleted += ProbeSample.objects.filter(
            application_id=app_id, node_id=node_id, at__lt=min(raw_cutoff, mark)
        ).delete()[0]
    for (app_id, node_id), mark in watermarks(Resolution.HOUR).items():
        minutes_deleted += ProbeRollup.objects.filter(
            application_id=app_id,
            node_id=node_id,
            resolution=Resolution.MINUTE,
            bucket__lt=min(minute_cutoff, mark),
        ).delete()[0]
    return {"raw_deleted": raw_deleted, "minutes_deleted": minutes_deleted}


__all__ = ["GRACE", "HOUR", "MINUTE", "prune", "roll_up"]
