"""Rate limiting of sign-ins and password links, per account and per client address.

Counters live in the database (``SignInFailures``), so every web process and machine
counts against one limit. A window starts with the first counted attempt and lasts
``SIGN_IN_LIMIT_WINDOW_SECONDS`` of real time (a transport limit, not business time).

An attempt is *reserved* before the password is checked: one atomic upsert per counter
(``INSERT … ON CONFLICT … DO UPDATE … RETURNING failures``) both counts it and answers the
new count, so of any number of parallel guesses exactly the limit get a password check and
the rest are refused without one. A refused reservation is rolled back (it checked
nothing); a failed check keeps it (it is the failure); a successful sign-in clears the
account's counter and gives the address's reservation back (one address trying many
accounts stays limited by its failures).

``purpose`` keeps separate counters for separate things: ``sign-in`` (failed sign-ins) and
``reset`` (requests for a password-reset link, every one of which counts).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest

from abonnement.accounts.models import SignInFailures
from abonnement.core import clock

SIGN_IN = "sign-in"
RESET = "reset"


def _key(kind: str, value: str, purpose: str = SIGN_IN) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"{purpose}:{kind}:{digest}"


def _keys(email: str, address: str, purpose: str = SIGN_IN) -> list[tuple[str, int]]:
    # Always in this order (account, then address), so two reservations never wait for
    # each other's rows the other way round.
    return [
        (_key("account", email, purpose), settings.SIGN_IN_LIMIT_PER_ACCOUNT),
        (_key("address", address, purpose), settings.SIGN_IN_LIMIT_PER_ADDRESS),
    ]


def is_limited(*, email: str, address: str, purpose: str = SIGN_IN) -> bool:
    """Whether the next attempt would be refused (for display; ``reserve_attempt`` decides)."""
    limits = dict(_keys(email, address, purpose))
    counted = SignInFailures.objects.filter(
        key__in=list(limits), window_ends__gt=clock.real_now()
    ).values_list("key", "failures")
    return any(failures >= limits[key] for key, failures in counted)


class _Refused(Exception):
    """Rolls a refused reservation back."""


def reserve_attempt(*, email: str, address: str, purpose: str = SIGN_IN) -> bool:
    """Count one attempt on the account's and the address's counters; False (and nothing
    counted) when that attempt is over either limit."""
    keys = _keys(email, address, purpose)
    try:
        with transaction.atomic():
            counts = _count(keys)
            if any(count > limit for count, (_k, limit) in zip(counts, keys, strict=True)):
                raise _Refused()
    except _Refused:
        return False
    return True


def record_failure(*, email: str, address: str, purpose: str = SIGN_IN) -> None:
    """Count one failure without asking for the limit (a check made elsewhere failed)."""
    with transaction.atomic():
        _count(_keys(email, address, purpose))


def release_attempt(*, email: str, address: str, purpose: str = SIGN_IN) -> None:
    """A reserved attempt succeeded: forget the account's failures and give the address's
    reservation back."""
    address_key = _key("address", address, purpose)
    table = SignInFailures._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        SignInFailures.objects.filter(key=_key("account", email, purpose)).delete()
        cursor.execute(
            f"UPDATE {table} SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END "
            f"WHERE key = %s",
            [address_key],
        )


def clear_account(*, email: str, purpose: str = SIGN_IN) -> None:
    SignInFailures.objects.filter(key=_key("account", email, purpose)).delete()


def client_address(request: HttpRequest) -> str:
    """The client's address: the peer's, or behind ``TRUSTED_PROXIES`` reverse proxies the
    one the outermost of them saw (the last entries of X-Forwarded-For are the proxies' own
    additions; anything before them the client could have written)."""
    meta = request.META
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        forwarded = [a.strip() for a in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return str(meta.get("REMOTE_ADDR", ""))


def window_minutes() -> int:
    return max(1, settings.SIGN_IN_LIMIT_WINDOW_SECONDS // 60)


def _count(keys: list[tuple[str, int]]) -> list[int]:
    """One upsert per counter, each answering its new count; must run in a transaction."""
    now = clock.real_now()
    window_ends = now + timedelta(seconds=settings.SIGN_IN_LIMIT_WINDOW_SECONDS)
    table = SignInFailures._meta.db_table
    # A new or expired window starts at 1, a running one counts up. INSERT … ON CONFLICT …
    # RETURNING works on PostgreSQL and SQLite (3.35+) alike.
    upsert = (
        f"INSERT INTO {table} (key, failures, window_ends) VALUES (%s, 1, %s) "
        f"ON CONFLICT (key) DO UPDATE SET "
        f"failures = CASE WHEN {table}.window_ends > %s THEN {table}.failures + 1 ELSE 1 END, "
        f"window_ends = CASE WHEN {table}.window_ends > %s THEN {table}.window_ends "
        f"ELSE excluded.window_ends END "
        f"RETURNING failures"
    )
    at, ends = _param(now), _param(window_ends)
    counts = []
    with connection.cursor() as cursor:
        for key, _limit in keys:
            cursor.execute(upsert, [key, ends, at, at])
            counts.append(int(cursor.fetchone()[0]))
    # Forget windows that ended (indexed; small). Rows another attempt holds are left for
    # the next clean-up instead of waited for, so two attempts never wait on each other.
    expired = SignInFailures.objects.filter(window_ends__lte=now).select_for_update(
        skip_locked=True
    )
    SignInFailures.objects.filter(key__in=expired.values("key")).delete()
    return counts


def _param(value: datetime) -> Any:
    """A datetime as the backend stores it (SQLite keeps ISO text, compared as text)."""
    return connection.ops.adapt_datetimefield_value(value)
