"""The regulator's service-level clock: working days since submission, with
the time a request for information was open left out."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from applications import queries
from applications.clock import service_clock
from applications.models import Application, RequestForInformation

LONDON = ZoneInfo("Europe/London")


def at(day, hour=12):
    """Noon in London on a day of March 2024 (the 1st is a Friday)."""
    return datetime.datetime(2024, 3, day, hour, tzinfo=LONDON)


def submitted_on(app, moment, **extra):
    Application.objects.filter(pk=app.pk).update(submitted_at=moment, **extra)
    return Application.objects.get(pk=app.pk)


def rfi(app, people, raised, answered=None):
    return RequestForInformation.objects.create(
        application=app,
        question="Why?",
        raised_by=people.olivia,
        raised_at=raised,
        answered_at=answered,
        answer="Because." if answered else "",
        answered_by=people.alice if answered else None,
    )


def test_it_counts_working_days_and_skips_weekends(case_in):
    app = submitted_on(case_in("under_review"), at(1))  # Friday
    clock = service_clock(app, now=at(11))  # Monday a week later
    # Fri 1, Mon 4 .. Fri 8: Saturdays and Sundays do not count.
    assert clock.elapsed == 6
    assert clock.running and not clock.paused
    assert "6 of" in clock.label and "running" in clock.label


def test_it_counts_nothing_over_a_weekend(case_in):
    app = submitted_on(case_in("under_review"), at(2))  # Saturday
    assert service_clock(app, now=at(4)).elapsed == 0  # Monday


def test_it_leaves_out_the_working_days_an_rfi_was_open(people, case_in):
    app = submitted_on(case_in("under_review"), at(4))  # Monday
    rfi(app, people, raised=at(6), answered=at(11))  # Wed to the next Mon: 3 working days
    clock = service_clock(app, now=at(15))  # Friday
    # Mon 4 .. Thu 14 is 9 working days; Wed 6, Thu 7 and Fri 8 were the firm's.
    assert clock.elapsed == 6
    assert clock.running


def test_it_leaves_out_overlapping_rfis_once(people, case_in):
    app = submitted_on(case_in("under_review"), at(4))
    rfi(app, people, raised=at(5), answered=at(7))  # Tue, Wed
    rfi(app, people, raised=at(6), answered=at(8))  # Wed, Thu
    assert service_clock(app, now=at(11)).elapsed == 2  # Mon 4 and Fri 8


def test_it_shows_the_clock_paused_while_an_rfi_is_open(people, case_in):
    app = submitted_on(case_in("awaiting_firm"), at(4))
    app.rfis.update(raised_at=at(6))
    clock = service_clock(app, now=at(8))  # Friday, RFI still open
    assert clock.elapsed == 2  # Mon 4 and Tue 5
    assert clock.paused
    assert not clock.running
    assert "paused" in clock.label
    # It does not move while paused.
    assert service_clock(app, now=at(20)).elapsed == 2


def test_it_stops_the_clock_at_the_decision(people, case_in):
    app = submitted_on(case_in("admitted"), at(4), decided_at=at(11))
    clock = service_clock(app, now=datetime.datetime(2024, 6, 28, 12, tzinfo=LONDON))
    assert clock.elapsed == 5  # Mon 4 .. Fri 8
    assert not clock.running and not clock.paused
    assert "stopped" in clock.label


def test_it_has_not_started_for_a_draft(case_in):
    clock = service_clock(case_in("draft"), now=at(11))
    assert clock.elapsed is None
    assert clock.label == "not started"
    assert not clock.overdue
    assert clock.remaining is None


def test_it_is_overdue_past_the_target(settings, case_in):
    settings.SLA_TARGET_WORKING_DAYS = 5
    app = submitted_on(case_in("under_review"), at(1))
    assert service_clock(app, now=at(8)).overdue is False  # 5 days: on target
    late = service_clock(app, now=at(11))
    assert late.overdue is True
    assert late.remaining == -1


@pytest.mark.parametrize("count", [1, 4])
def test_it_costs_no_query_per_case_in_a_list(people, case_in, django_assert_num_queries, count):
    for _ in range(count):
        app = case_in("awaiting_firm")
        submitted_on(app, at(4))
    cases = list(queries.application_list(people.olivia))
    assert len(cases) == count
    with django_assert_num_queries(0):
        for app in cases:
            assert service_clock(app, now=at(8)).paused
