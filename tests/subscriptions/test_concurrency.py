"""Real concurrency on PostgreSQL: two connections, exactly one wins (DESIGN "Check then act
under a lock"; Rule 9 for the rollover). Skipped on SQLite, whose single writer serialises
everything anyway."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any

import pytest
from bench.generate import generate_due_subscriptions
from django.db import connection, connections

from abonnement.accounts.models import User
from abonnement.accounts.services import create_user
from abonnement.core.errors import DomainError
from abonnement.orders.models import Order
from abonnement.subscriptions.models import Subscription
from abonnement.subscriptions.rollover import roll_over_subscriptions
from tests.conftest import NOW, admin_of, make_catalog, make_organization

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks (DATABASE_URL)"
    ),
]


def run_together(*jobs: Callable[[], Any]) -> list[Any]:
    """Run jobs in threads (each its own connection) released at the same instant."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_activations_with_one_free_licence_exactly_one_wins() -> None:
    make_catalog()
    org = make_organization(licenses=2)  # the admin occupies one; one is free
    actor = admin_of(org)

    def create(email: str) -> Callable[[], Any]:
        return lambda: create_user(organization=org, email=email, name=email, actor=actor, now=NOW)

    results = run_together(create("a@race.example"), create("b@race.example"))
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1
    assert isinstance(errors[0], DomainError) and errors[0].code == "no_free_license"
    assert User.objects.filter(organization=org, is_active=True).count() == 2
    sub = Subscription.objects.get(organization=org)
    assert (sub.licenses, sub.licenses_next) == (2, 2)


def test_two_workers_rolling_the_same_due_subscriptions_renew_each_period_once() -> None:
    make_catalog()
    today = date(2027, 1, 15)
    generate_due_subscriptions(1000, today=today)
    now = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)
    results = run_together(
        lambda: roll_over_subscriptions(now=now, batch_size=50),
        lambda: roll_over_subscriptions(now=now, batch_size=50),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.transitions for r in results) == 1000
    assert Order.objects.filter(kind="renewal").count() == 1000
    assert Subscription.objects.filter(current_period_end__lt=today).count() == 0
    # Both workers did part of the work (SKIP LOCKED shares it instead of blocking).
    assert all(r.transitions > 0 for r in results)
    numbers = sorted(Order.objects.values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + 1000))


def test_parallel_workers_catch_up_every_period_exactly_once() -> None:
    make_catalog()
    generate_due_subscriptions(600, today=date(2027, 1, 15))
    # Four months later: monthly subscriptions are several periods behind, annual ones one.
    now = datetime(2027, 5, 20, 10, 0, tzinfo=UTC)
    expected = roll_over_subscriptions(now=now, dry_run=True)
    assert expected.due == 600 and expected.transitions > 600

    result = roll_over_subscriptions(now=now, batch_size=40, workers=4)

    assert (result.subscriptions, result.transitions) == (600, expected.transitions)
    assert result.orders == expected.transitions  # every generated subscription pays
    renewals = Order.objects.filter(kind="renewal")
    assert renewals.count() == expected.transitions
    assert Subscription.objects.filter(current_period_end__lt=date(2027, 5, 20)).count() == 0
    # One renewal per subscription and period, and the periods of each follow on.
    for sub in Subscription.objects.all():
        starts = list(
            renewals.filter(subscription=sub)
            .order_by("period_start")
            .values_list("period_start", "period_end")
        )
        assert starts, sub.pk
        for (_, end), (start, _) in pairwise(starts):
            assert (start - end).days == 1
        assert starts[-1] == (sub.current_period_start, sub.current_period_end)
    numbers = sorted(Order.objects.values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_an_error_in_one_worker_is_raised_and_its_batch_rolled_back(monkeypatch: Any) -> None:
    from abonnement.subscriptions import rollover

    make_catalog()
    generate_due_subscriptions(200, today=date(2027, 1, 15))
    real_batch = rollover._roll_batch
    calls = {"n": 0}
    counting = threading.Lock()

    def failing_second_batch(**kwargs: Any) -> Any:
        # Both workers call this at once: each takes its call's number before the batch
        # runs, so exactly one batch (the second call) fails, whatever the interleaving.
        with counting:
            calls["n"] += 1
            number = calls["n"]
        result = real_batch(**kwargs)
        if number == 2:
            raise RuntimeError("worker failed")
        return result

    monkeypatch.setattr(rollover, "_roll_batch", failing_second_batch)
    now = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)
    with pytest.raises(RuntimeError, match="worker failed"):
        roll_over_subscriptions(now=now, batch_size=20, workers=2)

    # Every committed batch is whole; the failed one left nothing behind.
    renewals = Order.objects.filter(kind="renewal").count()
    rolled = Subscription.objects.filter(current_period_end__gte=date(2027, 1, 15)).count()
    assert renewals == rolled and renewals % 20 == 0 and renewals < 200
    # A rerun finishes the rest exactly once.
    monkeypatch.setattr(rollover, "_roll_batch", real_batch)
    result = roll_over_subscriptions(now=now, batch_size=20, workers=2)
    assert result.transitions == 200 - rolled
    assert Order.objects.filter(kind="renewal").count() == 200
