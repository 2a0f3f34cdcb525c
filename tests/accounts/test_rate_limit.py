"""The sign-in limit counts in the database, exactly, for every process and machine."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from abonnement.accounts import ratelimit
from abonnement.accounts.models import SignInFailures

pytestmark = pytest.mark.django_db


def failures() -> dict[str, int]:
    return dict(SignInFailures.objects.values_list("key", "failures"))


def test_failures_count_up_within_the_window_per_account_and_address(settings: Any) -> None:
    settings.SIGN_IN_LIMIT_PER_ACCOUNT = 3
    for _attempt in range(2):
        ratelimit.record_failure(email="Anna@Testi.example", address="10.0.0.1")
    account, address = (
        ratelimit._key("account", "anna@testi.example"),
        ratelimit._key("address", "10.0.0.1"),
    )
    assert failures() == {account: 2, address: 2}
    assert not ratelimit.is_limited(email="anna@testi.example", address="10.9.9.9")
    ratelimit.record_failure(email="anna@testi.example", address="10.0.0.2")
    assert ratelimit.is_limited(email="anna@testi.example", address="10.9.9.9")
    ratelimit.clear_account(email="anna@testi.example")
    assert account not in failures()


def test_a_window_that_ended_starts_again_at_one(settings: Any, monkeypatch: Any) -> None:
    from abonnement.core import clock

    settings.SIGN_IN_LIMIT_PER_ACCOUNT = 2
    start = clock.real_now()
    monkeypatch.setattr(clock, "real_now", lambda: start)
    ratelimit.record_failure(email="anna@testi.example", address="10.0.0.1")
    ratelimit.record_failure(email="anna@testi.example", address="10.0.0.1")
    assert ratelimit.is_limited(email="anna@testi.example", address="10.0.0.1")
    later = start + timedelta(seconds=settings.SIGN_IN_LIMIT_WINDOW_SECONDS + 1)
    monkeypatch.setattr(clock, "real_now", lambda: later)
    assert not ratelimit.is_limited(email="anna@testi.example", address="10.0.0.1")
    ratelimit.record_failure(email="anna@testi.example", address="10.0.0.1")
    account = ratelimit._key("account", "anna@testi.example")
    assert failures()[account] == 1
    row = SignInFailures.objects.get(key=account)
    assert row.window_ends == later + timedelta(seconds=settings.SIGN_IN_LIMIT_WINDOW_SECONDS)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_are_all_counted() -> None:
    """Two web processes failing the same account at once: every failure counts."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections writing at once")
    errors: list[BaseException] = []

    def fail_many() -> None:
        from django.db import connection as own

        try:
            for _attempt in range(50):
                ratelimit.record_failure(email="anna@testi.example", address="10.0.0.1")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            own.close()

    threads = [threading.Thread(target=fail_many) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert failures() == {
        ratelimit._key("account", "anna@testi.example"): 100,
        ratelimit._key("address", "10.0.0.1"): 100,
    }
