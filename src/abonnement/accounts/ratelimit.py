"""Sign-in rate limiting: failed attempts counted per account and per client address.

Counters live in the database (``SignInFailures``), so every web process and machine
counts against one limit, and each failure is one atomic upsert, so concurrent failures
are never counted as one. A window starts with the first failure and lasts
``SIGN_IN_LIMIT_WINDOW_SECONDS`` of real time (a transport limit, not business time). A
success clears the account's counter (not the address's: one address trying many accounts
stays limited).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from abonnement.accounts.models import SignInFailures
from abonnement.core import clock


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"sign-in:{kind}:{digest}"


def _keys(email: str, address: str) -> list[tuple[str, int]]:
    return [
        (_key("account", email), settings.SIGN_IN_LIMIT_PER_ACCOUNT),
        (_key("address", address), settings.SIGN_IN_LIMIT_PER_ADDRESS),
    ]


def is_limited(*, email: str, address: str) -> bool:
    limits = dict(_keys(email, address))
    counted = SignInFailures.objects.filter(
        key__in=list(limits), window_ends__gt=clock.real_now()
    ).values_list("key", "failures")
    return any(failures >= limits[key] for key, failures in counted)


def record_failure(*, email: str, address: str) -> None:
    now = clock.real_now()
    window_ends = now + timedelta(seconds=settings.SIGN_IN_LIMIT_WINDOW_SECONDS)
    table = SignInFailures._meta.db_table
    # One statement per counter: a new or expired window starts at 1, a running one counts
    # up. INSERT … ON CONFLICT works on PostgreSQL and SQLite (3.24+) alike.
    upsert = (
        f"INSERT INTO {table} (key, failures, window_ends) VALUES (%s, 1, %s) "
        f"ON CONFLICT (key) DO UPDATE SET "
        f"failures = CASE WHEN {table}.window_ends > %s THEN {table}.failures + 1 ELSE 1 END, "
        f"window_ends = CASE WHEN {table}.window_ends > %s THEN {table}.window_ends "
        f"ELSE excluded.window_ends END"
    )
    at, ends = _param(now), _param(window_ends)
    with transaction.atomic(), connection.cursor() as cursor:
        for key, _limit in _keys(email, address):
            cursor.execute(upsert, [key, ends, at, at])
        # Forget windows that ended (indexed; failures are rare, so this stays small).
        SignInFailures.objects.filter(window_ends__lte=now).delete()


def clear_account(*, email: str) -> None:
    SignInFailures.objects.filter(key=_key("account", email)).delete()


def window_minutes() -> int:
    return max(1, settings.SIGN_IN_LIMIT_WINDOW_SECONDS // 60)


def _param(value: datetime) -> Any:
    """A datetime as the backend stores it (SQLite keeps ISO text, compared as text)."""
    return connection.ops.adapt_datetimefield_value(value)
