"""The chain after commit: order.created → documents → deliveries, with the immediate
backend and with a real database worker."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from abonnement.history.models import HistoryEntry
from abonnement.invoicing.documents import Snapshot
from abonnement.invoicing.models import Delivery, Invoice, OrderConfirmation
from abonnement.invoicing.tasks import issue_order_documents
from abonnement.orders.models import Order
from abonnement.subscriptions.rollover import roll_over_subscriptions
from abonnement.subscriptions.services import set_license_count
from tests.conftest import NOW, admin_of, make_catalog, make_organization
from tests.invoicing.conftest import IMMEDIATE_TASKS, finnish_customer, set_billing

pytestmark = pytest.mark.django_db(transaction=True)

JULY = datetime(2027, 7, 1, 7, 0, tzinfo=UTC)


@override_settings(TASKS=IMMEDIATE_TASKS)
def test_an_order_is_confirmed_invoiced_and_mailed_after_commit() -> None:
    make_catalog()
    org = make_organization(invoice_address=True)
    order = Order.objects.get(organization=org)
    invoice = Invoice.objects.get(order=order)
    assert OrderConfirmation.objects.filter(order=order).exists()
    assert sorted(m.subject for m in mail.outbox) == [
        "Invoice 1 from Abonnement Demo Oy",
        "Order confirmation 1 from Abonnement Demo Oy",
    ]
    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["sent", "sent"]
    assert invoice.number == 1
    # Running the task again changes nothing.
    issue_order_documents.call(order_id=str(order.pk))
    assert Invoice.objects.count() == 1
    assert len(mail.outbox) == 2


@override_settings(TASKS=IMMEDIATE_TASKS)
def test_the_invoice_waits_for_the_invoice_address_then_is_issued_and_mailed() -> None:
    make_catalog()
    org = make_organization()  # as over the API: no invoice address
    order = Order.objects.get(organization=org)
    assert OrderConfirmation.objects.filter(order=order).exists()
    assert Invoice.objects.count() == 0
    assert [m.subject for m in mail.outbox] == ["Order confirmation 1 from Abonnement Demo Oy"]
    assert not HistoryEntry.objects.filter(action="invoice_issued").exists()

    set_billing(org)  # the administrator saves the billing details: committed, then issued
    invoice = Invoice.objects.get(order=order)
    buyer = Snapshot.from_json(invoice.snapshot).buyer
    assert (invoice.number, buyer.street, buyer.postal_code, buyer.city, buyer.country) == (
        1,
        "Asiakaskatu 5",
        "00510",
        "Helsinki",
        "FI",
    )
    assert [m.subject for m in mail.outbox] == [
        "Order confirmation 1 from Abonnement Demo Oy",
        "Lasku 1 – Abonnement Demo Oy",
    ]
    assert HistoryEntry.objects.filter(action="invoice_issued").count() == 1

    set_billing(org, reference="PO-1")  # saved again: nothing more
    assert (Invoice.objects.count(), len(mail.outbox)) == (1, 2)


@override_settings(TASKS=IMMEDIATE_TASKS)
def test_einvoicing_customer_gets_the_invoice_in_the_outbox(tmp_path: Path) -> None:
    make_catalog()
    # The provisioning order's invoice waited for the billing details, which switched
    # e-invoicing on: it goes to the outbox too.
    org = finnish_customer()
    set_license_count(organization=org, licenses=11, actor=admin_of(org), now=NOW)
    first = Invoice.objects.get(order__kind="renewal")
    invoice = Invoice.objects.get(order__kind="licenses")
    assert (first.number, invoice.number) == (1, 2)
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == sorted(
        [f"{first.pk}.json", f"{first.pk}.xml", f"{invoice.pk}.json", f"{invoice.pk}.xml"]
    )


def test_rollover_enqueues_its_orders_in_one_task_and_a_real_worker_runs_it() -> None:
    make_catalog()
    orgs = [
        make_organization(admin_email=f"admin{i}@example.com", invoice_address=True)
        for i in range(3)
    ]
    # Each provisioning order is enqueued when it is placed, and again when the billing
    # details are saved before a worker ran: the second run finds it issued.
    provisioning = DBTaskResult.objects.filter(task_path__endswith="issue_order_documents")
    assert provisioning.count() == 6
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    assert Invoice.objects.count() == 3

    result = roll_over_subscriptions(now=JULY)
    assert result.orders == 3
    # The rollover's orders arrive as one event batch: one task for all three.
    (batch,) = DBTaskResult.objects.filter(task_path__endswith="issue_order_documents_batch")
    renewals = Order.objects.filter(period_start=JULY.date()).values_list("pk", flat=True)
    assert sorted(batch.args_kwargs["kwargs"]["order_ids"]) == sorted(map(str, renewals))
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    assert Invoice.objects.count() == 6
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [1, 2, 3, 4, 5, 6]
    # Every order's confirmation and invoice were delivered by the same worker run.
    assert Delivery.objects.filter(status="sent").count() == 12
    assert len(mail.outbox) == 12
    assert {m.to[0] for m in mail.outbox} == {o.billing_details.contact_user.email for o in orgs}
    failed = DBTaskResult.objects.filter(status="FAILED")
    assert list(failed.values_list("traceback", flat=True)) == []
