"""The worker's timetable: the due rollovers and reminders without a cron job."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from abonnement.cli import main
from abonnement.core.events import Event, emit
from abonnement.history.models import HistoryEntry
from abonnement.invoicing.models import PeriodReminder
from abonnement.notifications.models import OutboxEvent, WebhookDelivery, WebhookMessage
from abonnement.notifications.services import create_endpoint
from abonnement.orders.models import Order
from abonnement.subscriptions import scheduler
from abonnement.subscriptions.models import Subscription
from abonnement.subscriptions.scheduler import Round, Timetable, run_round
from tests.conftest import NOW, VENDOR, make_organization

# 2027-07-01 10:00 Helsinki.
JULY = datetime(2027, 7, 1, 7, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_round_rolls_over_and_reminds_what_is_due(catalog: None) -> None:
    # Ends 2027-06-30: due on 2027-07-01.
    rolled = make_organization(name="Rolled Oy", admin_email="r@x.example")
    # Ends 2027-07-09: within the 14 days of the reminder.
    reminded = make_organization(
        name="Reminded Oy", period_months=1, start_date=date(2027, 6, 10), admin_email="m@x.example"
    )
    # Ends 2027-08-19: neither due nor within the reminder's 14 days.
    make_organization(
        name="Later Oy", period_months=1, start_date=date(2027, 7, 20), admin_email="l@x.example"
    )

    assert run_round(now=JULY) == Round(transitions=1, orders=1, reminders=1)

    sub = Subscription.objects.get(organization=rolled)
    assert (sub.current_period_start, sub.current_period_end) == (
        date(2027, 7, 1),
        date(2027, 12, 31),
    )
    assert list(PeriodReminder.objects.values_list("subscription__organization", "period_end")) == [
        (reminded.pk, date(2027, 7, 9))
    ]


@pytest.mark.django_db
def test_a_second_round_at_the_same_instant_does_nothing(catalog: None) -> None:
    make_organization(name="Rolled Oy", admin_email="r@x.example")
    make_organization(
        name="Reminded Oy", period_months=1, start_date=date(2027, 6, 10), admin_email="m@x.example"
    )
    run_round(now=JULY)
    counts = (Order.objects.count(), HistoryEntry.objects.count(), PeriodReminder.objects.count())

    assert run_round(now=JULY) == Round(transitions=0, orders=0, reminders=0)
    assert (
        Order.objects.count(),
        HistoryEntry.objects.count(),
        PeriodReminder.objects.count(),
    ) == counts


@pytest.mark.django_db
def test_a_round_publishes_the_webhook_events_a_dead_process_left_in_the_outbox(
    catalog: None,
) -> None:
    org = make_organization(name="Hooked Oy", admin_email="h@x.example")
    create_endpoint(
        url="https://hooks.example/in", events=["feature.enabled"], actor=VENDOR, now=NOW
    )
    # Recorded with its change; the publisher that runs after the commit never ran (in this
    # test nothing does), as when the process dies right after the commit.
    emit(Event("feature.enabled", str(org.pk), {"feature": "sso"}, at=NOW))
    assert OutboxEvent.objects.count() == 1

    done = run_round(now=NOW)
    # Its delivery was just written and its task enqueued on commit: nothing stranded yet.
    assert done == Round(transitions=0, orders=0, reminders=0, webhook_events=1)
    assert done.summary() == (
        "0 period transitions, 0 renewal orders, 0 reminders queued, "
        "1 webhook events published from the outbox, 0 stranded webhook deliveries re-queued, "
        "0 VAT numbers that came into force, 0 orders without documents and 0 stranded "
        "deliveries re-queued"
    )
    assert OutboxEvent.objects.count() == 0
    assert list(WebhookMessage.objects.values_list("event_type", "organization_id")) == [
        ("feature.enabled", org.pk)
    ]
    assert run_round(now=NOW).webhook_events == 0


@pytest.mark.django_db
def test_a_round_requeues_a_webhook_delivery_whose_task_was_lost(catalog: None) -> None:
    org = make_organization(name="Hooked Oy", admin_email="h@x.example")
    endpoint = create_endpoint(
        url="https://hooks.example/in", events=["feature.enabled"], actor=VENDOR, now=NOW
    ).endpoint
    message = WebhookMessage.objects.create(
        id="msg_lost",
        event_type="feature.enabled",
        organization_id=org.pk,
        body="{}",
        created_at=NOW,
    )
    # Written two hours ago; its first attempt never started (no task in the queue).
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, message=message, created_at=NOW - timedelta(hours=2)
    )
    assert not DBTaskResult.objects.exists()

    assert run_round(now=NOW) == Round(
        transitions=0, orders=0, reminders=0, webhook_events=0, webhook_retries=1
    )
    (task,) = DBTaskResult.objects.all()
    assert task.task_path == "abonnement.notifications.tasks.deliver_webhook"
    assert task.args_kwargs["kwargs"] == {"delivery_id": str(delivery.pk), "attempt": 1}


def test_a_failed_round_is_logged_and_the_next_one_runs(
    monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger=scheduler.__name__)
    timetable = Timetable(interval=0)
    calls: list[datetime] = []

    def flaky_round(*, now: datetime, sweep: bool = False) -> Round:
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("database restarting")
        timetable.stop()
        return Round(transitions=2, orders=2, reminders=0)

    monkeypatch.setattr(scheduler, "run_round", flaky_round)
    timetable.run()

    assert (len(calls), timetable.rounds, timetable.failures) == (2, 2, 1)
    assert "scheduled round failed" in caplog.text
    assert "database restarting" in caplog.text
    assert "scheduled round: 2 period transitions, 2 renewal orders, 0 reminders" in caplog.text


def test_stop_ends_the_wait_between_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    ran = threading.Event()

    def quiet_round(*, now: datetime, sweep: bool = False) -> Round:
        ran.set()
        return Round(transitions=0, orders=0, reminders=0)

    monkeypatch.setattr(scheduler, "run_round", quiet_round)
    timetable = Timetable(interval=3600)
    thread = timetable.start()
    assert ran.wait(timeout=10)  # the first round runs at once
    timetable.stop()  # ...then the hour's wait ends with the stop, not after the hour
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert (timetable.rounds, timetable.failures) == (1, 0)


class _Worker:
    """Stands in for the task loop of `abonnement worker`; records what it was asked."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, wait_for_round: bool) -> None:
        self.rounds = threading.Event()
        self.options: dict[str, Any] = {}
        self.wait_for_round = wait_for_round
        self.round_seen = False
        monkeypatch.setattr(scheduler, "run_round", self._round)
        monkeypatch.setattr("django.core.management.call_command", self._call_command)

    def _round(self, *, now: datetime, sweep: bool = False) -> Round:
        self.rounds.set()
        return Round(transitions=0, orders=0, reminders=0)

    def _call_command(self, name: str, **options: Any) -> None:
        assert name == "db_worker"
        self.options = options
        self.round_seen = self.rounds.wait(timeout=10 if self.wait_for_round else 0.3)


def test_worker_runs_the_timetable_beside_the_task_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    worker = _Worker(monkeypatch, wait_for_round=True)
    assert main(["worker"]) == 0
    assert worker.options == {"batch": False, "no_startup_delay": True}
    assert worker.round_seen


@pytest.mark.parametrize("argv", [["worker", "--batch"], ["worker", "--no-schedule"]])
def test_worker_without_the_timetable(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    worker = _Worker(monkeypatch, wait_for_round=False)
    assert main(argv) == 0
    assert worker.options == {"batch": argv[1] == "--batch", "no_startup_delay": True}
    assert not worker.round_seen


@override_settings(SCHEDULE_SECONDS=0)
def test_worker_timetable_switched_off_by_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    worker = _Worker(monkeypatch, wait_for_round=False)
    assert main(["worker"]) == 0
    assert not worker.round_seen


def test_a_negative_interval_is_refused_at_start(tmp_path: Any) -> None:
    env = dict(os.environ, ABONNEMENT_SCHEDULE_SECONDS="-5", ABONNEMENT_DATA_DIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "abonnement.cli", "worker", "--batch"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "ABONNEMENT_SCHEDULE_SECONDS must be 0 or more, not -5." in done.stderr


def _transfer_dated_july(org: Any) -> None:
    """A VAT-number transfer recorded now (2027-01-15) that takes effect on 2027-07-01."""
    from abonnement.organizations.services import transfer_vat_number
    from tests.organizations.test_services import PDF, staff

    transfer_vat_number(
        organization=org,
        vat_number="FI23327487",
        effective_date=date(2027, 7, 1),
        document=PDF,
        document_name="Siirtosopimus.pdf",
        actor=staff("billing"),
        now=NOW,
    )


@pytest.mark.django_db
def test_a_round_brings_a_vat_number_into_force_on_its_day(catalog: None) -> None:
    from abonnement.organizations.models import Organization

    org = make_organization(start_date=date(2027, 7, 1))  # nothing due on 2027-06-30
    _transfer_dated_july(org)
    assert run_round(now=datetime(2027, 6, 30, 12, 0, tzinfo=UTC)) == Round(
        transitions=0, orders=0, reminders=0
    )
    assert Organization.objects.get(pk=org.pk).vat_number == "FI23456780"
    done = run_round(now=JULY)
    assert done.vat_numbers == 1
    assert "1 VAT numbers that came into force" in done.summary()
    assert Organization.objects.get(pk=org.pk).vat_number == "FI23327487"
    assert run_round(now=JULY).vat_numbers == 0


@pytest.mark.django_db
@override_settings(SIMULATED_CLOCK=True)
def test_moving_the_clock_brings_a_vat_number_into_force(catalog: None) -> None:
    from abonnement.organizations.models import Organization
    from abonnement.subscriptions.rollover import advance_clock

    org = make_organization()
    _transfer_dated_july(org)
    advance_clock(to=JULY, now=NOW)
    assert Organization.objects.get(pk=org.pk).vat_number == "FI23327487"


@pytest.mark.django_db
def test_the_sweep_for_lost_documents_runs_with_the_first_round_of_each_day(
    catalog: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from abonnement.core import clock

    make_organization()  # its first order has no documents: no task runs in this test
    instants = [
        datetime(2027, 1, 16, 8, 0, tzinfo=UTC),  # 10:00 in Helsinki, a day later
        datetime(2027, 1, 16, 9, 0, tzinfo=UTC),  # the same business day
        datetime(2027, 1, 17, 8, 0, tzinfo=UTC),  # the next day
    ]
    timetable = Timetable(interval=0)
    swept: list[int] = []
    real_round = scheduler.run_round

    def counting_round(*, now: datetime, sweep: bool = False) -> Round:
        done = real_round(now=now, sweep=sweep)
        swept.append(done.documents_requeued)
        return done

    def next_instant() -> datetime:
        if len(instants) == 1:
            timetable.stop()  # the third round is the last, whatever happens in it
        return instants.pop(0)

    monkeypatch.setattr(clock, "now", next_instant)
    monkeypatch.setattr(scheduler, "run_round", counting_round)
    # The timetable closes its connection after each round; here that is the test's own.
    monkeypatch.setattr(scheduler.connection, "close", lambda: None)
    timetable.run()
    assert (swept, timetable.failures) == ([1, 0, 1], 0)
