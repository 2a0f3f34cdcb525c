"""Period-end reminders: N days before, to the subscription admins, once per period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from abonnement.cli import main
from abonnement.history.models import HistoryEntry
from abonnement.invoicing.models import Delivery, PeriodReminder
from abonnement.invoicing.services import (
    Requeued,
    issue_invoice_for_order,
    requeue_missing_work,
    send_delivery,
    send_period_reminders,
)
from abonnement.orders.models import Order
from abonnement.subscriptions.rollover import roll_over_subscriptions
from tests.conftest import NOW, give_invoice_address, make_organization

pytestmark = pytest.mark.django_db

# Helsinki noon; the current period (6 months from 2027-01-01) ends on 2027-06-30.
JUNE_15 = datetime(2027, 6, 15, 9, 0, tzinfo=UTC)
JUNE_16 = datetime(2027, 6, 16, 9, 0, tzinfo=UTC)


class TestSendPeriodReminders:
    def test_nothing_before_the_reminder_window(self, org: object) -> None:
        assert send_period_reminders(now=JUNE_15) == 0
        assert not PeriodReminder.objects.exists()

    def test_reminds_the_admins_once_per_period(self, org: object) -> None:
        assert send_period_reminders(now=JUNE_16) == 1
        assert send_period_reminders(now=JUNE_16) == 0
        reminder = PeriodReminder.objects.get()
        assert reminder.period_end.isoformat() == "2027-06-30"
        delivery = Delivery.objects.get(reminder=reminder)
        assert send_delivery(delivery_id=delivery.pk, now=JUNE_16).status == "sent"
        (message,) = mail.outbox
        assert message.to == ["admin@testi.example"]
        assert message.subject == "Your subscription renews on 1 Jul 2027"
        for expected in (
            "ends on 30 Jun 2027",
            "1 Jul 2027 to 31 Dec 2027",
            "Edition: Pro",
            "User licences: 10",
            "Monthly price: €210.00",
            "Price of the period: €1,260.00 (excl. VAT)",
            "must be made by 30 Jun 2027",
        ):
            assert expected in message.body, expected
        entry = HistoryEntry.objects.get(action="period_reminder_created")
        assert (entry.kind, entry.actor_type) == ("period", "system")

    def test_the_next_period_gets_its_own_reminder(self, org: object) -> None:
        send_period_reminders(now=JUNE_16)
        roll_over_subscriptions(now=datetime(2027, 7, 1, 7, 0, tzinfo=UTC))
        assert send_period_reminders(now=datetime(2027, 12, 20, 9, 0, tzinfo=UTC)) == 1
        assert PeriodReminder.objects.count() == 2

    @override_settings(REMINDER_DAYS=30)
    def test_the_lead_time_is_a_setting(self, org: object) -> None:
        assert send_period_reminders(now=datetime(2027, 6, 1, 9, 0, tzinfo=UTC)) == 1

    def test_a_marketplace_customer_is_told_to_make_changes_there(self, catalog: None) -> None:
        make_organization(
            purchase_channel={
                "type": "marketplace",
                "name": "Partner Market",
                "url": "https://pm.example/",
            }
        )
        send_period_reminders(now=JUNE_16)
        send_delivery(delivery_id=Delivery.objects.get().pk, now=JUNE_16)
        (message,) = mail.outbox
        assert (
            "must be made by 30 Jun 2027.\nYour subscription is managed in Partner Market: make "
            "changes there, https://pm.example/\n\nBest regards,"
        ) in message.body

    def test_a_direct_customer_and_an_older_reminder_have_no_marketplace_line(
        self, org: object
    ) -> None:
        from abonnement.invoicing.services import _reminder_message

        send_period_reminders(now=JUNE_16)
        reminder = PeriodReminder.objects.get()
        assert reminder.snapshot["marketplace"] is None
        send_delivery(delivery_id=Delivery.objects.get().pk, now=JUNE_16)
        (message,) = mail.outbox
        assert "must be made by 30 Jun 2027.\n\nBest regards," in message.body
        assert "managed in" not in message.body
        # A reminder stored before the key existed (issued reminders never change: rendered
        # from an unsaved copy) reads the same.
        older = {k: v for k, v in reminder.snapshot.items() if k != "marketplace"}
        _subject, body = _reminder_message(PeriodReminder(snapshot=older))
        assert body == message.body

    def test_reminder_in_the_invoice_language(self, catalog: None) -> None:
        make_organization(language="fi")
        send_period_reminders(now=JUNE_16)
        send_delivery(delivery_id=Delivery.objects.get().pk, now=JUNE_16)
        (message,) = mail.outbox
        assert message.subject == "Tilauksenne uusiutuu 1.7.2027"
        assert "Kuukausihinta: 210,00\xa0€" in message.body


def test_command_line_runs_the_due_reminders(
    org: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reminders", "--at", "2027-06-16T09:00:00Z"]) == 0
    # The daily run also re-queues lost work: here the provisioning order (no task ran in
    # this test). The reminder's own delivery, written a moment ago, is left to the task
    # enqueued with it on commit (this test's transaction never commits, so none here).
    assert capsys.readouterr().out == (
        "1 reminders queued; published 0 webhook events left in the outbox; re-queued 1 orders "
        "without documents, 0 stranded deliveries and 0 stranded webhook deliveries; 0 VAT "
        "numbers came into force\n"
    )
    assert PeriodReminder.objects.count() == 1
    tasks = DBTaskResult.objects.order_by("task_path")
    assert [t.task_path.rsplit(".", 1)[1] for t in tasks] == ["issue_order_documents_batch"]


def test_lost_work_is_requeued_and_then_done(org: object) -> None:
    give_invoice_address(org)
    later = NOW + timedelta(hours=1)
    assert requeue_missing_work(now=later) == Requeued(orders=1, deliveries=0)
    order = Order.objects.get()
    issue_invoice_for_order(order_id=order.pk, now=NOW)
    assert requeue_missing_work(now=later) == Requeued(orders=0, deliveries=2)
    for delivery in Delivery.objects.all():
        send_delivery(delivery_id=delivery.pk, now=NOW)
    assert requeue_missing_work(now=later) == Requeued(orders=0, deliveries=0)


def test_work_younger_than_an_hour_is_left_to_its_own_task(org: object) -> None:
    give_invoice_address(org)
    # The provisioning order, made at NOW, has no documents yet (no task ran here).
    assert requeue_missing_work(now=NOW + timedelta(minutes=59)) == Requeued(0, 0)
    assert requeue_missing_work(now=NOW + timedelta(hours=1)) == Requeued(orders=1, deliveries=0)
    issue_invoice_for_order(order_id=Order.objects.get().pk, now=NOW + timedelta(hours=1))
    # Its confirmation's and invoice's deliveries were just written, with their task.
    assert requeue_missing_work(now=NOW + timedelta(hours=1, minutes=59)) == Requeued(0, 0)
    assert requeue_missing_work(now=NOW + timedelta(hours=2)) == Requeued(orders=0, deliveries=2)


def test_held_orders_are_not_requeued_until_the_invoice_address_is_given(org: object) -> None:
    """An order waiting for the invoice address is issued when the billing details are
    saved; the sweep gives it a task only while its confirmation is missing."""
    later = NOW + timedelta(hours=1)
    order = Order.objects.get()
    # Lost before anything was issued: re-queued, for its confirmation.
    assert requeue_missing_work(now=later) == Requeued(orders=1, deliveries=0)
    documents = issue_invoice_for_order(order_id=order.pk, now=NOW)
    assert documents.invoice is None
    # Confirmed and held: only the confirmation's delivery is work, every day after too.
    assert requeue_missing_work(now=later) == Requeued(orders=0, deliveries=1)
    assert requeue_missing_work(now=later + timedelta(days=1)) == Requeued(0, 1)
    send_delivery(delivery_id=Delivery.objects.get().pk, now=NOW)
    assert requeue_missing_work(now=later) == Requeued(orders=0, deliveries=0)
    # With the address given (its after-commit task lost here), the sweep takes it up.
    give_invoice_address(org)
    assert requeue_missing_work(now=later) == Requeued(orders=1, deliveries=0)
    batches = DBTaskResult.objects.filter(task_path__endswith=".issue_order_documents_batch")
    assert [t.args_kwargs["kwargs"]["order_ids"] for t in batches] == [[str(order.pk)]] * 2
    assert DBTaskResult.objects.filter(task_path__endswith=".deliver").count() == 2
