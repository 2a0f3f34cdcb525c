"""The one clock every rule reads (``now()``), and the business calendar (``today()``).

Real by default. With ``ABONNEMENT_SIMULATED_CLOCK=1`` the instant is a stored row that only
moves forward; ``subscriptions.services.advance_clock`` moves it and runs the rollovers that
fall in between. Services never call this: they take ``now`` as an argument, read once at
the boundary (view, endpoint, task, command).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from abonnement.core.models import SimulatedClock


def simulated() -> bool:
    return bool(settings.SIMULATED_CLOCK)


def now() -> datetime:
    if not simulated():
        return timezone.now()
    clock = SimulatedClock.objects.filter(pk=1).first()
    if clock is None:
        return timezone.now()
    return clock.now


def real_now() -> datetime:
    """The wall clock, even when the business clock is simulated.

    Only for transport concerns that the outside world checks against real time: webhook
    signature timestamps, when a queued retry may run, rate-limit windows. Business rules
    always take ``now()``.
    """
    return timezone.now()


def business_zone() -> ZoneInfo:
    return ZoneInfo(settings.BUSINESS_TIME_ZONE)


def business_date(instant: datetime) -> date:
    """The calendar day of ``instant`` in the vendor's business time zone."""
    return instant.astimezone(business_zone()).date()


def start_of_day(day: date) -> datetime:
    """Midnight at the start of ``day`` in the business time zone, as UTC."""
    return datetime.combine(day, time.min, tzinfo=business_zone()).astimezone(UTC)


def end_of_day(day: date) -> datetime:
    """The last instant before ``day + 1`` starts (the change deadline of a period)."""
    return start_of_day(day + timedelta(days=1)) - timedelta(microseconds=1)
