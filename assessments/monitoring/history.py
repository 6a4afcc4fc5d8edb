"""A case's monitoring history at a chosen resolution, from the finest rows that hold it.

Raw samples are rolled up into per-minute rows, and those into per-hour rows, oldest first
(``retention``); so for each node the per-hour rows cover everything before its hour
watermark (the end of its last hour row), the per-minute rows everything from there to its
minute watermark, and raw samples the rest. ``node_series`` reads each period from exactly
one of the three, so nothing is counted twice, and folds it into buckets of the size asked.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from itertools import groupby

from django.db.models import Max

from .aggregate import SAMPLE_COLUMNS, Stats, fold_samples, from_row, merge
from .models import ProbeRollup, ProbeSample, Resolution

MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
SIZES = ("raw", "minute", "hour", "day")


def floor(moment: datetime.datetime, size: str) -> datetime.datetime:
    """The start of the minute, hour or day (UTC) ``moment`` falls in."""
    moment = moment.astimezone(datetime.UTC)
    if size == "minute":
        return moment.replace(second=0, microsecond=0)
    if size == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    if size == "day":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment


def watermarks(resolution, **filters) -> dict[tuple[int, int], datetime.datetime]:
    """(application, node) -> the end of its last rollup row of ``resolution``."""
    step = MINUTE if resolution == Resolution.MINUTE else HOUR
    rows = (
        ProbeRollup.objects.filter(resolution=resolution, **filters)
        .values_list("application_id", "node_id")
        .annotate(last=Max("bucket"))
    )
    return {(app_id, node_id): last + step for app_id, node_id, last in rows}


def _raw(application_id, node_id, start, end):
    rows = (
        ProbeSample.objects.filter(
            application_id=application_id, node_id=node_id, at__gte=start, at__lt=end
        )
        .order_by("at", "pk")
        .values_list("at", *SAMPLE_COLUMNS)
    )
    return rows.iterator(chunk_size=2000)


def _rollups(application_id, node_id, resolution, start, end):
    return ProbeRollup.objects.filter(
        application_id=application_id,
        node_id=node_id,
        resolution=resolution,
        bucket__gte=start,
        bucket__lt=end,
    ).order_by("bucket")


def _bucketed(parts: Iterable[tuple[datetime.datetime, Stats]], size: str):
    """(start, Stats) parts, oldest first, merged into buckets of ``size``."""
    return [
        (bucket, merge(stats for _, stats in group))
        for bucket, group in groupby(parts, key=lambda part: floor(part[0], size))
    ]


def node_series(application, start, end, size="minute", node_ids=None):
    """{node id: [(bucket start, Stats), ...]} over [start, end), oldest first."""
    if size not in SIZES:
        raise ValueError(f"size is one of {SIZES}")
    app_id = application.pk
    if node_ids is None:
        node_ids = sorted(
            set(application.nodes.values_list("pk", flat=True))
            | set(
                ProbeRollup.objects.filter(application_id=app_id, bucket__gte=floor(start, "day"))
                .values_list("node_id", flat=True)
                .distinct()
            )
            | set(
                ProbeSample.objects.filter(application_id=app_id, at__gte=start)
                .values_list("node_id", flat=True)
                .distinct()
            )
        )
    out = {}
    if size == "raw":
        for node_id in node_ids:
            out[node_id] = [
                (row[0], fold_samples([row[1:]])) for row in _raw(app_id, node_id, start, end)
            ]
        return out
    minute_marks = watermarks(Resolution.MINUTE, application_id=app_id)
    hour_marks = watermarks(Resolution.HOUR, application_id=app_id)
    for node_id in node_ids:
        parts: list[tuple[datetime.datetime, Stats]] = []
        cursor = start
        if size in ("hour", "day"):
            hour_end = min(end, hour_marks.get((app_id, node_id), start))
            parts += [
                (row.bucket, from_row(row))
                for row in _rollups(
                    app_id, node_id, Resolution.HOUR, floor(start, "hour"), hour_end
                )
            ]
            cursor = max(cursor, hour_end)
        minute_end = min(end, max(cursor, minute_marks.get((app_id, node_id), cursor)))
        parts += [
            (row.bucket, from_row(row))
            for row in _rollups(app_id, node_id, Resolution.MINUTE, cursor, minute_end)
        ]
        cursor = max(cursor, minute_end)
        parts += [(row[0], fold_samples([row[1:]])) for row in _raw(app_id, node_id, cursor, end)]
        out[node_id] = _bucketed(parts, size)
    return out


def totals(application, start, end) -> dict[int, Stats]:
    """{node id: Stats} of everything kept over [start, end) (per-hour rows to the hour)."""
    return {
        node_id: merge(stats for _, stats in series)
        for node_id, series in node_series(application, start, end, "hour").items()
    }
