"""Aggregates of probe samples: folding raw samples into a bucket, and buckets into larger
ones. Pure Python over plain values, shared by the rollup, the charts and the summary.

A ``Stats`` holds what a ``ProbeRollup`` row stores; merging two keeps every field exact
except the latency mean, which is weighted by the answered samples (each answered sample
has one latency).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields


@dataclass
class Stats:
    samples: int = 0
    up_samples: int = 0
    latency_min_ms: float | None = None
    latency_mean_ms: float | None = None
    latency_max_ms: float | None = None
    first_height: int | None = None
    last_height: int | None = None
    last_hash: str = ""
    interval_count: int = 0
    interval_mean_s: float | None = None
    interval_max_s: float | None = None
    max_lag: int | None = None
    min_peers: int | None = None

    @property
    def up_ratio(self) -> float | None:
        return self.up_samples / self.samples if self.samples else None

    def as_row(self) -> dict:
        return asdict(self)


STAT_FIELDS = tuple(f.name for f in fields(Stats))
# The columns of a raw sample the fold reads, in this order.
SAMPLE_COLUMNS = (
    "up",
    "latency_ms",
    "height",
    "block_hash",
    "block_interval_s",
    "lag",
    "peers",
)


def _min(a, b):
    return b if a is None else a if b is None else min(a, b)


def _max(a, b):
    return b if a is None else a if b is None else max(a, b)


def _weighted(mean_a, count_a, mean_b, count_b):
    if not count_b or mean_b is None:
        return mean_a
    if not count_a or mean_a is None:
        return mean_b
    return (mean_a * count_a + mean_b * count_b) / (count_a + count_b)


def fold_samples(rows: Iterable[tuple]) -> Stats:
    """One bucket's raw samples, oldest first, as tuples in ``SAMPLE_COLUMNS`` order."""
    stats = Stats()
    latencies: list[float] = []
    intervals: list[float] = []
    for up, latency_ms, height, block_hash, interval, lag, peers in rows:
        stats.samples += 1
        if not up:
            continue
        stats.up_samples += 1
        if latency_ms is not None:
            latencies.append(latency_ms)
        if height is not None:
            if stats.first_height is None:
                stats.first_height = height
            stats.last_height = height
            stats.last_hash = block_hash or ""
        if interval is not None:
            intervals.append(interval)
        stats.max_lag = _max(stats.max_lag, lag)
        stats.min_peers = _min(stats.min_peers, peers)
    if latencies:
        stats.latency_min_ms = min(latencies)
        stats.latency_max_ms = max(latencies)
        stats.latency_mean_ms = sum(latencies) / len(latencies)
    if intervals:
        stats.interval_count = len(intervals)
        stats.interval_mean_s = sum(intervals) / len(intervals)
        stats.interval_max_s = max(intervals)
    return stats


def merge(parts: Iterable[Stats]) -> Stats:
    """Consecutive buckets, oldest first, as one."""
    out = Stats()
    for part in parts:
        if not part.samples:
            continue
        out.latency_mean_ms = _weighted(
            out.latency_mean_ms, out.up_samples, part.latency_mean_ms, part.up_samples
        )
        out.interval_mean_s = _weighted(
            out.interval_mean_s, out.interval_count, part.interval_mean_s, part.interval_count
        )
        out.samples += part.samples
        out.up_samples += part.up_samples
        out.interval_count += part.interval_count
        out.latency_min_ms = _min(out.latency_min_ms, part.latency_min_ms)
        out.latency_max_ms = _max(out.latency_max_ms, part.latency_max_ms)
        out.interval_max_s = _max(out.interval_max_s, part.interval_max_s)
        out.max_lag = _max(out.max_lag, part.max_lag)
        out.min_peers = _min(out.min_peers, part.min_peers)
        if out.first_height is None:
            out.first_height = part.first_height
        if part.last_height is not None:
            out.last_height = part.last_height
            out.last_hash = part.last_hash
    return out


def from_row(row) -> Stats:
    """The ``Stats`` of a ``ProbeRollup`` row (or any object with its fields)."""
    return Stats(**{name: getattr(row, name) for name in STAT_FIELDS})
