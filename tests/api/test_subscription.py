"""The subscription over the API (API.md "Subscription", "Clock")."""

from __future__ import annotations

from typing import Any

from abonnement.history.models import HistoryEntry
from abonnement.orders.models import Order
from abonnement.subscriptions.models import Subscription
from tests.api.conftest import Api
from tests.conftest import add_users

CURRENT = {"start": "2027-01-01", "end": "2027-06-30"}
NEXT = {"start": "2027-07-01", "end": "2027-12-31"}
PRO = {"code": "pro", "name": "Pro"}


def period(
    dates: dict[str, str],
    *,
    licenses: int,
    monthly: str,
    total: str,
    free: int | None = None,
    extra_gb: int = 0,
    used: float | None = None,
    edition: dict[str, str] = PRO,
    included_gb: int = 100,
) -> dict[str, Any]:
    return {
        "period": dates,
        "edition": edition,
        "licenses": licenses,
        "free_licenses": free,
        "storage": {
            "included_gb": included_gb,
            "extra_gb": extra_gb,
            "total_gb": included_gb + extra_gb,
            "used_gb": used,
            "reported_at": None,
        },
        "add_ons": [],
        "monthly_price": monthly,
        "total_price": total,
    }


def overview(org: Any, current: dict[str, Any], following: dict[str, Any]) -> dict[str, Any]:
    return {
        "organization_id": str(org.pk),
        "currency": "EUR",
        "purchase_channel": {"type": "direct", "name": None, "url": None},
        "managed_by_marketplace": False,
        "period_months": 6,
        "active_users": 1,
        "change_deadline": "2027-06-30T20:59:59.999Z",
        "current_period": current,
        "next_period": following,
    }


def state(org: Any) -> tuple[int, int, int, int]:
    subscription = Subscription.objects.get(organization=org)
    return (
        subscription.licenses,
        subscription.licenses_next,
        Order.objects.filter(organization=org).count(),
        HistoryEntry.objects.filter(organization=org).count(),
    )


def test_the_overview_shows_both_periods(api: Api, org: Any, writer: str) -> None:
    reply = api.get(f"/organizations/{org.pk}/subscription", writer)
    assert reply.status == 200
    assert reply.body == overview(
        org,
        period(CURRENT, licenses=10, free=9, monthly="200.00", total="1200.00"),
        # The next period uses the price list in force from 2027-07-01 (Rule 7).
        period(NEXT, licenses=10, monthly="210.00", total="1260.00"),
    )


def test_raising_licences_buys_the_difference_pro_rata(api: Api, org: Any, writer: str) -> None:
    reply = api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 13})
    assert reply.status == 200
    order = reply.body["order"]
    order_id = order.pop("id")
    assert order == {
        "number": 2,
        "created_at": "2027-01-15T10:00:00Z",
        "kind": "licenses",
        "lines": [
            {
                "description": "User licences, Pro × 3, 2027-01-15–2027-06-30 (167/181 days)",
                "quantity": "3",
                "unit_price": "20.00",
                "amount": "332.15",
                "period": {"start": "2027-01-15", "end": "2027-06-30"},
            }
        ],
        "total": "332.15",
        "currency": "EUR",
        "period": CURRENT,
    }
    assert Order.objects.get(pk=order_id).total == order_total("332.15")
    assert reply.body["subscription"] == overview(
        org,
        period(CURRENT, licenses=13, free=12, monthly="260.00", total="1560.00"),
        period(NEXT, licenses=13, monthly="273.00", total="1638.00"),
    )
    entry = HistoryEntry.objects.get(organization=org, kind="licenses")
    assert (entry.actor_type, entry.actor_name, entry.channel, entry.reason) == (
        "token",
        "Product backend",
        "api",
        "Order 2",
    )


def order_total(text: str) -> Any:
    from decimal import Decimal

    return Decimal(text)


def test_lowering_licences_applies_next_period(api: Api, org: Any, writer: str) -> None:
    reply = api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 7})
    assert reply.status == 200
    assert reply.body["order"] is None
    assert reply.body["subscription"]["current_period"]["licenses"] == 10
    assert reply.body["subscription"]["next_period"]["licenses"] == 7
    assert reply.body["subscription"]["next_period"]["monthly_price"] == "147.00"


def test_licences_below_active_users_are_refused(api: Api, org: Any, writer: str) -> None:
    add_users(org, 4)
    before = state(org)
    reply = api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 4})
    assert (reply.status, reply.code, reply.body["active_users"]) == (
        409,
        "below_active_users",
        5,
    )
    preview = api.post(
        f"/organizations/{org.pk}/subscription/licenses/preview", writer, {"licenses": 4}
    )
    assert (preview.status, preview.code) == (409, "below_active_users")
    assert state(org) == before


def test_the_licence_preview_commits_nothing(api: Api, org: Any, reader: str) -> None:
    before = state(org)
    reply = api.post(
        f"/organizations/{org.pk}/subscription/licenses/preview", reader, {"licenses": 13}
    )
    assert reply.status == 200
    assert reply.body == {
        "currency": "EUR",
        "charge_now": "332.15",
        "charged_period": {"start": "2027-01-15", "end": "2027-06-30"},
        "days": 167,
        "period_days": 181,
        "current_period": period(CURRENT, licenses=13, free=12, monthly="260.00", total="1560.00"),
        "next_period": period(NEXT, licenses=13, monthly="273.00", total="1638.00"),
    }
    assert state(org) == before


def test_negative_licences_are_a_validation_error(api: Api, org: Any, writer: str) -> None:
    reply = api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": -1})
    assert reply.status == 422
    assert reply.body["errors"] == [
        {"field": "licenses", "message": "The number cannot be negative."}
    ]


def test_storage_packs_follow_the_licence_timing(api: Api, org: Any, writer: str) -> None:
    preview = api.post(
        f"/organizations/{org.pk}/subscription/storage/preview", writer, {"extra_packs": 2}
    )
    # 2 packs × 4.00 × 6 months × 167 / 181 days = 44.287… → 44.29
    assert (preview.body["charge_now"], preview.body["days"]) == ("44.29", 167)
    bought = api.put(f"/organizations/{org.pk}/subscription/storage", writer, {"extra_packs": 2})
    assert bought.body["order"]["total"] == "44.29"
    assert bought.body["order"]["kind"] == "storage"
    current = bought.body["subscription"]["current_period"]
    assert current["storage"] == {
        "included_gb": 100,
        "extra_gb": 100,
        "total_gb": 200,
        "used_gb": None,
        "reported_at": None,
    }
    assert current["monthly_price"] == "208.00"
    lowered = api.put(f"/organizations/{org.pk}/subscription/storage", writer, {"extra_packs": 0})
    assert lowered.body["order"] is None
    assert lowered.body["subscription"]["next_period"]["storage"]["extra_gb"] == 0
    assert lowered.body["subscription"]["current_period"]["storage"]["extra_gb"] == 100


def test_an_edition_request_is_created_and_listed(api: Api, org: Any, writer: str) -> None:
    made = api.post(
        f"/organizations/{org.pk}/edition-requests",
        writer,
        {"edition": "enterprise", "message": "We need SSO included."},
    )
    assert made.status == 201
    request_id = made.body.pop("id")
    assert made.body == {
        "edition": {"code": "enterprise", "name": "Enterprise"},
        "message": "We need SSO included.",
        "status": "open",
        "response": "",
        "requested_by": "Product backend",
        "created_at": "2027-01-15T10:00:00Z",
        "decided_at": None,
    }
    listed = api.get(f"/organizations/{org.pk}/edition-requests", writer).body
    assert [r["id"] for r in listed["data"]] == [request_id]
    assert listed["next_cursor"] is None
    same = api.post(f"/organizations/{org.pk}/edition-requests", writer, {"edition": "pro"})
    assert (same.status, same.code) == (422, "validation_error")
    unknown = api.post(f"/organizations/{org.pk}/edition-requests", writer, {"edition": "gold"})
    assert unknown.body["errors"] == [
        {"field": "edition", "message": "There is no edition “gold”."}
    ]


def test_the_vendor_schedules_and_cancels_the_next_edition(api: Api, org: Any, vendor: str) -> None:
    path = f"/organizations/{org.pk}/subscription/next-edition"
    scheduled = api.put(path, vendor, {"edition": "enterprise"})
    assert scheduled.status == 200
    assert scheduled.body["current_period"]["edition"] == PRO
    assert scheduled.body["next_period"] == period(
        NEXT,
        licenses=10,
        monthly="360.00",
        total="2160.00",
        edition={"code": "enterprise", "name": "Enterprise"},
        included_gb=1000,
    )
    cancelled = api.delete(path, vendor)
    assert cancelled.body["next_period"]["edition"] == PRO
    again = api.delete(path, vendor)
    assert (again.status, again.code) == (422, "validation_error")


def test_the_clock_moves_forward_and_rolls_periods_over(
    api: Api, org: Any, vendor: str, writer: str
) -> None:
    assert api.get("/clock", writer).body == {"now": "2027-01-15T10:00:00Z"}
    moved = api.post("/clock", vendor, {"now": "2027-07-01T08:00:00+03:00"})
    assert moved.body == {
        "now": "2027-07-01T05:00:00Z",
        "transitions": 1,
        "subscriptions": 1,
        "orders": 1,
    }
    current = api.get(f"/organizations/{org.pk}/subscription", writer).body["current_period"]
    assert current["period"] == NEXT
    assert current["monthly_price"] == "210.00"
    back = api.post("/clock", vendor, {"now": "2027-01-01T00:00:00Z"})
    assert (back.status, back.code) == (422, "validation_error")
    far = api.post("/clock", vendor, {"now": "2099-01-01T00:00:00Z"})
    assert (far.status, far.body["errors"][0]["field"]) == (422, "now")


def test_the_clock_is_not_there_when_it_is_real(api: Api, vendor: str, settings: Any) -> None:
    settings.SIMULATED_CLOCK = False
    assert api.get("/clock", vendor).status == 404
    assert api.post("/clock", vendor, {"now": "2030-01-01T00:00:00Z"}).code == "not_found"
