"""Orders, history and the catalogue over the API (API.md); invoices and the order
confirmation are in test_invoices.py."""

from __future__ import annotations

from typing import Any

import pytest

from abonnement.orders.models import Order
from tests.api.conftest import Api, org_token
from tests.conftest import make_organization


def test_orders_list_and_detail(api: Api, org: Any, writer: str, stranger: str) -> None:
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    listed = api.get(f"/organizations/{org.pk}/orders", writer).body
    assert [o["number"] for o in listed["data"]] == [3, 1]
    renewal = listed["data"][1]
    assert renewal == {
        "id": str(Order.objects.get(organization=org, kind="renewal").pk),
        "number": 1,
        "created_at": "2027-01-15T10:00:00Z",
        "kind": "renewal",
        "lines": [
            {
                "description": "User licences, Pro × 10 × 6 months",
                "quantity": "60",
                "unit_price": "20.00",
                "amount": "1200.00",
                "period": {"start": "2027-01-01", "end": "2027-06-30"},
            }
        ],
        "total": "1200.00",
        "currency": "EUR",
        "period": {"start": "2027-01-01", "end": "2027-06-30"},
    }
    one = api.get(f"/organizations/{org.pk}/orders/{renewal['id']}", writer)
    assert one.body == renewal
    assert api.get(f"/organizations/{org.pk}/orders/{renewal['id']}", stranger).status == 404
    page = api.get(f"/organizations/{org.pk}/orders?limit=1", writer).body
    rest = api.get(f"/organizations/{org.pk}/orders?limit=1&cursor={page['next_cursor']}", writer)
    assert [o["number"] for o in page["data"] + rest.body["data"]] == [3, 1]


def test_history_with_filters_and_cursor(api: Api, org: Any, writer: str) -> None:
    base = f"/organizations/{org.pk}"
    api.put(f"{base}/subscription/licenses", writer, {"licenses": 11})
    api.put(f"{base}/features/sso", writer, {"enabled": True})
    licenses = api.get(f"{base}/history?kind=licenses", writer).body
    (entry,) = licenses["data"]
    entry.pop("id")
    assert entry == {
        "at": "2027-01-15T10:00:00Z",
        "actor": {"type": "token", "name": "Product backend"},
        "channel": "api",
        "kind": "licenses",
        "action": "licenses_bought",
        "subject": "licenses",
        "before": {"current": 10, "next": 10},
        "after": {"current": 11, "next": 11},
        "reason": "Order 2",
    }
    features = api.get(f"{base}/history?kind=features", writer).body["data"]
    assert [(e["action"], e["subject"]) for e in features] == [("enabled", "sso")]
    everything = api.get(f"{base}/history", writer).body["data"]
    seen = []
    cursor = None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        page = api.get(f"{base}/history{query}", writer).body
        seen.extend(e["id"] for e in page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in everything]
    assert len(seen) == len(set(seen)) >= 5
    wrong = api.get(f"{base}/history?kind=money", writer)
    assert (wrong.status, wrong.body["errors"][0]["field"]) == (422, "kind")


def test_the_catalogue_with_the_prices_in_force(api: Api, catalog: None, vendor: str) -> None:
    now = api.get("/catalog", vendor).body
    assert now["prices_on"] == "2027-01-15"
    assert now["period_months"] == [1, 3, 6, 12]
    assert now["currencies"] == ["EUR", "SEK"]
    pro = next(e for e in now["editions"] if e["code"] == "pro")
    assert pro == {
        "code": "pro",
        "name": "Pro",
        "license_prices": {"EUR": "20.00", "SEK": "220.00"},
        "included_storage_gb": 100,
        "features": {
            "reports": "included",
            "api": "included",
            "sso": "add_on",
            "scim": "add_on",
            "slack": "included",
            "crm": "add_on",
        },
    }
    scim = next(f for f in now["features"] if f["code"] == "scim")
    assert scim == {
        "code": "scim",
        "name": "SCIM",
        "kind": "feature",
        "requires": ["sso"],
        "add_on_prices": {"EUR": "3.00", "SEK": "33.00"},
    }
    assert now["storage_packs"] == [
        {"code": "storage-50", "gb": 50, "prices": {"EUR": "4.00", "SEK": "44.00"}}
    ]
    # The July list raises the EUR prices only; SEK keeps the earlier list's price.
    later = api.get("/catalog?at=2027-07-01", vendor).body
    assert next(e for e in later["editions"] if e["code"] == "pro")["license_prices"] == {
        "EUR": "21.00",
        "SEK": "220.00",
    }
    assert later["currencies"] == ["EUR", "SEK"]


# --------------------------------------------------------------------------- channel

MARKETPLACE = {"type": "marketplace", "name": "Nordic Apps", "url": "https://apps.example/x"}


@pytest.fixture
def market(catalog: None) -> Any:
    """An organisation that bought through a partner marketplace."""
    return make_organization(
        name="Markt Oy", admin_email="admin@markt.example", purchase_channel=MARKETPLACE
    )


def last_entry(api: Api, org: Any, token: str, kind: str) -> dict[str, Any]:
    return api.get(f"/organizations/{org.pk}/history?kind={kind}", token).body["data"][0]


def test_a_vendor_call_on_a_marketplace_organisation_is_the_marketplaces(
    api: Api, market: Any, vendor: str
) -> None:
    """Rule 6: only the marketplace's own (vendor) calls change it, so history says so."""
    bought = api.put(f"/organizations/{market.pk}/subscription/licenses", vendor, {"licenses": 12})
    assert bought.status == 200, bought.content
    entry = last_entry(api, market, vendor, "licenses")
    assert (entry["action"], entry["actor"], entry["channel"], entry["after"]) == (
        "licenses_bought",
        {"type": "token", "name": "Vendor CRM"},
        "marketplace",
        {"current": 12, "next": 12},
    )


def test_the_same_vendor_call_on_a_direct_organisation_is_the_apis(
    api: Api, org: Any, vendor: str
) -> None:
    bought = api.put(f"/organizations/{org.pk}/subscription/licenses", vendor, {"licenses": 12})
    assert bought.status == 200, bought.content
    entry = last_entry(api, org, vendor, "licenses")
    assert (entry["action"], entry["actor"], entry["channel"]) == (
        "licenses_bought",
        {"type": "token", "name": "Vendor CRM"},
        "api",
    )


def test_the_customers_own_token_on_a_marketplace_organisation_is_the_apis(
    api: Api, market: Any
) -> None:
    """Included features still switch on a marketplace organisation; the customer's token is
    not the marketplace."""
    token = org_token(market, ["read", "write"])
    switched = api.put(f"/organizations/{market.pk}/features/slack", token, {"enabled": False})
    assert switched.status == 200, switched.content
    entry = last_entry(api, market, token, "features")
    assert (entry["action"], entry["subject"], entry["actor"], entry["channel"]) == (
        "disabled",
        "slack",
        {"type": "token", "name": "Product backend"},
        "api",
    )
