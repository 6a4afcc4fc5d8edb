"""Percentile claims: order statistics, distribution-free intervals, the verdict rule."""

import random

import pytest

from assessments.engine import stats
from assessments.engine.results import FAILED, INCONCLUSIVE, NOT_JUDGED, PASSED


def test_the_interval_ranks_match_the_textbook_values():
    # The 95 % interval of a median of 100 samples is X(40)..X(61).
    assert stats.interval_ranks(100, 0.5, 0.95) == (40, 61)
    # p99 from 400 samples: X(392)..X(400); the estimate is X(396) (nearest rank).
    assert stats.interval_ranks(400, 0.99, 0.95) == (392, 400)
    assert stats.nearest_rank(400, 0.99) == 396


def test_a_p99_needs_368_samples_for_a_finite_upper_end():
    # 0.99^367 > 0.025 >= 0.99^368: below 368 nothing above the largest sample is excluded.
    assert stats.min_samples(0.99, 0.95) == 368
    assert stats.interval_ranks(367, 0.99, 0.95)[1] is None
    assert stats.interval_ranks(368, 0.99, 0.95)[1] == 368
    assert stats.interval_ranks(10, 0.99, 0.95) == (9, None)


def test_the_interval_covers_the_true_percentile_at_least_as_often_as_claimed():
    rng = random.Random(11)
    trials, covered = 400, 0
    for _ in range(trials):
        claim = stats.percentile_claim([rng.random() for _ in range(400)], 99.0, 0.95)
        covered += claim.lower <= 0.99 <= claim.upper
    # Exact coverage is about 0.95-0.97 here; 400 trials leave room for chance, not for 0.9.
    assert covered / trials >= 0.92


def test_a_bound_is_failed_only_when_the_whole_interval_is_above_it():
    samples = [i / 1000 for i in range(1, 401)]  # 0.001 .. 0.400 s
    claim = stats.percentile_claim(samples)
    assert (claim.rank, claim.lower_rank, claim.upper_rank) == (396, 392, 400)
    assert claim.value == pytest.approx(0.396)

    outcome, message = stats.judge_bound(claim, 0.39, "p99 inclusion latency")
    assert outcome == FAILED
    assert message == (
        "p99 inclusion latency 0.396 s (95 % CI 0.392-0.400 s, n=400) is above the "
        "0.390 s bound by 0.002 s at least"
    )
    assert stats.judge_bound(claim, 0.40, "p99 x")[0] == PASSED
    outcome, message = stats.judge_bound(claim, 0.395, "p99 x")
    assert outcome == INCONCLUSIVE
    assert "straddles the 0.395 s bound" in message


def test_the_false_alarm_of_issue_11_is_no_longer_a_failure():
    # 1 s blocks: the wait for the next block is 0-1 s, plus the engine's overhead. With ten
    # transfers "p99" is the slowest one; 1.012 s above a 1 s bound used to fail the firm.
    samples = [0.05, 0.12, 0.33, 0.41, 0.52, 0.6, 0.71, 0.8, 0.93, 1.012]
    outcome, message = stats.judge_bound(stats.percentile_claim(samples), 1.0, "p99 latency")
    assert outcome == INCONCLUSIVE
    assert "too few samples (n=10; p99 needs at least 368)" in message


def test_with_too_few_samples_a_clear_excess_is_still_a_failure():
    # The lower end exists with ten samples (X(9)): when even it is above the bound, the
    # claim "p99 is above the bound" holds at 97.5 % whatever the upper end.
    samples = [5.0 + i / 10 for i in range(10)]
    outcome, message = stats.judge_bound(stats.percentile_claim(samples), 1.0, "p99 latency")
    assert outcome == FAILED
    assert "no upper end" in message and "by 4.800 s at least" in message


def test_interval_samples_use_their_low_ends_for_the_lower_bound():
    highs = [1.0] * 400
    lows = [0.2] * 400  # each latency known only to lie in [0.2, 1.0]
    claim = stats.percentile_claim(highs, lows=lows)
    assert (claim.lower, claim.upper, claim.value_low, claim.value) == (0.2, 1.0, 0.2, 1.0)
    # Neither "above 0.5" nor "within 0.5" is shown: the instrument was too coarse.
    assert stats.judge_bound(claim, 0.5, "p99 x")[0] == INCONCLUSIVE
    assert stats.judge_bound(claim, 0.1, "p99 x")[0] == FAILED
    assert stats.judge_bound(claim, 1.0, "p99 x")[0] == PASSED


def test_nothing_measured_is_not_judged_and_bad_arguments_are_refused():
    outcome, message = stats.judge_bound(stats.percentile_claim([]), 1.0, "p99 latency")
    assert outcome == NOT_JUDGED and "no p99 latency was measured" in message
    with pytest.raises(ValueError):
        stats.percentile_claim([1.0], percentile=100)
    with pytest.raises(ValueError):
        stats.percentile_claim([1.0], confidence=1.0)
    with pytest.raises(ValueError):
        stats.percentile_claim([1.0, 2.0], lows=[1.0])


def test_the_claim_reports_the_order_statistics_it_used():
    d = stats.percentile_claim([float(i) for i in range(1, 401)]).to_dict()
    assert d["order_statistic"] == 396 and d["value_s"] == 396.0
    assert (d["ci_lower_order_statistic"], d["ci_upper_order_statistic"]) == (392, 400)
    assert (d["ci_lower_s"], d["ci_upper_s"], d["samples_needed"]) == (392.0, 400.0, 368)
