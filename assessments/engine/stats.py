"""Latency histograms (HdrHistogram) and plain summary statistics."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

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


# -- Percentile claims a regulator can stand behind ----------------------------------------
#
# A percentile estimated from n samples is an order statistic, and how far it may be from
# the true percentile follows from the binomial distribution alone, whatever the latency
# distribution is: the number of samples below the true q-quantile is Binomial(n, q), so
# P(X(l) <= x_q <= X(u)) >= P(l <= B <= u - 1). The interval [X(l), X(u)] with equal tails
# is the distribution-free confidence interval reported beside every percentile.
# With too few samples an end does not exist (for p99 at 95 %, the upper end needs
# 0.99^n <= 0.025, i.e. n >= 368): nothing above the largest sample can then be excluded.


def _binomial_cdf(n: int, q: float) -> list[float]:
    """P(B <= k) for k = 0..n, B ~ Binomial(n, q), 0 < q < 1 (summed in log space)."""
    log_q, log_r = math.log(q), math.log1p(-q)
    log_n = math.lgamma(n + 1)
    total, out = 0.0, []
    for k in range(n + 1):
        log_pmf = log_n - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_q
        total += math.exp(log_pmf + (n - k) * log_r)
        out.append(min(1.0, total))
    return out


def interval_ranks(n: int, q: float, confidence: float) -> tuple[int | None, int | None]:
    """1-based ranks (l, u) of the order statistics bounding the q-quantile at ``confidence``.

    Equal tails: P(B <= l - 1) <= alpha / 2 and P(B >= u) <= alpha / 2. An end that would
    need a rank outside 1..n is None (too few samples for it).
    """
    if n <= 0:
        return None, None
    tail = (1.0 - confidence) / 2
    cdf = _binomial_cdf(n, q)
    lower = None
    for k in range(n):  # l - 1 = the largest k with P(B <= k) <= tail
        if cdf[k] <= tail:
            lower = k + 1
        else:
            break
    upper = None
    for k in range(n):  # u - 1 = the smallest k with P(B <= k) >= 1 - tail
        if cdf[k] >= 1.0 - tail:
            upper = k + 1
            break
    return lower, upper


def min_samples(q: float, confidence: float) -> int:
    """The fewest samples for which both ends of the q-quantile's interval exist."""
    tail = (1.0 - confidence) / 2
    # The upper end exists once q^n <= tail, the lower once (1 - q)^n <= tail.
    n = max(1, math.ceil(math.log(tail) / math.log(max(q, 1 - q))) - 1)
    while (
        interval_ranks(n, q, confidence)[1] is None or interval_ranks(n, q, confidence)[0] is None
    ):
        n += 1
    return n


def nearest_rank(n: int, q: float) -> int:
    """The 1-based rank of the nearest-rank q-quantile of n samples (ceil(q n))."""
    return min(n, max(1, math.ceil(q * n - 1e-9)))


@dataclass(frozen=True)
class PercentileClaim:
    """A percentile of samples, the order statistic used, and its confidence interval.

    Each sample may be an interval (``lows[i] <= true value <= highs[i]``, e.g. a latency
    known to the resolution of a poll): the estimate and the upper end are taken from the
    highs, the lower end from the lows, so the interval still covers the true percentile
    with at least the stated confidence. ``lower``/``upper`` are None when the samples are
    too few for that end (``needed`` is the count for both ends).
    """

    percentile: float
    count: int
    confidence: float
    rank: int | None
    value: float | None
    value_low: float | None
    lower_rank: int | None
    upper_rank: int | None
    lower: float | None
    upper: float | None
    needed: int

    @property
    def label(self) -> str:
        return _pname(self.percentile)

    def interval_text(self) -> str:
        level = f"{self.confidence * 100:g} % CI"
        if self.upper is None:
            lower = "no lower end" if self.lower is None else f"from {self.lower:.3f} s"
            return f"{level} {lower}, no upper end"
        if self.lower is None:
            return f"{level} up to {self.upper:.3f} s, no lower end"
        return f"{level} {self.lower:.3f}-{self.upper:.3f} s"

    def to_dict(self) -> dict[str, Any]:
        return {
            "percentile": self.percentile,
            "count": self.count,
            "order_statistic": self.rank,
            "value_s": self.value,
            "value_low_s": self.value_low,
            "confidence": self.confidence,
            "ci_lower_s": self.lower,
            "ci_lower_order_statistic": self.lower_rank,
            "ci_upper_s": self.upper,
            "ci_upper_order_statistic": self.upper_rank,
            "samples_needed": self.needed,
        }


def percentile_claim(
    highs: Sequence[float],
    percentile: float = 99.0,
    confidence: float = 0.95,
    lows: Sequence[float] | None = None,
) -> PercentileClaim:
    """The ``percentile`` of the samples with its distribution-free confidence interval."""
    if not 0 < percentile < 100:
        raise ValueError("percentile must be between 0 and 100 (exclusive)")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1 (exclusive)")
    if lows is not None and len(lows) != len(highs):
        raise ValueError("lows and highs must have one value per sample")
    q = percentile / 100
    n = len(highs)
    hi = sorted(highs)
    lo = sorted(lows) if lows is not None else hi
    needed = min_samples(q, confidence)
    if n == 0:
        return PercentileClaim(
            percentile, 0, confidence, None, None, None, None, None, None, None, needed
        )
    rank = nearest_rank(n, q)
    lower_rank, upper_rank = interval_ranks(n, q, confidence)
    return PercentileClaim(
        percentile=percentile,
        count=n,
        confidence=confidence,
        rank=rank,
        value=hi[rank - 1],
        value_low=lo[rank - 1],
        lower_rank=lower_rank,
        upper_rank=upper_rank,
        lower=None if lower_rank is None else lo[lower_rank - 1],
        upper=None if upper_rank is None else hi[upper_rank - 1],
        needed=needed,
    )


def judge_bound(claim: PercentileClaim, bound: float, what: str) -> tuple[str, str]:
    """(outcome, message) of "``what`` <= ``bound`` seconds" from a percentile claim.

    Failed only when the interval's lower end is above the bound (a one-sided claim, valid
    also when there are too few samples for the upper end); passed when its upper end is at
    or below it; otherwise inconclusive, saying why. ``what`` names the quantity
    ("p99 inclusion latency"). Outcomes are the engine's strings (passed, failed, ...).
    """
    if claim.count == 0:
        return "not_judged", f"no {what} was measured: no sample completed"
    measured = f"{what} {claim.value:.3f} s ({claim.interval_text()}, n={claim.count})"
    if claim.lower is not None and claim.lower > bound:
        return "failed", (
            f"{measured} is above the {bound:.3f} s bound by {claim.lower - bound:.3f} s at least"
        )
    if claim.upper is not None and claim.upper <= bound:
        return "passed", f"{measured} is within the {bound:.3f} s bound"
    if claim.upper is None:
        return "inconclusive", (
            f"inconclusive: too few samples (n={claim.count}; {claim.label} needs at least "
            f"{claim.needed}) to show {what} within the {bound:.3f} s bound; {measured}"
        )
    return "inconclusive", (
        f"inconclusive: {measured} straddles the {bound:.3f} s bound; more samples narrow it"
    )
