"""Webhooks (API.md "Webhooks"): a real HTTP receiver on 127.0.0.1 verifies every delivery
with the ``standardwebhooks`` library; failures are retried with backoff, logged, and ten in
a row switch the endpoint off."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from django.db import transaction
from django.test import Client, TestCase
from django_tasks_db.models import DBTaskResult
from standardwebhooks.webhooks import Webhook

from abonnement.core import clock as business_clock
from abonnement.core.events import Event, emit
from abonnement.notifications.models import (
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)
from abonnement.notifications.services import (
    publish_outbox,
    publish_recorded,
    requeue_stranded_webhooks,
    retry_delay,
)
from abonnement.subscriptions.rollover import roll_over_subscriptions
from tests.api.conftest import Api, CommittingApi, Receiver, register, run_worker, verified
from tests.conftest import NOW

pytestmark = pytest.mark.django_db

T = TypeVar("T")


@pytest.fixture
def api(clock: None) -> Api:
    return CommittingApi(Client())


def test_a_licence_purchase_is_delivered_signed_with_the_order_it_created(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    endpoint = register(api, vendor, receiver.url, ["order.created", "subscription.updated"])
    assert endpoint["secret"].startswith("whsec_")
    bought = api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 13})
    assert bought.status == 200
    run_worker()

    assert len(receiver.received) == 2
    payloads = {
        verified(endpoint["secret"], m)["type"]: verified(endpoint["secret"], m)
        for m in receiver.received
    }
    order_event = payloads["order.created"]
    assert order_event["timestamp"] == "2027-01-15T10:00:00Z"
    assert order_event["data"]["organization_id"] == str(org.pk)
    assert order_event["data"]["order"] == bought.body["order"]
    updated = payloads["subscription.updated"]["data"]["subscription"]
    assert updated == bought.body["subscription"]
    for message in receiver.received:
        assert message.headers["content-type"] == "application/json"
        assert message.headers["webhook-id"].startswith("msg_")
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_a_tampered_body_fails_verification(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    from standardwebhooks.webhooks import WebhookVerificationError

    endpoint = register(api, vendor, receiver.url, ["order.created"])
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    run_worker()
    (message,) = receiver.received
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(message.body.replace(b"11", b"12"), message.headers)
    other_secret = register(api, vendor, receiver.url + "2", ["order.created"])["secret"]
    with pytest.raises(WebhookVerificationError):
        Webhook(other_secret).verify(message.body, message.headers)


def test_only_subscribed_events_are_sent(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    endpoint = register(api, vendor, receiver.url, ["user.activated"])
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    created = api.post(
        f"/organizations/{org.pk}/users", writer, {"email": "u@t.example", "name": "Ursula"}
    )
    run_worker()
    (message,) = receiver.received
    payload = verified(endpoint["secret"], message)
    assert payload["type"] == "user.activated"
    assert payload["data"]["user"] == created.body["user"]
    assert WebhookMessage.objects.count() == 1


def test_a_failed_delivery_is_retried_and_logged(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    receiver.statuses = [500, 503, 200]
    endpoint = register(api, vendor, receiver.url, ["order.created"])
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    run_worker()

    assert len(receiver.received) == 3
    assert len({m.headers["webhook-id"] for m in receiver.received}) == 1
    for message in receiver.received:
        verified(endpoint["secret"], message)
    log = api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries", vendor).body["data"]
    assert len(log) == 1
    assert log[0]["status"] == "succeeded"
    assert log[0]["event_type"] == "order.created"
    assert [(a["number"], a["succeeded"], a["response_status"]) for a in log[0]["attempts"]] == [
        (1, False, 500),
        (2, False, 503),
        (3, True, 200),
    ]
    shown = api.get(f"/webhook-endpoints/{endpoint['id']}", vendor).body
    assert (shown["enabled"], shown["consecutive_failures"]) == (True, 0)


def test_ten_failures_in_a_row_switch_the_endpoint_off(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    receiver.statuses = [500]
    endpoint = register(api, vendor, receiver.url, ["order.created"])
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    run_worker()

    assert len(receiver.received) == 10
    shown = api.get(f"/webhook-endpoints/{endpoint['id']}", vendor).body
    assert shown["enabled"] is False
    assert shown["consecutive_failures"] == 10
    assert shown["disabled_at"] is not None
    assert shown["disabled_reason"] == (
        "Switched off after 10 failed deliveries in a row (last: HTTP 500)."
    )
    assert WebhookDelivery.objects.get().status == "failed"

    # Off means off: later changes are not queued for it …
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 12})
    run_worker()
    assert len(receiver.received) == 10
    assert WebhookDelivery.objects.count() == 1
    # … until the vendor switches it on again.
    receiver.statuses = [200]
    again = api.patch(f"/webhook-endpoints/{endpoint['id']}", vendor, {"enabled": True})
    assert (again.body["enabled"], again.body["consecutive_failures"]) == (True, 0)
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 13})
    run_worker()
    assert len(receiver.received) == 11


def test_an_unreachable_endpoint_fails_with_the_error_logged(
    api: Api, org: Any, writer: str, vendor: str, fast_retries: None, settings: Any
) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    settings.WEBHOOK_ALLOW_PRIVATE = True
    endpoint = register(api, vendor, "http://127.0.0.1:9/closed", ["order.created"])
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    run_worker()
    (delivery,) = api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries", vendor).body["data"]
    assert delivery["status"] == "failed"
    assert [a["response_status"] for a in delivery["attempts"]] == [None, None]
    assert all(a["error"] for a in delivery["attempts"])


def test_retries_back_off_exponentially(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, settings: Any
) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    settings.WEBHOOK_RETRY_MAX_SECONDS = 6 * 3600
    assert [retry_delay(n).total_seconds() for n in range(1, 11)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3840,
        7680,
        15360,
        21600,
    ]
    receiver.statuses = [500]
    register(api, vendor, receiver.url, ["order.created"])
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    before = business_clock.real_now()
    run_worker()  # attempt 1 fails; attempt 2 waits a minute
    assert len(receiver.received) == 1
    (retry,) = DBTaskResult.objects.filter(status="READY")
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    assert before + timedelta(seconds=59) <= retry.run_after <= before + timedelta(seconds=75)
    assert WebhookEndpoint.objects.get().consecutive_failures == 1


def _publish_now() -> None:
    """Publish the outbox at once (as its task would), writing the deliveries."""
    assert _committed(lambda: publish_outbox(now=NOW)) > 0


def _lose_webhook_tasks() -> None:
    """What a process killed between a commit and its enqueue leaves: no task."""
    DBTaskResult.objects.filter(task_path__endswith=".deliver_webhook").delete()


def test_a_first_attempt_whose_task_was_lost_is_requeued_once(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    endpoint = register(api, vendor, receiver.url, ["order.created"])
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    _publish_now()
    _lose_webhook_tasks()
    run_worker()
    assert receiver.received == []

    # Written at NOW: within the hour its task may still be waiting in a busy queue.
    assert requeue_stranded_webhooks(now=NOW + timedelta(minutes=59)) == 0
    assert requeue_stranded_webhooks(now=NOW + timedelta(hours=2)) == 1
    run_worker()
    (message,) = receiver.received
    assert verified(endpoint["secret"], message)["type"] == "order.created"
    assert list(WebhookDelivery.objects.values_list("status", "attempts")) == [("succeeded", 1)]
    assert requeue_stranded_webhooks(now=NOW + timedelta(hours=3)) == 0


def test_a_retry_whose_task_was_lost_is_requeued(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, settings: Any
) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    receiver.statuses = [500, 204]
    endpoint = register(api, vendor, receiver.url, ["order.created"])
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    run_worker()  # attempt 1 fails; attempt 2 is due in a minute...
    _lose_webhook_tasks()  # ...but its task is lost
    assert requeue_stranded_webhooks(now=NOW) == 0  # not overdue yet
    WebhookDelivery.objects.update(
        next_attempt_at=business_clock.real_now() - timedelta(hours=1, minutes=1)
    )

    assert requeue_stranded_webhooks(now=NOW) == 1
    run_worker()
    (delivery,) = api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries", vendor).body["data"]
    assert delivery["status"] == "succeeded"
    assert [(a["number"], a["response_status"]) for a in delivery["attempts"]] == [
        (1, 500),
        (2, 204),
    ]
    assert len(receiver.received) == 2


def test_an_attempt_whose_worker_died_is_requeued_as_the_next_attempt(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    endpoint = register(api, vendor, receiver.url, ["order.created"])
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    _publish_now()
    _lose_webhook_tasks()
    # A worker claimed attempt 1 two hours ago and died before recording it.
    WebhookDelivery.objects.update(
        attempts=1, last_attempt_at=business_clock.real_now() - timedelta(hours=2)
    )

    assert requeue_stranded_webhooks(now=NOW) == 1
    run_worker()
    (delivery,) = api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries", vendor).body["data"]
    assert delivery["status"] == "succeeded"
    assert [(a["number"], a["succeeded"]) for a in delivery["attempts"]] == [(2, True)]
    assert len(receiver.received) == 1


def test_a_requeued_delivery_whose_task_was_only_late_is_sent_once(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    register(api, vendor, receiver.url, ["order.created"])
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    _publish_now()
    # The original task is still queued when the sweep adds a second one for attempt 1.
    assert requeue_stranded_webhooks(now=NOW + timedelta(hours=2)) == 1
    assert DBTaskResult.objects.filter(task_path__endswith=".deliver_webhook").count() == 2
    run_worker()
    assert len(receiver.received) == 1
    assert list(WebhookDelivery.objects.values_list("status", "attempts")) == [("succeeded", 1)]


def test_endpoints_are_vendor_calls_with_validated_input(api: Api, vendor: str) -> None:
    bad = api.post(
        "/webhook-endpoints", vendor, {"url": "ftp://x.example", "events": ["order.created"]}
    )
    assert (bad.status, bad.code) == (422, "validation_error")
    assert bad.body["errors"][0]["field"] == "url"
    unknown = api.post(
        "/webhook-endpoints", vendor, {"url": "https://x.example", "events": ["order.paid"]}
    )
    assert (unknown.status, unknown.code) == (422, "validation_error")
    made = api.post(
        "/webhook-endpoints",
        vendor,
        {"url": "https://x.example/h", "events": ["user.deactivated", "order.created"]},
    ).body
    assert made["events"] == ["order.created", "user.deactivated"]
    listed = api.get("/webhook-endpoints", vendor).body
    assert [e["id"] for e in listed["data"]] == [made["id"]]
    assert "secret" not in listed["data"][0]
    assert api.delete(f"/webhook-endpoints/{made['id']}", vendor).status == 204
    assert api.get(f"/webhook-endpoints/{made['id']}", vendor).status == 404


def test_endpoints_made_at_one_instant_are_listed_newest_first(api: Api, vendor: str) -> None:
    made = [register(api, vendor, f"https://x.example/{n}", ["order.created"]) for n in range(3)]
    assert WebhookEndpoint.objects.values("created_at").distinct().count() == 1
    listed = api.get("/webhook-endpoints", vendor).body
    assert [e["id"] for e in listed["data"]] == [e["id"] for e in reversed(made)]


def test_payload_is_compact_json(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    register(api, vendor, receiver.url, ["feature.enabled"])
    api.put(f"/organizations/{org.pk}/features/sso", writer, {"enabled": True})
    run_worker()
    (message,) = receiver.received
    assert json.loads(message.body)["data"]["feature"]["code"] == "sso"
    assert b", " not in message.body


# --------------------------------------------------------------------------- the outbox
# A process may die between the commit of a change and the writing of its webhook messages;
# the events are therefore written to the outbox inside the change's own transaction.


def _committed(publish: Callable[[], T]) -> T:
    """Run a publisher as in its own committed transaction (its enqueueing runs on commit)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return publish()


def _outbox() -> list[tuple[str, str]]:
    return [(e.event_type, str(e.organization_id)) for e in OutboxEvent.objects.order_by("pk")]


def test_an_event_is_recorded_with_its_change_and_survives_a_process_that_died(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    endpoint = register(api, vendor, receiver.url, ["order.created"])
    # A plain client: the request commits (in the test's transaction) but nothing that runs
    # after a commit does, as when the process is killed right after it.
    bought = Api(Client()).put(
        f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 13}
    )
    assert bought.status == 200
    assert _outbox() == [("order.created", str(org.pk))]
    assert OutboxEvent.objects.get().occurred_at == NOW
    assert WebhookMessage.objects.count() == 0

    # An hour later a worker's round publishes it: once, stamped with the time of the change.
    assert _committed(lambda: publish_outbox(now=NOW + timedelta(hours=1))) == 1
    assert _outbox() == []
    run_worker()
    (message,) = receiver.received
    payload = verified(endpoint["secret"], message)
    assert payload["type"] == "order.created"
    assert payload["timestamp"] == "2027-01-15T10:00:00Z"
    assert payload["data"]["order"] == bought.body["order"]
    assert publish_outbox(now=NOW + timedelta(hours=2)) == 0
    run_worker()
    assert len(receiver.received) == 1


def test_a_change_that_rolls_back_leaves_nothing_in_the_outbox(
    api: Api, org: Any, vendor: str, receiver: Receiver
) -> None:
    register(api, vendor, receiver.url, ["feature.enabled"])
    with pytest.raises(RuntimeError), transaction.atomic():
        emit(Event("feature.enabled", str(org.pk), {"feature": "sso"}, at=NOW))
        assert _outbox() == [("feature.enabled", str(org.pk))]
        raise RuntimeError("the change fails after its event was emitted")
    assert _outbox() == []
    assert WebhookMessage.objects.count() == 0


def test_events_no_enabled_endpoint_wants_are_not_recorded(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver
) -> None:
    plain = Api(Client())
    plain.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    assert _outbox() == []  # no endpoint at all
    register(api, vendor, receiver.url, ["user.activated"])
    plain.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 12})
    assert _outbox() == []  # an endpoint, but not for order.created
    off = register(api, vendor, receiver.url + "/off", ["order.created"])
    api.patch(f"/webhook-endpoints/{off['id']}", vendor, {"enabled": False})
    plain.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 13})
    assert _outbox() == []  # wanted only by a switched-off endpoint


def test_the_after_commit_publisher_and_a_sweep_publish_an_event_once(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    register(api, vendor, receiver.url, ["order.created"])
    Api(Client()).put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    (recorded,) = OutboxEvent.objects.values_list("pk", flat=True)

    _committed(lambda: publish_recorded([recorded]))  # the publisher that runs after the commit
    assert _committed(lambda: publish_outbox(now=NOW)) == 0  # the sweep finds nothing left
    _committed(lambda: publish_recorded([recorded]))  # run a second time: nothing
    run_worker()
    assert len(receiver.received) == 1
    assert WebhookMessage.objects.count() == 1


def test_a_rollover_records_its_events_in_the_batch_and_publishes_them(
    api: Api, org: Any, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    endpoint = register(api, vendor, receiver.url, ["subscription.renewed", "order.created"])
    july = NOW.replace(year=2027, month=7, day=1)
    # The batch commits in the test's transaction; what runs after a commit does not.
    assert roll_over_subscriptions(now=july).transitions == 1
    assert sorted(_outbox()) == [
        ("order.created", str(org.pk)),
        ("subscription.renewed", str(org.pk)),
    ]
    assert set(OutboxEvent.objects.values_list("occurred_at", flat=True)) == {july}
    # Too many per batch to read in its transaction: read when published (payloads.py).
    assert set(OutboxEvent.objects.values_list("data_snapshot", flat=True)) == {None}

    assert _committed(lambda: publish_outbox(now=july)) == 2
    run_worker()
    payloads = {p["type"]: p for p in (verified(endpoint["secret"], m) for m in receiver.received)}
    assert sorted(payloads) == ["order.created", "subscription.renewed"]
    renewed = payloads["subscription.renewed"]
    assert renewed["timestamp"] == "2027-07-01T10:00:00Z"
    assert renewed["data"]["period"] == {"start": "2027-07-01", "end": "2027-12-31"}
    assert renewed["data"]["subscription"]["current_period"]["period"]["start"] == "2027-07-01"
    order = payloads["order.created"]["data"]["order"]
    assert order["kind"] == "renewal"
    assert order["period"] == {"start": "2027-07-01", "end": "2027-12-31"}
    assert order["created_at"] == "2027-07-01T10:00:00Z"


def test_a_committed_change_is_published_by_a_worker_task(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    register(api, vendor, receiver.url, ["order.created"])
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    (recorded,) = OutboxEvent.objects.values_list("pk", flat=True)
    (task,) = DBTaskResult.objects.filter(task_path__startswith="abonnement.notifications")
    assert task.task_path == "abonnement.notifications.tasks.publish_webhook_events"
    assert task.args_kwargs["kwargs"] == {"outbox_ids": [recorded]}
    assert WebhookMessage.objects.count() == 0  # the request did not wait for the publishing

    run_worker()
    assert len(receiver.received) == 1
    assert _outbox() == []


# --------------------------------------------------------------------------- snapshots
# A payload reports the state the event reports: its data is read in the transaction of the
# change, not when a worker publishes it, however long that takes.


def test_payloads_show_the_state_of_their_change_not_of_the_publishing(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    endpoint = register(
        api, vendor, receiver.url, ["subscription.updated", "user.activated", "user.deactivated"]
    )
    created = api.post(
        f"/organizations/{org.pk}/users", writer, {"email": "u@t.example", "name": "Ursula"}
    )
    user_id = created.body["user"]["id"]
    deactivated = api.post(
        f"/organizations/{org.pk}/users/{user_id}/deactivate", writer, {"license": "keep"}
    )
    assert deactivated.status == 200
    twelve = api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 12})
    fourteen = api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 14})
    assert WebhookMessage.objects.count() == 0  # nothing published yet: the worker runs now
    run_worker()

    payloads = [verified(endpoint["secret"], m) for m in receiver.received]
    assert [p["type"] for p in payloads] == [
        "user.activated",
        "user.deactivated",
        "subscription.updated",
        "subscription.updated",
    ]
    activated, gone, at_twelve, at_fourteen = (p["data"] for p in payloads)
    assert activated["user"] == {
        "id": user_id,
        "email": "u@t.example",
        "name": "Ursula",
        "active": True,
        "permissions": [],
        # Created over the API, so invited (the default), and not signed in yet.
        "invited_at": "2027-01-15T10:00:00Z",
        "last_sign_in_at": None,
    }
    assert gone["user"] == {**activated["user"], "active": False}
    assert at_twelve["subscription"]["current_period"]["licenses"] == 12
    assert at_fourteen["subscription"]["current_period"]["licenses"] == 14
    assert at_twelve["subscription"] == twelve.body["subscription"]
    assert at_fourteen["subscription"] == fourteen.body["subscription"]
    assert {p["timestamp"] for p in payloads} == {"2027-01-15T10:00:00Z"}


def test_a_snapshot_is_sent_as_the_presenters_wrote_it(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    register(api, vendor, receiver.url, ["subscription.updated"])
    Api(Client()).put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 12})
    (row,) = OutboxEvent.objects.all()
    assert row.data_snapshot is not None
    snapshot = json.loads(row.data_snapshot)
    assert list(snapshot) == ["organization_id", "subscription"]
    assert snapshot["subscription"]["current_period"]["licenses"] == 12
    _publish_now()
    run_worker()
    (message,) = receiver.received
    body = message.body.decode()
    assert body.endswith(',"data":' + row.data_snapshot + "}")  # byte for byte, keys in order
    assert body.startswith('{"type":"subscription.updated","timestamp":"2027-01-15T10:00:00Z",')


def test_an_outbox_row_written_before_snapshots_existed_is_read_when_published(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    created = api.post(
        f"/organizations/{org.pk}/users", writer, {"email": "u@t.example", "name": "Ursula"}
    )
    endpoint = register(api, vendor, receiver.url, ["user.activated", "subscription.updated"])
    user_id = created.body["user"]["id"]
    # As the migration leaves them: the event's own data, no snapshot.
    OutboxEvent.objects.bulk_create(
        [
            OutboxEvent(
                event_type="user.activated",
                organization_id=org.pk,
                data={"user_id": user_id},
                occurred_at=NOW,
            ),
            OutboxEvent(
                event_type="subscription.updated",
                organization_id=org.pk,
                data={},
                occurred_at=NOW,
            ),
        ]
    )
    assert list(OutboxEvent.objects.values_list("data_snapshot", flat=True)) == [None, None]
    shown = api.get(f"/organizations/{org.pk}/subscription", writer).body

    assert _committed(lambda: publish_outbox(now=NOW)) == 2
    run_worker()
    payloads = {p["type"]: p for p in (verified(endpoint["secret"], m) for m in receiver.received)}
    assert sorted(payloads) == ["subscription.updated", "user.activated"]
    assert payloads["user.activated"]["data"] == {
        "organization_id": str(org.pk),
        "user": created.body["user"],
    }
    assert payloads["subscription.updated"]["data"] == {
        "organization_id": str(org.pk),
        "subscription": shown,
    }
    assert payloads["subscription.updated"]["timestamp"] == "2027-01-15T10:00:00Z"
    assert _outbox() == []


def test_snapshots_of_a_batch_take_a_fixed_number_of_queries(
    api: Api, catalog: None, vendor: str, receiver: Receiver
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from abonnement.accounts.models import User
    from abonnement.notifications.services import record_events
    from tests.conftest import make_organization

    register(
        api,
        vendor,
        receiver.url,
        ["subscription.updated", "feature.enabled", "user.activated", "organization.created"],
    )
    orgs = [make_organization(name=f"Org {i}", admin_email=f"admin{i}@t.example") for i in range(4)]
    OutboxEvent.objects.all().delete()

    def events(organizations: list[Any]) -> list[Event]:
        return [
            event
            for o in organizations
            for event in (
                Event("organization.created", str(o.pk), {}, at=NOW),
                Event("subscription.updated", str(o.pk), {}, at=NOW),
                Event("feature.enabled", str(o.pk), {"feature": "sso"}, at=NOW),
                Event(
                    "user.activated",
                    str(o.pk),
                    {"user_id": str(User.objects.get(organization=o).pk)},
                    at=NOW,
                ),
            )
        ]

    counts = []
    for organizations in (orgs[:1], orgs):
        batch = events(organizations)
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            record_events(batch)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert OutboxEvent.objects.filter(data_snapshot__isnull=True).count() == 0
    assert OutboxEvent.objects.count() == 5 * 4


def test_feature_snapshots_read_in_a_batch_match_the_feature_states(
    api: Api, org: Any, writer: str
) -> None:
    from abonnement.features.schemas import feature_out
    from abonnement.features.selectors import feature_states
    from abonnement.notifications.payloads import build_data
    from abonnement.subscriptions.selectors import get_subscription

    api.put(f"/organizations/{org.pk}/features/sso", writer, {"enabled": True})
    expected = {
        state.feature.code: feature_out(state)
        for state in feature_states(subscription=get_subscription(org.pk))
    }
    codes = sorted(expected)
    data = build_data(
        [Event("feature.enabled", str(org.pk), {"feature": c}, at=NOW) for c in codes]
    )
    assert [d["feature"] for d in data] == [expected[c] for c in codes]
    assert expected["sso"]["enabled"] is True
