"""Sign-in rate limiting: failed attempts counted per account and per client address.

Counters live in Django's cache with a fixed window. A success clears the account's
counter (not the address's: one address trying many accounts stays limited).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"sign-in:{kind}:{digest}"


def _keys(email: str, address: str) -> list[tuple[str, int]]:
    return [
        (_key("account", email), settings.SIGN_IN_LIMIT_PER_ACCOUNT),
        (_key("address", address), settings.SIGN_IN_LIMIT_PER_ADDRESS),
    ]


def is_limited(*, email: str, address: str) -> bool:
    return any(int(cache.get(key) or 0) >= limit for key, limit in _keys(email, address))


def record_failure(*, email: str, address: str) -> None:
    window = settings.SIGN_IN_LIMIT_WINDOW_SECONDS
    for key, _limit in _keys(email, address):
        # add() starts the window; incr() is atomic in the cache backends that matter.
        if not cache.add(key, 1, timeout=window):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=window)


def clear_account(*, email: str) -> None:
    cache.delete(_key("account", email))


def window_minutes() -> int:
    return max(1, settings.SIGN_IN_LIMIT_WINDOW_SECONDS // 60)
