"""Month arithmetic for billing periods (Rule 8). The only place that adds months.

A subscription is anchored on the day of month it started. Period ``n`` starts ``n × months``
months after the first start, on the anchor day, or on the last day of the month where the
month is shorter; so a period anchored on the 31st runs 31 Jan → 27/28 Feb … and comes back
to the 31st in months that have one.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

PERIOD_MONTHS = (1, 3, 6, 12)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def days_from(self, day: date) -> int:
        """Days from ``day`` to the last day, both included."""
        if not self.start <= day <= self.end:
            raise ValueError(f"{day} is outside {self.start}–{self.end}")
        return (self.end - day).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def anchored_date(year: int, month: int, anchor_day: int) -> date:
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(anchor_day, last))


def add_months(first_start: date, months: int, *, anchor_day: int | None = None) -> date:
    """The date ``months`` after ``first_start`` on the anchor day (clamped to month end)."""
    anchor = anchor_day if anchor_day is not None else first_start.day
    total = first_start.year * 12 + (first_start.month - 1) + months
    return anchored_date(total // 12, total % 12 + 1, anchor)


def period_at(*, start: date, months: int, anchor_day: int) -> Period:
    """The period starting at ``start`` (already on its anchor) and lasting ``months``."""
    next_start = add_months(start, months, anchor_day=anchor_day)
    return Period(start, next_start - timedelta(days=1))


def next_period(period: Period, *, months: int, anchor_day: int) -> Period:
    return period_at(start=period.end + timedelta(days=1), months=months, anchor_day=anchor_day)
