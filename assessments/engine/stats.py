"""Latency histograms (HdrHistogram) and plain summary statistics."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence

from hdrh.histogram import HdrHistogram

PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)


class LatencyHistogram:
    """Latencies in seconds, recorded in microseconds with 3 significant digits.

    Values up to ``highest_s`` (default one hour) are recorded exactly to 0.1 %; larger ones
    are clamped to it and counted in ``clamped`` so nothing is silently dropped.
    """

    def __init__(self, highest_s: float = 3600.0):
        self._highest_us = int(highest_s * 1_000_000)
        self._h = HdrHistogram(1, self._highest_us, 3)
        self.clamped = 0

    def record(self, seconds: float) -> None:
        us = max(1, int(round(seconds * 1_000_000)))
        if us > self._highest_us:
            self.clamped += 1
            us = self._highest_us
        self._h.record_value(us)

    @property
    def count(self) -> int:
        return self._h.get_total_count()

    def percentile(self, p: float) -> float | None:
        if self.count == 0:
            return None
        return self._h.get_value_at_percentile(p) / 1_000_000

    def summary(self, percentiles: Sequence[float] = PERCENTILES) -> dict[str, float | int | None]:
        """count, min, mean, max and percentiles (seconds); None where there is no data."""
        if self.count == 0:
            out: dict[str, float | int | None] = {"count": 0, "min": None, "mean": None}
            out["max"] = None
            out.update({_pname(p): None for p in percentiles})
            return out
        out = {
            "count": self.count,
            "min": self._h.get_min_value() / 1_000_000,
            "mean": round(self._h.get_mean_value() / 1_000_000, 6),
            "max": self._h.get_max_value() / 1_000_000,
        }
        out.update({_pname(p): self.percentile(p) for p in percentiles})
        return out


def _pname(p: float) -> str:
    return "p" + (f"{p:g}".replace(".", "_"))


def describe(values: Iterable[float]) -> dict[str, float | int | None]:
    """count, min, mean, median, stdev, max of a series (None for an empty one)."""
    data = list(values)
    if not data:
        return {"count": 0, "min": None, "mean": None, "median": None, "stdev": None, "max": None}
    return {
        "count": len(data),
        "min": min(data),
        "mean": round(statistics.fmean(data), 6),
        "median": statistics.median(data),
        "stdev": round(statistics.pstdev(data), 6) if len(data) > 1 else 0.0,
        "max": max(data),
    }


def ceil_div(a: float, b: float) -> int:
    return int(math.ceil(a / b))
