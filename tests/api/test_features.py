"""Features, integrations and entitlements over the API (API.md "Features and integrations")."""

from __future__ import annotations

from typing import Any

from abonnement.features.models import FeatureSwitch
from abonnement.orders.models import Order
from tests.api.conftest import Api
from tests.conftest import make_organization


def feature(code: str, **values: Any) -> dict[str, Any]:
    return {"code": code} | values


def test_features_show_their_state_for_the_organisation(api: Api, org: Any, writer: str) -> None:
    reply = api.get(f"/organizations/{org.pk}/features", writer)
    assert reply.status == 200
    by_code = {f["code"]: f for f in reply.body["data"]}
    assert reply.body["next_cursor"] is None
    assert [f["code"] for f in reply.body["data"]] == [
        "reports",
        "api",
        "sso",
        "scim",
        "slack",
        "crm",
    ]
    assert by_code["sso"] == {
        "code": "sso",
        "name": "Single sign-on",
        "kind": "feature",
        "availability": "add_on",
        "enabled": False,
        "monthly_price": "8.00",
        "requires": [],
        "available_in": ["pro", "enterprise"],
    }
    assert by_code["scim"]["requires"] == ["sso"]
    assert by_code["slack"] | {} == {
        "code": "slack",
        "name": "Slack",
        "kind": "integration",
        "availability": "included",
        "enabled": True,
        "monthly_price": None,
        "requires": [],
        "available_in": ["basic", "pro", "enterprise"],
    }


def test_switching_on_a_paid_add_on_buys_it(api: Api, org: Any, writer: str) -> None:
    preview = api.post(f"/organizations/{org.pk}/features/sso/preview", writer)
    # 1 × 8.00 × 6 × 167 / 181 = 44.287… → 44.29
    assert (preview.status, preview.body["charge_now"]) == (200, "44.29")
    assert preview.body["current_period"]["add_ons"] == ["sso"]
    reply = api.put(f"/organizations/{org.pk}/features/sso", writer, {"enabled": True})
    assert reply.status == 200
    assert reply.body["feature"]["enabled"] is True
    assert (reply.body["order"]["kind"], reply.body["order"]["total"]) == ("add_on", "44.29")
    off = api.put(f"/organizations/{org.pk}/features/sso", writer, {"enabled": False})
    assert (off.body["feature"]["enabled"], off.body["order"]) == (False, None)


def test_feature_rules_are_409_with_their_codes(api: Api, catalog: None, vendor: str) -> None:
    basic = make_organization(edition="basic")
    unavailable = api.put(f"/organizations/{basic.pk}/features/sso", vendor, {"enabled": True})
    assert (unavailable.status, unavailable.code) == (409, "feature_not_available")
    assert unavailable.body["detail"] == (
        "Single sign-on is not in your edition; it is available in Pro, Enterprise."
    )
    pro = make_organization(name="Pro Oy", admin_email="p@pro.example")
    needs = api.put(f"/organizations/{pro.pk}/features/scim", vendor, {"enabled": True})
    assert (needs.status, needs.code) == (409, "feature_required")
    api.put(f"/organizations/{pro.pk}/features/sso", vendor, {"enabled": True})
    api.put(f"/organizations/{pro.pk}/features/scim", vendor, {"enabled": True})
    required = api.put(f"/organizations/{pro.pk}/features/sso", vendor, {"enabled": False})
    assert (required.status, required.code) == (409, "feature_required")
    unknown = api.put(f"/organizations/{pro.pk}/features/teleport", vendor, {"enabled": True})
    assert (unknown.status, unknown.code) == (404, "not_found")
    assert FeatureSwitch.objects.get(organization=pro, feature__code="sso").enabled is True
    assert Order.objects.filter(organization=basic, kind="add_on").count() == 0


def test_entitlements_carry_an_etag(api: Api, org: Any, writer: str) -> None:
    path = f"/organizations/{org.pk}/entitlements"
    first = api.get(path, writer)
    assert first.body == {
        "edition": "pro",
        "features": ["api", "reports", "slack"],
        "licenses": 10,
        "active_users": 1,
        "storage_gb": 100,
    }
    etag = first.headers["ETag"]
    unchanged = api.get(path, writer, headers={"If-None-Match": etag})
    assert (unchanged.status, unchanged.content, unchanged.headers["ETag"]) == (304, b"", etag)
    api.put(f"/organizations/{org.pk}/features/sso", writer, {"enabled": True})
    changed = api.get(path, writer, headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.body["features"] == ["api", "reports", "slack", "sso"]
    assert changed.headers["ETag"] != etag
