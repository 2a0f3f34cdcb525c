"""Background work for documents (django-tasks; ``abonnement worker`` runs them).

Each task takes ids, re-reads, calls one service and is safe to run twice. The domain
event listener turns every ``order.created`` into an ``issue_order_documents`` task; a
rollover batch of thousands of orders becomes one bulk INSERT into the task table when the
database backend is configured (one ``enqueue`` per order otherwise). Saving billing details
enqueues the same tasks for the orders whose invoices waited for the invoice address.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError
from django_tasks import task

from abonnement.core import clock
from abonnement.core.events import Event
from abonnement.core.tasks import enqueue_many

logger = logging.getLogger(__name__)

# Orders per documents task on the bulk path: one transaction each, short counter lock.
ISSUE_BATCH_SIZE = 200


# What ``issue_order_documents`` returns for an order held for an invoice address.
HELD = "held: no invoice address"


@task()
def issue_order_documents(order_id: str) -> str:
    """The invoice's id, or ``HELD`` when the order was only confirmed."""
    from abonnement.invoicing.models import DocumentType, Invoice
    from abonnement.invoicing.services import issue_invoice_for_order

    try:
        invoice = issue_invoice_for_order(order_id=order_id, now=clock.now()).invoice
    except IntegrityError:
        # Another worker issued it between our read and our insert: the constraint held.
        invoice = Invoice.objects.filter(
            order_id=order_id, document_type=DocumentType.INVOICE
        ).first()
    return HELD if invoice is None else str(invoice.pk)


@task()
def issue_order_documents_batch(order_ids: list[str]) -> int:
    """A rollover batch in one transaction; if it fails, order by order, so one bad order
    does not hold up the others (and the failure shows on this task)."""
    from abonnement.invoicing.services import issue_invoice_for_order, issue_invoices_for_orders

    try:
        return issue_invoices_for_orders(order_ids=order_ids, now=clock.now())
    except Exception:
        logger.exception("issuing a batch of %d orders failed; going one by one", len(order_ids))
    issued, failures = 0, []
    for order_id in order_ids:
        try:
            issued += issue_invoice_for_order(order_id=order_id, now=clock.now()).created
        except IntegrityError:
            continue  # another worker issued it: the constraint held
        except Exception as error:
            logger.exception("issuing the documents of order %s failed", order_id)
            failures.append(f"{order_id}: {type(error).__name__}: {error}")
    if failures:
        raise RuntimeError("documents not issued for " + "; ".join(failures))
    return issued


@task()
def deliver(delivery_id: str) -> str:
    from abonnement.invoicing.services import send_delivery

    result = send_delivery(delivery_id=delivery_id, now=clock.now())
    if result.retry_at is not None:
        _enqueue_retry(delivery_id, result.retry_at)
    return str(result.status)


@task()
def send_reminders() -> int:
    from abonnement.invoicing.services import send_period_reminders

    return send_period_reminders(now=clock.now())


@task()
def requeue_missing_work() -> dict[str, int]:
    from abonnement.invoicing.services import requeue_missing_work as requeue

    result = requeue(now=clock.now())
    return {"orders": result.orders, "deliveries": result.deliveries}


def _enqueue_retry(delivery_id: str, at: datetime) -> None:
    deliver.using(run_after=at).enqueue(delivery_id=delivery_id)


def enqueue_deliveries(delivery_ids: Sequence[str]) -> None:
    enqueue_many(deliver, [{"delivery_id": str(i)} for i in delivery_ids])


def on_domain_events(events: Sequence[Event]) -> None:
    """Listener (runs after commit): every new order gets its documents.

    A single order (a purchase) is one task; a rollover batch becomes tasks of up to
    ``ISSUE_BATCH_SIZE`` orders each, written with one INSERT.
    """
    enqueue_order_documents([str(e.data["order_id"]) for e in events if e.type == "order.created"])


def enqueue_order_documents(order_ids: Sequence[str]) -> None:
    """One order is one task; more are batches of ``ISSUE_BATCH_SIZE``."""
    if len(order_ids) == 1:
        enqueue_many(issue_order_documents, [{"order_id": order_ids[0]}])
        return
    enqueue_order_batches(order_ids)


def enqueue_order_batches(order_ids: Sequence[str]) -> None:
    enqueue_many(
        issue_order_documents_batch,
        [
            {"order_ids": list(order_ids[i : i + ISSUE_BATCH_SIZE])}
            for i in range(0, len(order_ids), ISSUE_BATCH_SIZE)
        ],
    )
