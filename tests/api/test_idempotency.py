"""Idempotency-Key (API.md "Conventions"): a retry returns the first answer and changes
nothing; the same key with another body is 422; a key still in flight is 409."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from abonnement.accounts.models import ApiToken
from abonnement.core import clock
from abonnement.core.models import SimulatedClock
from abonnement.idempotency.models import IdempotencyRecord
from abonnement.idempotency.services import claim_key
from abonnement.orders.models import Order
from abonnement.subscriptions.models import Subscription
from tests.api.conftest import Api
from tests.conftest import NOW


def buy(api: Api, org: Any, token: str, licenses: int, key: str | None = "k-1") -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.put(
        f"/organizations/{org.pk}/subscription/licenses",
        token,
        {"licenses": licenses},
        headers=headers,
    )


def licence_orders(org: Any) -> int:
    return Order.objects.filter(organization=org, kind="licenses").count()


def test_a_replay_returns_the_identical_answer_and_buys_once(
    api: Api, org: Any, writer: str
) -> None:
    first = buy(api, org, writer, 13)
    assert first.status == 200
    assert "Idempotent-Replayed" not in first.headers
    assert first.body["order"]["total"] == "332.15"
    replay = buy(api, org, writer, 13)
    assert replay.status == 200
    assert replay.content == first.content
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["Content-Type"] == first.headers["Content-Type"]
    assert licence_orders(org) == 1
    subscription = Subscription.objects.get(organization=org)
    assert (subscription.licenses, subscription.licenses_next) == (13, 13)


def test_json_spacing_and_key_order_do_not_make_another_request(
    api: Api, org: Any, writer: str
) -> None:
    path = f"/organizations/{org.pk}/users"
    headers = {"Idempotency-Key": "user-1"}
    first = api.post(path, writer, raw=b'{"email": "c@t.example", "name": "C"}', headers=headers)
    again = api.post(path, writer, raw=b'{"name":"C","email":"c@t.example"}', headers=headers)
    assert (first.status, again.status) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content


def test_the_same_key_with_another_body_is_refused(api: Api, org: Any, writer: str) -> None:
    assert buy(api, org, writer, 13).status == 200
    reused = buy(api, org, writer, 14)
    assert (reused.status, reused.code) == (422, "idempotency_key_reused")
    assert licence_orders(org) == 1
    assert Subscription.objects.get(organization=org).licenses == 13


def test_the_same_key_on_another_path_is_refused(api: Api, org: Any, writer: str) -> None:
    assert buy(api, org, writer, 13).status == 200
    other = api.put(
        f"/organizations/{org.pk}/subscription/storage",
        writer,
        {"licenses": 13},
        headers={"Idempotency-Key": "k-1"},
    )
    assert (other.status, other.code) == (422, "idempotency_key_reused")


def test_keys_belong_to_one_token(api: Api, org: Any, writer: str, vendor: str) -> None:
    assert buy(api, org, writer, 13).status == 200
    second = buy(api, org, vendor, 15)
    assert second.status == 200
    assert "Idempotent-Replayed" not in second.headers
    assert licence_orders(org) == 2


def test_a_request_in_flight_is_409(api: Api, org: Any, writer: str) -> None:
    token = ApiToken.objects.get(organization=org, name="Product backend")
    from django.test import RequestFactory

    from abonnement.config.api_idempotency import fingerprint

    request = RequestFactory().put(
        f"/api/v1/organizations/{org.pk}/subscription/licenses",
        data=b'{"licenses": 13}',
        content_type="application/json",
    )
    claim_key(token_id=token.pk, key="k-1", fingerprint=fingerprint(request), now=timezone.now())
    busy = buy(api, org, writer, 13)
    assert (busy.status, busy.code) == (409, "idempotency_in_progress")
    assert licence_orders(org) == 0


def test_a_refusal_is_kept_and_replayed_too(api: Api, org: Any, writer: str) -> None:
    from tests.conftest import add_users

    add_users(org, 5)
    refused = buy(api, org, writer, 3)
    assert (refused.status, refused.code) == (409, "below_active_users")
    again = buy(api, org, writer, 3)
    assert again.content == refused.content
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_key_lasts_24_real_hours(api: Api, org: Any, writer: str, monkeypatch: Any) -> None:
    before = timezone.now()
    assert buy(api, org, writer, 13).status == 200
    record = IdempotencyRecord.objects.get()
    assert before <= record.created_at <= timezone.now()
    assert record.expires_at - record.created_at == timedelta(hours=24)
    almost = record.created_at + timedelta(hours=24) - timedelta(seconds=1)
    monkeypatch.setattr(clock, "real_now", lambda: almost)
    replay = buy(api, org, writer, 13)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert licence_orders(org) == 1
    monkeypatch.setattr(clock, "real_now", lambda: record.created_at + timedelta(hours=24))
    fresh = buy(api, org, writer, 14)
    assert fresh.status == 200
    assert "Idempotent-Replayed" not in fresh.headers
    assert licence_orders(org) == 2
    assert Subscription.objects.get(organization=org).licenses == 14
    assert IdempotencyRecord.objects.count() == 1


def test_moving_the_business_clock_does_not_expire_a_key(
    api: Api, org: Any, writer: str, vendor: str
) -> None:
    first = buy(api, org, writer, 13)
    assert first.status == 200
    later = NOW + timedelta(days=2)
    moved = api.post("/clock", vendor, {"now": later.isoformat()})
    assert moved.status == 200, moved.content
    assert SimulatedClock.objects.get(pk=1).now == later
    replay = buy(api, org, writer, 13)
    assert replay.status == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.content == first.content
    assert licence_orders(org) == 1
    subscription = Subscription.objects.get(organization=org)
    assert (subscription.licenses, subscription.licenses_next) == (13, 13)
    record = IdempotencyRecord.objects.get()
    assert record.created_at <= timezone.now() < record.expires_at


def test_an_unauthenticated_or_refused_scope_request_keeps_nothing(
    api: Api, org: Any, reader: str
) -> None:
    assert buy(api, org, None, 13).status == 401  # type: ignore[arg-type]
    assert buy(api, org, reader, 13).status == 403
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tkey"], ids=["empty", "too-long", "control"])
def test_a_bad_key_is_a_validation_error(api: Api, org: Any, writer: str, key: str) -> None:
    reply = buy(api, org, writer, 13, key=key)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"][0]["field"] == "Idempotency-Key"
    assert licence_orders(org) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent writers (DATABASE_URL)"
)
def test_two_concurrent_requests_with_one_key_buy_once(clock: None, catalog: None) -> None:
    from tests.api.conftest import org_token
    from tests.conftest import make_organization

    org = make_organization()
    token = org_token(org, ["read", "write"])
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def request() -> None:
        try:
            barrier.wait()
            statuses.append(buy(Api(Client()), org, token, 13).status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) in ([200, 200], [200, 409])
    assert licence_orders(org) == 1
    assert Subscription.objects.get(organization=org).licenses == 13


DEEP = b'{"licenses": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.mark.parametrize("key", [None, "deep-1"], ids=["without-key", "with-key"])
@pytest.mark.parametrize(
    "path", ["subscription/licenses/preview", "subscription/licenses"], ids=["preview", "buy"]
)
def test_a_body_nested_too_deep_for_json_is_malformed_with_or_without_a_key(
    api: Api, org: Any, writer: str, key: str | None, path: str
) -> None:
    headers = {"Idempotency-Key": key} if key else {}
    method = api.post if path.endswith("preview") else api.put
    reply = method(f"/organizations/{org.pk}/{path}", writer, raw=DEEP, headers=headers)
    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.body["code"] == "malformed_request"
    assert reply.body["status"] == 400
    assert licence_orders(org) == 0
    subscription = Subscription.objects.get(organization=org)
    assert (subscription.licenses, subscription.licenses_next) == (10, 10)


def test_a_retry_of_a_body_too_deep_replays_the_refusal(api: Api, org: Any, writer: str) -> None:
    path = f"/organizations/{org.pk}/subscription/licenses"
    headers = {"Idempotency-Key": "deep-2"}
    first = api.put(path, writer, raw=DEEP, headers=headers)
    again = api.put(path, writer, raw=DEEP, headers=headers)
    assert (first.status, again.status) == (400, 400)
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    other = api.put(path, writer, {"licenses": 13}, headers=headers)
    assert (other.status, other.code) == (422, "idempotency_key_reused")
    assert licence_orders(org) == 0


def test_the_migration_restamps_business_clock_keys_instead_of_forgetting_them(
    db: Any,
) -> None:
    import importlib

    from django.apps import apps

    from abonnement.accounts.services import create_vendor_token
    from tests.conftest import NOW, VENDOR

    migration = importlib.import_module(
        "abonnement.idempotency.migrations.0002_forget_business_clock_stamps"
    )
    token = create_vendor_token(name="CI", actor=VENDOR, now=NOW).token
    now = timezone.now()
    ahead = now + timedelta(days=400)  # stamped by a simulated clock running ahead
    fresh = now - timedelta(hours=1)  # stamped in real time: left as it is
    IdempotencyRecord.objects.create(
        token=token, key="ahead", fingerprint="f", created_at=ahead, expires_at=ahead
    )
    IdempotencyRecord.objects.create(
        token=token,
        key="fresh",
        fingerprint="f",
        created_at=fresh,
        expires_at=fresh + timedelta(hours=24),
    )
    migration.restamp_future_stamps(apps, None)
    restamped = IdempotencyRecord.objects.get(key="ahead")
    assert now <= restamped.created_at <= timezone.now()
    assert restamped.expires_at - restamped.created_at == timedelta(hours=24)
    kept = IdempotencyRecord.objects.get(key="fresh")
    assert (kept.created_at, kept.expires_at) == (fresh, fresh + timedelta(hours=24))
