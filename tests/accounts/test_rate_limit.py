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


def test_a_reservation_counts_before_the_check_and_a_refused_one_counts_nothing(
    settings: Any,
) -> None:
    settings.SIGN_IN_LIMIT_PER_ACCOUNT = 2
    settings.SIGN_IN_LIMIT_PER_ADDRESS = 3
    account = ratelimit._key("account", "anna@testi.example")
    address = ratelimit._key("address", "10.0.0.1")
    assert ratelimit.reserve_attempt(email="anna@testi.example", address="10.0.0.1")
    assert ratelimit.reserve_attempt(email="ANNA@testi.example", address="10.0.0.1")
    assert failures() == {account: 2, address: 2}
    # The account is at its limit: refused, and the refusal is not counted anywhere.
    assert not ratelimit.reserve_attempt(email="anna@testi.example", address="10.0.0.1")
    assert failures() == {account: 2, address: 2}
    # Another account from the same address: allowed until the address's limit.
    assert ratelimit.reserve_attempt(email="bea@testi.example", address="10.0.0.1")
    assert not ratelimit.reserve_attempt(email="carl@testi.example", address="10.0.0.1")
    bea = ratelimit._key("account", "bea@testi.example")
    assert failures() == {account: 2, address: 3, bea: 1}


def test_a_success_gives_back_the_addresss_reservation_and_clears_the_account() -> None:
    for _attempt in range(2):
        ratelimit.reserve_attempt(email="anna@testi.example", address="10.0.0.1")
    ratelimit.release_attempt(email="anna@testi.example", address="10.0.0.1")
    assert failures() == {ratelimit._key("address", "10.0.0.1"): 1}
    ratelimit.release_attempt(email="anna@testi.example", address="10.0.0.1")
    ratelimit.release_attempt(email="anna@testi.example", address="10.0.0.1")
    assert failures() == {ratelimit._key("address", "10.0.0.1"): 0}


def test_each_purpose_counts_apart(settings: Any) -> None:
    settings.SIGN_IN_LIMIT_PER_ACCOUNT = 1
    assert ratelimit.reserve_attempt(email="anna@testi.example", address="10.0.0.1")
    assert ratelimit.reserve_attempt(
        email="anna@testi.example", address="10.0.0.1", purpose=ratelimit.RESET
    )
    assert not ratelimit.reserve_attempt(email="anna@testi.example", address="10.0.0.1")
    email, address = "anna@testi.example", "10.0.0.1"
    assert failures() == {
        ratelimit._key("account", email): 1,
        ratelimit._key("address", address): 1,
        ratelimit._key("account", email, ratelimit.RESET): 1,
        ratelimit._key("address", address, ratelimit.RESET): 1,
    }
    assert ratelimit._key("account", email, ratelimit.RESET).startswith("reset:account:")


def test_an_expired_window_is_forgotten_when_another_attempt_counts(
    settings: Any, monkeypatch: Any
) -> None:
    from abonnement.core import clock

    start = clock.real_now()
    monkeypatch.setattr(clock, "real_now", lambda: start)
    ratelimit.reserve_attempt(email="anna@testi.example", address="10.0.0.1")
    later = start + timedelta(seconds=settings.SIGN_IN_LIMIT_WINDOW_SECONDS + 1)
    monkeypatch.setattr(clock, "real_now", lambda: later)
    ratelimit.reserve_attempt(email="bea@testi.example", address="10.0.0.2")
    assert failures() == {
        ratelimit._key("account", "bea@testi.example"): 1,
        ratelimit._key("address", "10.0.0.2"): 1,
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_reservations_never_pass_the_limit(settings: Any) -> None:
    """Forty reservations at once on PostgreSQL against a limit of 7: exactly 7 pass."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: many connections reserving at once")
    settings.SIGN_IN_LIMIT_PER_ACCOUNT = 7
    settings.SIGN_IN_LIMIT_PER_ADDRESS = 1000
    start = threading.Barrier(40)
    passed: list[bool] = []
    lock = threading.Lock()

    def reserve() -> None:
        from django.db import connection as own

        try:
            start.wait()
            allowed = ratelimit.reserve_attempt(email="anna@testi.example", address="10.0.0.1")
            with lock:
                passed.append(allowed)
        finally:
            own.close()

    threads = [threading.Thread(target=reserve) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(passed) == [False] * 33 + [True] * 7
    assert failures() == {
        ratelimit._key("account", "anna@testi.example"): 7,
        ratelimit._key("address", "10.0.0.1"): 7,
    }
