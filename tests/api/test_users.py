"""Users over the API (API.md "Users", PRODUCT.md Rule 4)."""

from __future__ import annotations

from typing import Any

from abonnement.accounts.models import User
from abonnement.orders.models import Order
from abonnement.subscriptions.models import Subscription
from tests.api.conftest import Api, admin_user
from tests.conftest import make_organization


def test_users_are_listed_newest_first_and_filtered(api: Api, org: Any, writer: str) -> None:
    path = f"/organizations/{org.pk}/users"
    created = api.post(path, writer, {"email": "Bea@Testi.example", "name": "Bea"}).body["user"]
    assert created["email"] == "bea@testi.example"
    api.post(f"{path}/{created['id']}/deactivate", writer, {"license": "keep"})
    admin = admin_user(org)
    everyone = api.get(path, writer).body
    assert everyone == {
        "data": [
            {
                "id": created["id"],
                "email": "bea@testi.example",
                "name": "Bea",
                "active": False,
                "permissions": [],
                # Created over the API with the default ``invite``: invited, never signed in.
                "invited_at": "2027-01-15T10:00:00Z",
                "last_sign_in_at": None,
            },
            {
                "id": str(admin.pk),
                "email": "admin@testi.example",
                "name": "Anna Admin",
                "active": True,
                "permissions": ["manage_subscription", "manage_users"],
                "invited_at": None,
                "last_sign_in_at": None,
            },
        ],
        "next_cursor": None,
    }
    inactive = api.get(f"{path}?active=false", writer).body["data"]
    assert [u["id"] for u in inactive] == [created["id"]]
    page = api.get(f"{path}?limit=1", writer).body
    rest = api.get(f"{path}?limit=1&cursor={page['next_cursor']}", writer).body
    assert [u["id"] for u in page["data"] + rest["data"]] == [created["id"], str(admin.pk)]
    assert rest["next_cursor"] is None


def test_without_a_free_licence_a_user_needs_a_purchase(
    api: Api, catalog: None, vendor: str
) -> None:
    org = make_organization(licenses=1)
    path = f"/organizations/{org.pk}/users"
    refused = api.post(path, vendor, {"email": "c@t.example", "name": "Cecil"})
    assert (refused.status, refused.code) == (409, "no_free_license")
    assert User.objects.filter(organization=org).count() == 1
    bought = api.post(path, vendor, {"email": "c@t.example", "name": "Cecil", "buy_license": True})
    assert bought.status == 201
    assert bought.body["user"]["active"] is True
    # 1 × 20.00 × 6 × 167 / 181 = 110.718… → 110.72
    assert (bought.body["order"]["kind"], bought.body["order"]["total"]) == ("licenses", "110.72")
    assert Subscription.objects.get(organization=org).licenses == 2


def test_deactivating_keeps_or_removes_the_licence(api: Api, org: Any, writer: str) -> None:
    path = f"/organizations/{org.pk}/users"
    first = api.post(path, writer, {"email": "d1@t.example", "name": "D1"}).body["user"]
    second = api.post(path, writer, {"email": "d2@t.example", "name": "D2"}).body["user"]
    kept = api.post(f"{path}/{first['id']}/deactivate", writer, {"license": "keep"})
    assert (kept.status, kept.body["active"]) == (200, False)
    removed = api.post(f"{path}/{second['id']}/deactivate", writer, {"license": "remove"})
    assert removed.status == 200
    subscription = Subscription.objects.get(organization=org)
    assert (subscription.licenses, subscription.licenses_next) == (10, 9)
    wrong = api.post(f"{path}/{first['id']}/deactivate", writer, {"license": "sell"})
    assert (wrong.status, wrong.body["errors"][0]["field"]) == (422, "license")


def test_the_last_subscription_admin_stays(api: Api, org: Any, vendor: str) -> None:
    admin = admin_user(org)
    path = f"/organizations/{org.pk}/users/{admin.pk}"
    refused = api.post(f"{path}/deactivate", vendor, {"license": "keep"})
    assert (refused.status, refused.code) == (409, "last_subscription_admin")
    demoted = api.patch(path, vendor, {"permissions": ["manage_users"]})
    assert (demoted.status, demoted.code) == (409, "last_subscription_admin")
    admin.refresh_from_db()
    assert (admin.is_active, admin.permissions) == (True, ["manage_subscription", "manage_users"])


def test_reactivating_and_editing_a_user(api: Api, org: Any, writer: str) -> None:
    path = f"/organizations/{org.pk}/users"
    user = api.post(path, writer, {"email": "e@t.example", "name": "E"}).body["user"]
    api.post(f"{path}/{user['id']}/deactivate", writer, {"license": "keep"})
    back = api.post(f"{path}/{user['id']}/reactivate", writer, {})
    assert back.status == 200
    assert back.body == {"user": user, "order": None}
    edited = api.patch(
        f"{path}/{user['id']}", writer, {"name": "Eero", "permissions": ["manage_users"]}
    )
    assert edited.body == user | {"name": "Eero", "permissions": ["manage_users"]}
    again = api.post(f"{path}/{user['id']}/reactivate", writer, {})
    assert (again.status, again.code) == (422, "validation_error")
    assert Order.objects.filter(organization=org).count() == 1
