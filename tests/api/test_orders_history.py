"""Orders, history and the catalogue over the API (API.md); invoices and the order
confirmation are in test_invoices.py."""

from __future__ import annotations

from typing import Any

from abonnement.orders.models import Order
from tests.api.conftest import Api


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
