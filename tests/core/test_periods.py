"""Billing-period month arithmetic (Rule 8): exact calendars and hypothesis properties.

The exact tables are written out by hand so that they can fail; the properties use an
oracle that steps month by month without ``calendar`` to stay independent of the module.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abonnement.core.periods import (
    PERIOD_MONTHS,
    Period,
    add_months,
    anchored_date,
    next_period,
    period_at,
)

ONE_DAY = timedelta(days=1)


def consecutive_periods(start: date, *, months: int, anchor_day: int, count: int) -> list[Period]:
    periods = [period_at(start=start, months=months, anchor_day=anchor_day)]
    while len(periods) < count:
        periods.append(next_period(periods[-1], months=months, anchor_day=anchor_day))
    return periods


def spans(periods: list[Period]) -> list[tuple[date, date, int]]:
    return [(period.start, period.end, period.days) for period in periods]


# --- anchored_date and add_months -------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "anchor_day", "expected"),
    [
        (2027, 1, 31, date(2027, 1, 31)),
        (2027, 2, 31, date(2027, 2, 28)),
        (2028, 2, 31, date(2028, 2, 29)),
        (2028, 2, 30, date(2028, 2, 29)),
        (2028, 2, 29, date(2028, 2, 29)),
        (2027, 2, 29, date(2027, 2, 28)),
        (2027, 4, 31, date(2027, 4, 30)),
        (2027, 4, 30, date(2027, 4, 30)),
        (2027, 4, 1, date(2027, 4, 1)),
        (2100, 2, 29, date(2100, 2, 28)),  # 2100 is not a leap year
        (2000, 2, 31, date(2000, 2, 29)),  # 2000 is
    ],
)
def test_anchored_date_clamps_to_month_end(
    year: int, month: int, anchor_day: int, expected: date
) -> None:
    assert anchored_date(year, month, anchor_day) == expected


@pytest.mark.parametrize(
    ("first_start", "months", "anchor_day", "expected"),
    [
        (date(2027, 1, 31), 1, None, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, None, date(2028, 2, 29)),
        (date(2027, 1, 31), 2, None, date(2027, 3, 31)),
        (date(2027, 1, 15), 0, None, date(2027, 1, 15)),
        (date(2027, 11, 30), 3, None, date(2028, 2, 29)),
        (date(2027, 12, 31), 1, None, date(2028, 1, 31)),
        (date(2027, 12, 1), 12, None, date(2028, 12, 1)),
        (date(2027, 12, 31), 13, None, date(2029, 1, 31)),
        (date(2027, 3, 31), -1, None, date(2027, 2, 28)),
        (date(2027, 1, 31), -1, None, date(2026, 12, 31)),
        # Without the anchor a clamped date drifts; with it the period returns to the 31st.
        (date(2027, 2, 28), 1, None, date(2027, 3, 28)),
        (date(2027, 2, 28), 1, 31, date(2027, 3, 31)),
        (date(2027, 2, 28), 2, 30, date(2027, 4, 30)),
        (date(2027, 4, 30), 1, 31, date(2027, 5, 31)),
    ],
)
def test_add_months(first_start: date, months: int, anchor_day: int | None, expected: date) -> None:
    assert add_months(first_start, months, anchor_day=anchor_day) == expected


# --- exact calendars ----------------------------------------------------------------------


def test_anchor_31_monthly_through_leap_year_2028() -> None:
    periods = consecutive_periods(date(2028, 1, 31), months=1, anchor_day=31, count=13)
    assert spans(periods) == [
        (date(2028, 1, 31), date(2028, 2, 28), 29),
        (date(2028, 2, 29), date(2028, 3, 30), 31),
        (date(2028, 3, 31), date(2028, 4, 29), 30),
        (date(2028, 4, 30), date(2028, 5, 30), 31),
        (date(2028, 5, 31), date(2028, 6, 29), 30),
        (date(2028, 6, 30), date(2028, 7, 30), 31),
        (date(2028, 7, 31), date(2028, 8, 30), 31),
        (date(2028, 8, 31), date(2028, 9, 29), 30),
        (date(2028, 9, 30), date(2028, 10, 30), 31),
        (date(2028, 10, 31), date(2028, 11, 29), 30),
        (date(2028, 11, 30), date(2028, 12, 30), 31),
        (date(2028, 12, 31), date(2029, 1, 30), 31),
        (date(2029, 1, 31), date(2029, 2, 27), 28),
    ]
    assert sum(period.days for period in periods[:12]) == 366


def test_anchor_31_monthly_through_non_leap_year_2027() -> None:
    periods = consecutive_periods(date(2027, 1, 31), months=1, anchor_day=31, count=13)
    assert spans(periods) == [
        (date(2027, 1, 31), date(2027, 2, 27), 28),
        (date(2027, 2, 28), date(2027, 3, 30), 31),
        (date(2027, 3, 31), date(2027, 4, 29), 30),
        (date(2027, 4, 30), date(2027, 5, 30), 31),
        (date(2027, 5, 31), date(2027, 6, 29), 30),
        (date(2027, 6, 30), date(2027, 7, 30), 31),
        (date(2027, 7, 31), date(2027, 8, 30), 31),
        (date(2027, 8, 31), date(2027, 9, 29), 30),
        (date(2027, 9, 30), date(2027, 10, 30), 31),
        (date(2027, 10, 31), date(2027, 11, 29), 30),
        (date(2027, 11, 30), date(2027, 12, 30), 31),
        (date(2027, 12, 31), date(2028, 1, 30), 31),
        (date(2028, 1, 31), date(2028, 2, 28), 29),
    ]
    assert sum(period.days for period in periods[:12]) == 365


def test_anchor_30_monthly_around_february() -> None:
    periods_2027 = consecutive_periods(date(2027, 1, 30), months=1, anchor_day=30, count=4)
    assert spans(periods_2027) == [
        (date(2027, 1, 30), date(2027, 2, 27), 29),
        (date(2027, 2, 28), date(2027, 3, 29), 30),
        (date(2027, 3, 30), date(2027, 4, 29), 31),
        (date(2027, 4, 30), date(2027, 5, 29), 30),
    ]
    periods_2028 = consecutive_periods(date(2028, 1, 30), months=1, anchor_day=30, count=3)
    assert spans(periods_2028) == [
        (date(2028, 1, 30), date(2028, 2, 28), 30),
        (date(2028, 2, 29), date(2028, 3, 29), 30),
        (date(2028, 3, 30), date(2028, 4, 29), 31),
    ]


def test_anchor_29_monthly_around_february() -> None:
    periods_2027 = consecutive_periods(date(2027, 1, 29), months=1, anchor_day=29, count=3)
    assert spans(periods_2027) == [
        (date(2027, 1, 29), date(2027, 2, 27), 30),
        (date(2027, 2, 28), date(2027, 3, 28), 29),
        (date(2027, 3, 29), date(2027, 4, 28), 31),
    ]
    periods_2028 = consecutive_periods(date(2028, 1, 29), months=1, anchor_day=29, count=3)
    assert spans(periods_2028) == [
        (date(2028, 1, 29), date(2028, 2, 28), 31),
        (date(2028, 2, 29), date(2028, 3, 28), 29),
        (date(2028, 3, 29), date(2028, 4, 28), 31),
    ]


def test_anchor_1_monthly_is_calendar_months() -> None:
    periods = consecutive_periods(date(2028, 1, 1), months=1, anchor_day=1, count=3)
    assert spans(periods) == [
        (date(2028, 1, 1), date(2028, 1, 31), 31),
        (date(2028, 2, 1), date(2028, 2, 29), 29),
        (date(2028, 3, 1), date(2028, 3, 31), 31),
    ]


def test_anchor_31_quarterly() -> None:
    periods = consecutive_periods(date(2027, 8, 31), months=3, anchor_day=31, count=5)
    assert spans(periods) == [
        (date(2027, 8, 31), date(2027, 11, 29), 91),
        (date(2027, 11, 30), date(2028, 2, 28), 91),
        (date(2028, 2, 29), date(2028, 5, 30), 92),
        (date(2028, 5, 31), date(2028, 8, 30), 92),
        (date(2028, 8, 31), date(2028, 11, 29), 91),
    ]
    assert sum(period.days for period in periods[:4]) == 366


def test_anchor_31_half_yearly() -> None:
    periods = consecutive_periods(date(2027, 8, 31), months=6, anchor_day=31, count=4)
    assert spans(periods) == [
        (date(2027, 8, 31), date(2028, 2, 28), 182),
        (date(2028, 2, 29), date(2028, 8, 30), 184),
        (date(2028, 8, 31), date(2029, 2, 27), 181),
        (date(2029, 2, 28), date(2029, 8, 30), 184),
    ]


def test_anchor_15_half_yearly() -> None:
    periods = consecutive_periods(date(2027, 1, 15), months=6, anchor_day=15, count=3)
    assert spans(periods) == [
        (date(2027, 1, 15), date(2027, 7, 14), 181),
        (date(2027, 7, 15), date(2028, 1, 14), 184),
        (date(2028, 1, 15), date(2028, 7, 14), 182),
    ]


def test_anchor_31_yearly() -> None:
    periods = consecutive_periods(date(2027, 1, 31), months=12, anchor_day=31, count=2)
    assert spans(periods) == [
        (date(2027, 1, 31), date(2028, 1, 30), 365),
        (date(2028, 1, 31), date(2029, 1, 30), 366),
    ]


def test_yearly_from_leap_day_returns_to_29_february_in_the_next_leap_year() -> None:
    periods = consecutive_periods(date(2028, 2, 29), months=12, anchor_day=29, count=5)
    assert spans(periods) == [
        (date(2028, 2, 29), date(2029, 2, 27), 365),
        (date(2029, 2, 28), date(2030, 2, 27), 365),
        (date(2030, 2, 28), date(2031, 2, 27), 365),
        (date(2031, 2, 28), date(2032, 2, 28), 366),
        (date(2032, 2, 29), date(2033, 2, 27), 365),
    ]


def test_period_at_lasts_the_given_months() -> None:
    assert period_at(start=date(2027, 2, 28), months=1, anchor_day=31) == Period(
        date(2027, 2, 28), date(2027, 3, 30)
    )
    assert period_at(start=date(2027, 2, 28), months=1, anchor_day=28) == Period(
        date(2027, 2, 28), date(2027, 3, 27)
    )
    assert period_at(start=date(2027, 12, 1), months=1, anchor_day=1) == Period(
        date(2027, 12, 1), date(2027, 12, 31)
    )


# --- Period.days, days_from, contains ---------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2027, 1, 1), date(2027, 1, 1), 1),
        (date(2027, 1, 1), date(2027, 1, 31), 31),
        (date(2027, 2, 1), date(2027, 2, 28), 28),
        (date(2028, 2, 1), date(2028, 2, 29), 29),
        (date(2027, 1, 1), date(2027, 12, 31), 365),
        (date(2028, 1, 1), date(2028, 12, 31), 366),
        (date(2027, 12, 31), date(2028, 1, 1), 2),
    ],
)
def test_period_days_counts_both_ends(start: date, end: date, days: int) -> None:
    assert Period(start, end).days == days


def test_days_from_counts_both_ends() -> None:
    period = Period(date(2027, 1, 31), date(2027, 2, 27))
    assert period.days == 28
    assert period.days_from(date(2027, 1, 31)) == 28
    assert period.days_from(date(2027, 2, 1)) == 27
    assert period.days_from(date(2027, 2, 14)) == 14
    assert period.days_from(date(2027, 2, 26)) == 2
    assert period.days_from(date(2027, 2, 27)) == 1


def test_days_from_over_a_leap_day() -> None:
    period = Period(date(2028, 2, 29), date(2028, 3, 30))
    assert period.days_from(date(2028, 2, 29)) == 31
    assert period.days_from(date(2028, 3, 1)) == 30


@pytest.mark.parametrize("day", [date(2027, 1, 30), date(2027, 2, 28), date(2026, 2, 1)])
def test_days_from_outside_the_period_raises(day: date) -> None:
    period = Period(date(2027, 1, 31), date(2027, 2, 27))
    with pytest.raises(ValueError, match="outside"):
        period.days_from(day)


def test_contains_is_inclusive() -> None:
    period = Period(date(2027, 1, 31), date(2027, 2, 27))
    assert period.contains(date(2027, 1, 31))
    assert period.contains(date(2027, 2, 10))
    assert period.contains(date(2027, 2, 27))
    assert not period.contains(date(2027, 1, 30))
    assert not period.contains(date(2027, 2, 28))


def test_period_is_immutable() -> None:
    period = Period(date(2027, 1, 1), date(2027, 1, 31))
    with pytest.raises(dataclasses.FrozenInstanceError):
        period.end = date(2027, 2, 1)  # type: ignore[misc]


def test_period_months_are_the_offered_lengths() -> None:
    assert PERIOD_MONTHS == (1, 3, 6, 12)


# --- properties ---------------------------------------------------------------------------


def last_day_of_month(year: int, month: int) -> int:
    """Independent of ``calendar``: the day before the first of the next month."""
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (following - ONE_DAY).day


def oracle_start(year: int, month: int, anchor_day: int, months_later: int) -> date:
    """Start of the period ``months_later`` months after (year, month), stepping by month."""
    for _ in range(months_later):
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return date(year, month, min(anchor_day, last_day_of_month(year, month)))


LENGTH_BOUNDS = {1: (28, 31), 3: (89, 92), 6: (181, 184), 12: (365, 366)}

anchor_days = st.integers(min_value=1, max_value=31)
period_lengths = st.sampled_from(PERIOD_MONTHS)
start_years = st.integers(min_value=2000, max_value=2100)
start_months = st.integers(min_value=1, max_value=12)


@settings(max_examples=300, deadline=None)
@given(
    anchor_day=anchor_days,
    months=period_lengths,
    year=start_years,
    month=start_months,
    count=st.integers(min_value=2, max_value=30),
)
def test_consecutive_periods_are_contiguous_and_anchored(
    anchor_day: int, months: int, year: int, month: int, count: int
) -> None:
    first_start = oracle_start(year, month, anchor_day, 0)
    periods = consecutive_periods(first_start, months=months, anchor_day=anchor_day, count=count)
    for index, period in enumerate(periods):
        assert period.start == oracle_start(year, month, anchor_day, index * months)
        assert period.start.day == min(
            anchor_day, last_day_of_month(period.start.year, period.start.month)
        )
        assert period.end >= period.start
    for previous, following in pairwise(periods):
        assert following.start == previous.end + ONE_DAY


@settings(max_examples=300, deadline=None)
@given(anchor_day=anchor_days, months=period_lengths, year=start_years, month=start_months)
def test_period_length_is_within_its_months_bounds(
    anchor_day: int, months: int, year: int, month: int
) -> None:
    start = oracle_start(year, month, anchor_day, 0)
    period = period_at(start=start, months=months, anchor_day=anchor_day)
    low, high = LENGTH_BOUNDS[months]
    assert low <= period.days <= high
    assert period.days == (oracle_start(year, month, anchor_day, months) - start).days


@settings(max_examples=300, deadline=None)
@given(anchor_day=anchor_days, months=period_lengths, year=start_years, month=start_months)
def test_a_year_of_periods_lands_on_the_same_date_a_year_later(
    anchor_day: int, months: int, year: int, month: int
) -> None:
    start = oracle_start(year, month, anchor_day, 0)
    periods = consecutive_periods(
        start, months=months, anchor_day=anchor_day, count=12 // months + 1
    )
    a_year_later = date(year + 1, month, min(anchor_day, last_day_of_month(year + 1, month)))
    assert periods[12 // months].start == a_year_later
    year_days = sum(period.days for period in periods[: 12 // months])
    assert year_days == (a_year_later - start).days
    assert year_days in (365, 366)


@settings(max_examples=300, deadline=None)
@given(
    anchor_day=anchor_days,
    months=period_lengths,
    year=start_years,
    month=start_months,
    offset=st.integers(min_value=0, max_value=400),
)
def test_days_from_splits_the_period(
    anchor_day: int, months: int, year: int, month: int, offset: int
) -> None:
    period = period_at(
        start=oracle_start(year, month, anchor_day, 0), months=months, anchor_day=anchor_day
    )
    day = period.start + timedelta(days=offset)
    if day <= period.end:
        assert period.contains(day)
        assert period.days_from(day) + offset == period.days
        assert 1 <= period.days_from(day) <= period.days
    else:
        assert not period.contains(day)
        with pytest.raises(ValueError, match="outside"):
            period.days_from(day)
