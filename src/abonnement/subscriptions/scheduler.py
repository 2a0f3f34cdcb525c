"""The period engine's own timetable: what ``abonnement worker`` runs without a cron job.

Every ``SCHEDULE_SECONDS`` a running worker rolls over the subscriptions whose period has
ended and queues the period-end reminders that are due, at the clock's instant (the real
clock, or the simulated one where it is switched on), publishes the webhook events that a
process which died after its commit left in the outbox, and gives a webhook delivery whose
task was lost its task again. All are safe to run from any number of workers at once and as
often as wanted: the rollover claims its rows with SKIP LOCKED and a period is renewed once
by a unique constraint; a period is reminded once by another; an outbox event is published
once, taken under a row lock that others skip; of two tasks for one delivery attempt, one
sends (the attempt claim).
So a worker that was down across midnight catches up on its first round, and an operator
needs no crontab beside the worker (``abonnement rollover`` and ``abonnement reminders``
stay for running a round by hand).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import connection

from abonnement.core import clock

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Round:
    """What one round did."""

    transitions: int
    orders: int
    reminders: int
    webhook_events: int = 0
    webhook_retries: int = 0
    vat_numbers: int = 0
    documents_requeued: int = 0
    deliveries_requeued: int = 0

    def summary(self) -> str:
        return (
            f"{self.transitions} period transitions, {self.orders} renewal orders, "
            f"{self.reminders} reminders queued, "
            f"{self.webhook_events} webhook events published from the outbox, "
            f"{self.webhook_retries} stranded webhook deliveries re-queued, "
            f"{self.vat_numbers} VAT numbers that came into force, "
            f"{self.documents_requeued} orders without documents and "
            f"{self.deliveries_requeued} stranded deliveries re-queued"
        )

    @property
    def did_work(self) -> bool:
        return bool(
            self.transitions
            or self.reminders
            or self.webhook_events
            or self.webhook_retries
            or self.vat_numbers
            or self.documents_requeued
            or self.deliveries_requeued
        )


def run_round(*, now: datetime, sweep: bool = False) -> Round:
    """One round of the timetable at ``now``: the due rollovers, the due reminders, the
    webhook events a dead process left in the outbox, the webhook deliveries whose task was
    lost (over an hour overdue), the VAT numbers whose transfer takes effect today, and,
    with ``sweep`` (once a day), the documents and deliveries whose task was lost (over an
    hour old: a full scan of the orders without an invoice, too much for every round, and
    work still waiting in a long queue would be enqueued again each time)."""
    from abonnement.invoicing.services import requeue_missing_work, send_period_reminders
    from abonnement.notifications.services import publish_outbox, requeue_stranded_webhooks
    from abonnement.organizations.services import apply_due_vat_numbers
    from abonnement.subscriptions.rollover import roll_over_subscriptions

    result = roll_over_subscriptions(now=now, workers=settings.ROLLOVER_WORKERS)
    if result.held:
        logger.error(
            "%d subscriptions not rolled over: %s",
            len(result.held),
            " ".join(sorted(result.problems)),
        )
    reminders = send_period_reminders(now=now)
    requeued = requeue_missing_work(now=now) if sweep else None
    return Round(
        transitions=result.transitions,
        orders=result.orders,
        reminders=reminders,
        webhook_events=publish_outbox(now=now),
        webhook_retries=requeue_stranded_webhooks(now=now),
        vat_numbers=apply_due_vat_numbers(now=now),
        documents_requeued=requeued.orders if requeued else 0,
        deliveries_requeued=requeued.deliveries if requeued else 0,
    )


class Timetable:
    """Runs :func:`run_round` now and then every ``interval`` seconds until stopped.

    A round that fails is logged and the next one runs on time: the work is exactly-once,
    so trying again is always safe.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.stopped = threading.Event()
        self.rounds = 0
        self.failures = 0
        self.swept_on: date | None = None  # the business day of the last sweep for lost work

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                now = clock.now()
                today = clock.business_date(now)
                sweep = today != self.swept_on
                done = run_round(now=now, sweep=sweep)
                if sweep:
                    self.swept_on = today
                if done.did_work:
                    logger.info("scheduled round: %s", done.summary())
            except Exception:
                self.failures += 1
                logger.exception("scheduled round failed; the next runs in %s s", self.interval)
            finally:
                self.rounds += 1
                connection.close()  # a fresh connection each round (a restarted server)
            self.stopped.wait(self.interval)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="abonnement-timetable", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopped.set()
