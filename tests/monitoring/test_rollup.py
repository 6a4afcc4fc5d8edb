"""Downsampling and retention: per-minute and per-hour aggregates that match the raw samples,
raw rows deleted once past retention and rolled up, and history read without double counting."""

import datetime
import statistics

import pytest
from django.utils import timezone

from assessments.monitoring import history, retention
from assessments.monitoring.models import ProbeRollup, ProbeSample, Resolution

STEP = datetime.timedelta(seconds=10)


def top_of_hour(moment):
    return moment.replace(minute=0, second=0, microsecond=0).astimezone(datetime.UTC)


def sample_values(i):
    """A deterministic sample: every 7th probe unanswered."""
    up = i % 7 != 3
    return {
        "up": up,
        "latency_ms": float(i % 10 + 1) if up else None,
        "height": i // 2 if up else None,
        "block_hash": f"0x{i:064x}" if up else "",
        "block_interval_s": (1.0 if i % 2 else 2.0) if up else None,
        "lag": i % 3 if up else None,
        "peers": 4 + i % 2 if up else None,
        "error": "" if up else "node unreachable",
    }


@pytest.fixture
def history_case(sandbox_case):
    """Two and a half hours of 10 s samples of the case's node, starting on the hour."""
    node = sandbox_case.nodes.get()
    start = top_of_hour(timezone.now()) - datetime.timedelta(hours=4)
    count = 900  # 2 h 30 min
    ProbeSample.objects.bulk_create(
        ProbeSample(application=sandbox_case, node=node, at=start + i * STEP, **sample_values(i))
        for i in range(count)
    )
    return sandbox_case, node, start, count


def expected(indices):
    values = [sample_values(i) for i in indices]
    answered = [v for v in values if v["up"]]
    return {
        "samples": len(values),
        "up_samples": len(answered),
        "latency_min_ms": min(v["latency_ms"] for v in answered),
        "latency_max_ms": max(v["latency_ms"] for v in answered),
        "latency_mean_ms": statistics.fmean(v["latency_ms"] for v in answered),
        "first_height": answered[0]["height"],
        "last_height": answered[-1]["height"],
        "last_hash": answered[-1]["block_hash"],
        "interval_count": len(answered),
        "interval_mean_s": statistics.fmean(v["block_interval_s"] for v in answered),
        "interval_max_s": max(v["block_interval_s"] for v in answered),
        "max_lag": max(v["lag"] for v in answered),
        "min_peers": min(v["peers"] for v in answered),
    }


def assert_row(row, wanted):
    for name, value in wanted.items():
        got = getattr(row, name)
        if isinstance(value, float):
            assert got == pytest.approx(value), name
        else:
            assert got == value, name


def test_the_rollup_aggregates_minutes_and_hours_and_deletes_expired_raw_rows(
    history_case, settings
):
    app, node, start, count = history_case
    settings.MONITORING_RAW_HOURS = 2  # raw kept 2 h
    settings.MONITORING_MINUTE_DAYS = 1.5 / 24  # per-minute rows kept 1 h 30 min
    now = start + datetime.timedelta(hours=3, minutes=35)
    before = history.totals(app, start, now)[node.pk]

    done = retention.roll_up(now)

    minutes = ProbeRollup.objects.filter(resolution=Resolution.MINUTE)
    hours = ProbeRollup.objects.filter(resolution=Resolution.HOUR).order_by("bucket")
    assert done["minutes"] == 150 and done["hours"] == 2
    assert [h.bucket for h in hours] == [start, start + datetime.timedelta(hours=1)]
    # Minute 127 holds probes 762..767; hour 1 holds probes 360..719.
    minute = minutes.get(bucket=start + datetime.timedelta(minutes=127))
    assert_row(minute, expected(range(762, 768)))
    assert_row(hours[1], expected(range(360, 720)))
    assert_row(hours[0], expected(range(0, 360)))

    # Raw rows older than 2 h are gone (all of them were rolled up); newer ones stay.
    raw_cutoff = now - datetime.timedelta(hours=2)
    assert done["raw_deleted"] == sum(1 for i in range(count) if start + i * STEP < raw_cutoff)
    assert not ProbeSample.objects.filter(at__lt=raw_cutoff).exists()
    assert ProbeSample.objects.filter(at__gte=raw_cutoff).count() == count - done["raw_deleted"]
    # Per-minute rows older than 1 h 30 min are gone where hour rows cover them; those of
    # the third hour, not complete, stay even past their retention.
    hour_mark = start + datetime.timedelta(hours=2)
    assert now - datetime.timedelta(hours=1, minutes=30) > hour_mark
    assert done["minutes_deleted"] == 120
    assert not minutes.filter(bucket__lt=hour_mark).exists()
    assert minutes.filter(bucket__gte=hour_mark).count() == 30

    # The history reads the same totals from what is left, counting nothing twice.
    after = history.totals(app, start, now)[node.pk]
    assert after.samples == before.samples == count
    assert (
        after.up_samples == before.up_samples == sum(sample_values(i)["up"] for i in range(count))
    )
    assert after.latency_mean_ms == pytest.approx(before.latency_mean_ms)
    assert (after.last_height, after.last_hash) == (before.last_height, before.last_hash)

    # Idempotent: nothing new to fold or delete, the same rows.
    rows = sorted(ProbeRollup.objects.values_list("resolution", "bucket", "samples"))
    again = retention.roll_up(now)
    assert again == {"minutes": 0, "hours": 0, "raw_deleted": 0, "minutes_deleted": 0}
    assert sorted(ProbeRollup.objects.values_list("resolution", "bucket", "samples")) == rows


def test_a_minute_still_being_written_is_not_rolled_up(history_case):
    app, node, start, count = history_case
    last = start + (count - 1) * STEP
    retention.roll_up(last + datetime.timedelta(seconds=30))  # within the grace period
    newest = ProbeRollup.objects.filter(resolution=Resolution.MINUTE).order_by("-bucket").first()
    assert newest.bucket < history.floor(last, "minute") - datetime.timedelta(minutes=1)
    assert ProbeSample.objects.count() == count  # raw retention is 48 h by default


def test_charts_read_hours_minutes_and_raw_samples_at_their_resolution(history_case):
    app, node, start, count = history_case
    now = start + datetime.timedelta(hours=3, minutes=35)
    retention.roll_up(now)
    series = history.node_series(app, start, now, "hour")[node.pk]
    assert [b for b, _ in series] == [start + datetime.timedelta(hours=h) for h in range(3)]
    assert [s.samples for _, s in series] == [360, 360, 180]
    per_day = history.node_series(app, start, now, "day")[node.pk]
    assert sum(s.samples for _, s in per_day) == count
