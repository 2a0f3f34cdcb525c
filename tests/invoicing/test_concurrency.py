"""PostgreSQL: two workers issuing the same invoices at once (Rules 9 and 10), and two
workers sending the same delivery. Skipped on SQLite, whose single writer serialises
everything anyway."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from bench.generate import generate_due_subscriptions
from django.db import connection, connections

from abonnement.billing.models import BillingDetails
from abonnement.invoicing.models import Delivery, Invoice, OrderConfirmation
from abonnement.invoicing.services import (
    Outgoing,
    issue_invoice_for_order,
    issue_invoices_for_orders,
    send_delivery,
)
from abonnement.orders.models import Order
from abonnement.organizations.models import Organization
from abonnement.subscriptions.rollover import roll_over_subscriptions
from tests.conftest import NOW, make_catalog
from tests.invoicing.conftest import finnish_customer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks (DATABASE_URL)"
    ),
]


def run_together(*jobs: Callable[[], Any]) -> list[Any]:
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


def due_orders(n: int) -> list[Any]:
    make_catalog()
    generate_due_subscriptions(n, today=date(2027, 1, 15))
    # The generator writes no billing details, and an invoice needs the buyer's address.
    BillingDetails.objects.bulk_create(
        BillingDetails(
            organization_id=pk,
            street="Testikatu 1",
            postal_code="00100",
            city="Helsinki",
            country=country,
            invoice_language=language,
            updated_at=NOW,
        )
        for pk, country, language in Organization.objects.values_list("pk", "country", "language")
    )
    roll_over_subscriptions(now=NOW)
    order_ids = list(Order.objects.order_by("number").values_list("pk", flat=True))
    assert len(order_ids) == n
    return order_ids


def test_two_workers_issue_1000_invoices_numbered_1_to_1000() -> None:
    order_ids = due_orders(1000)
    batches = [order_ids[i : i + 50] for i in range(0, 1000, 50)]

    def work(batches: list[list[Any]]) -> int:
        return sum(issue_invoices_for_orders(order_ids=batch, now=NOW) for batch in batches)

    # Both workers take every batch, from opposite ends, so they meet and collide.
    results = run_together(lambda: work(batches), lambda: work(batches[::-1]))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 1000
    assert all(r > 0 for r in results)
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 1001))
    assert Invoice.objects.values("order_id").distinct().count() == 1000
    assert OrderConfirmation.objects.count() == 1000
    assert Delivery.objects.count() == 2000


def test_two_workers_issuing_order_by_order_issue_each_once() -> None:
    order_ids = due_orders(100)

    def work(ids: list[Any]) -> int:
        return sum(issue_invoice_for_order(order_id=i, now=NOW).created for i in ids)

    results = run_together(lambda: work(order_ids), lambda: work(order_ids[::-1]))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 100
    assert sorted(Invoice.objects.values_list("number", flat=True)) == list(range(1, 101))


def test_two_workers_sending_one_delivery_send_it_once() -> None:
    make_catalog()
    org = finnish_customer(einvoicing=False)
    order = Order.objects.get(organization=org)
    invoice = issue_invoice_for_order(order_id=order.pk, now=NOW).invoice
    delivery = Delivery.objects.get(invoice=invoice)
    sends: list[datetime] = []
    lock = threading.Lock()

    def send(outgoing: Outgoing) -> str:
        with lock:
            sends.append(NOW)
        return "sent"

    results = run_together(
        lambda: send_delivery(delivery_id=delivery.pk, now=NOW, sender=send),
        lambda: send_delivery(delivery_id=delivery.pk, now=NOW, sender=send),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(sends) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)


def test_the_database_refuses_to_change_an_issued_invoice() -> None:
    from django.db import DatabaseError, transaction

    make_catalog()
    org = finnish_customer()
    invoice = issue_invoice_for_order(
        order_id=Order.objects.get(organization=org).pk, now=NOW
    ).invoice
    with pytest.raises(DatabaseError, match="issued documents never change"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(total=0)
    with (
        pytest.raises(DatabaseError, match="issued documents never change"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM invoicing_invoice WHERE id = %s", [invoice.pk])
    assert Invoice.objects.get(pk=invoice.pk).total == invoice.total
