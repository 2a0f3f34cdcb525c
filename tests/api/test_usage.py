"""The storage in use, reported by the vendor's product (API-next.md "Subscription":
``PUT /api/v1/organizations/{org}/usage``), shown by the subscription's answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from abonnement.history.models import HistoryEntry
from abonnement.subscriptions.models import Subscription
from tests.api.conftest import Api
from tests.conftest import NOW

USAGE = "/organizations/{org}/usage"


def usage_path(org: Any) -> str:
    return USAGE.format(org=org.pk)


def stored(org: Any) -> tuple[Decimal, Any, Any, int]:
    subscription = Subscription.objects.get(organization=org)
    return (
        subscription.storage_used_gb,
        subscription.storage_reported_at,
        subscription.updated_at,
        HistoryEntry.objects.filter(organization=org).count(),
    )


def current_storage(api: Api, org: Any, token: str) -> dict[str, Any]:
    reply = api.get(f"/organizations/{org.pk}/subscription", token)
    assert reply.status == 200
    storage: dict[str, Any] = reply.body["current_period"]["storage"]
    assert reply.body["next_period"]["storage"]["used_gb"] is None
    assert reply.body["next_period"]["storage"]["reported_at"] is None
    return storage


def test_before_any_report_the_subscription_says_not_reported(
    api: Api, org: Any, writer: str
) -> None:
    assert current_storage(api, org, writer) == {
        "included_gb": 100,
        "extra_gb": 0,
        "total_gb": 100,
        "used_gb": None,
        "reported_at": None,
    }


def test_the_vendor_reports_and_the_subscription_shows_it(
    api: Api, org: Any, vendor: str, writer: str
) -> None:
    _used, _at, updated_at, history = stored(org)
    reply = api.put(usage_path(org), vendor, {"storage_used_gb": 12.345})
    assert reply.status == 200
    assert reply.body["current_period"]["storage"] == {
        "included_gb": 100,
        "extra_gb": 0,
        "total_gb": 100,
        "used_gb": 12.345,
        "reported_at": "2027-01-15T10:00:00Z",
    }
    assert current_storage(api, org, writer)["used_gb"] == 12.345
    # A measurement, not a change of the contract: no history entry, and the state a
    # confirmation is checked against stays as it was.
    assert stored(org) == (Decimal("12.345"), NOW, updated_at, history)


def test_a_later_report_replaces_the_earlier_one(
    api: Api, org: Any, vendor: str, settings: Any
) -> None:
    from datetime import timedelta

    from abonnement.core.models import SimulatedClock

    assert api.put(usage_path(org), vendor, {"storage_used_gb": 40}).status == 200
    SimulatedClock.objects.filter(pk=1).update(now=NOW + timedelta(hours=1))
    reply = api.put(usage_path(org), vendor, {"storage_used_gb": "0"})
    assert reply.status == 200
    assert reply.body["current_period"]["storage"]["used_gb"] == 0.0
    assert reply.body["current_period"]["storage"]["reported_at"] == "2027-01-15T11:00:00Z"
    assert stored(org)[0] == Decimal("0.000")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "The storage in use cannot be negative."),
        (-0.001, "The storage in use cannot be negative."),
        (1_000_000_000, "The storage in use can be at most 999999999.999 GB."),
        (1.0005, "Give the storage in use with at most 3 decimals."),
        ("1e-9", "Give the storage in use with at most 3 decimals."),
    ],
)
def test_a_figure_out_of_bounds_is_refused_per_field(
    api: Api, org: Any, vendor: str, value: Any, message: str
) -> None:
    before = stored(org)
    reply = api.put(usage_path(org), vendor, {"storage_used_gb": value})
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"] == [{"field": "storage_used_gb", "message": message}]
    assert stored(org) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"storage_used_gb": None},
        {"storage_used_gb": "lots"},
        {"storage_used_gb": True},
        {"storage_used_gb": [1]},
        {"storage_used_gb": "NaN"},
        {"storage_used_gb": "Infinity"},
    ],
)
def test_a_body_that_is_not_a_figure_is_refused(
    api: Api, org: Any, vendor: str, body: dict[str, Any]
) -> None:
    before = stored(org)
    reply = api.put(usage_path(org), vendor, body)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert {error["field"] for error in reply.body["errors"]} == {"storage_used_gb"}
    assert stored(org) == before


def test_only_the_vendor_reports(
    api: Api, org: Any, writer: str, stranger: str, vendor: str
) -> None:
    before = stored(org)
    body = {"storage_used_gb": 5}
    assert api.put(usage_path(org), None, body).status == 401
    assert api.put(usage_path(org), writer, body).status == 403
    # The organisation's own token learns that it may not, before anything about the body.
    assert api.put(usage_path(org), writer, {"storage_used_gb": -1}).status == 403
    assert api.put(usage_path(org), stranger, body).status == 404
    assert (
        api.put(USAGE.format(org="00000000-0000-0000-0000-000000000000"), vendor, body).status
        == 404
    )
    assert stored(org) == before
