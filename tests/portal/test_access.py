"""Who gets in: anonymous → sign-in; no permission → the explanation page; another
organisation's objects → 404; vendor staff (no organisation) → refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import make_organization
from tests.portal.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

SUBSCRIPTION_PAGES = [
    "/settings/subscription/",
    "/settings/subscription/licences/",
    "/settings/subscription/licences/confirm/?licenses=12",
    "/settings/subscription/edition/",
    "/settings/subscription/features/",
    "/settings/subscription/features/reports/?enabled=off",
    "/settings/subscription/billing/",
    "/settings/subscription/history/",
    "/settings/subscription/history/?show=invoices",
    "/settings/company/",
    "/settings/api-tokens/",
]
USER_PAGES = ["/settings/users/", "/settings/users/new/"]
SIGNED_IN_PAGES = ["/settings/", "/account/profile/", "/account/password/"]


@pytest.mark.parametrize("url", SUBSCRIPTION_PAGES + USER_PAGES + SIGNED_IN_PAGES)
def test_anonymous_is_sent_to_sign_in(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=")


@pytest.mark.parametrize("url", SUBSCRIPTION_PAGES)
def test_user_without_subscription_permission_gets_the_explanation(
    org: Any, clock_at_now: None, url: str
) -> None:
    ordinary = make_user(org, "olga@testi.example")
    response = client_for(ordinary).get(url)
    assert response.status_code == 403
    body = response.content.decode()
    assert "Edit settings and manage subscription &amp; features" in body
    assert "Anna Admin" in body and "admin@testi.example" in body


@pytest.mark.parametrize("url", USER_PAGES)
def test_user_without_user_permission_gets_the_explanation(
    org: Any, clock_at_now: None, url: str
) -> None:
    ordinary = make_user(org, "olga@testi.example")
    response = client_for(ordinary).get(url)
    assert response.status_code == 403
    assert "“Manage users”" in response.content.decode()


@pytest.mark.parametrize(
    "method,url",
    [
        ("post", "/settings/subscription/licences/"),
        ("post", "/settings/subscription/storage/"),
        ("post", "/settings/subscription/features/reports/"),
        ("post", "/settings/subscription/billing/"),
        ("post", "/settings/company/"),
    ],
)
def test_refused_posts_change_nothing(org: Any, clock_at_now: None, method: str, url: str) -> None:
    from abonnement.history.models import HistoryEntry

    ordinary = make_user(org, "olga@testi.example")
    before = HistoryEntry.objects.count()
    response = getattr(client_for(ordinary), method)(
        url, {"licenses": "12", "extra_packs": "1", "enabled": "off", "name": "X"}
    )
    assert response.status_code == 403
    assert HistoryEntry.objects.count() == before


def test_user_manager_sees_users_but_not_the_subscription(org: Any, clock_at_now: None) -> None:
    manager = make_user(org, "mia@testi.example", permissions=["manage_users"])
    client = client_for(manager)
    assert client.get("/settings/users/").status_code == 200
    assert client.get("/settings/subscription/").status_code == 403
    menu = client.get("/settings/").content.decode()
    assert "User management" in menu
    assert "/settings/subscription/" not in menu


@pytest.mark.parametrize(
    "url",
    [
        "/settings/users/{id}/",
        "/settings/users/{id}/deactivate/",
        "/settings/users/{id}/reactivate/",
    ],
)
def test_another_organisations_user_is_not_found(portal: Client, catalog: None, url: str) -> None:
    from abonnement.accounts.models import User

    other = make_organization(name="Muu Oy", admin_email="other@muu.example")
    stranger = User.objects.get(organization=other)
    assert portal.get(url.format(id=stranger.pk)).status_code == 404
    response = portal.post(url.format(id=stranger.pk), {"name": "Hacked", "license": "keep"})
    assert response.status_code == 404
    stranger.refresh_from_db()
    assert (stranger.name, stranger.is_active) == ("Anna Admin", True)


def test_another_organisations_token_cannot_be_revoked(portal: Client, catalog: None) -> None:
    from abonnement.accounts.services import create_organization_token
    from tests.conftest import NOW, admin_of

    other = make_organization(name="Muu Oy", admin_email="other@muu.example")
    issued = create_organization_token(
        organization=other, name="Sync", scopes=["read"], actor=admin_of(other), now=NOW
    )
    response = portal.post(f"/settings/api-tokens/{issued.token.pk}/revoke/")
    assert response.status_code == 404
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None


def test_unknown_feature_is_not_found(portal: Client) -> None:
    assert portal.get("/settings/subscription/features/teleport/?enabled=on").status_code == 404
    assert (
        portal.post("/settings/subscription/features/teleport/", {"enabled": "on"}).status_code
        == 404
    )


def test_staff_without_organisation_is_refused(db: Any) -> None:
    from abonnement.accounts.models import User

    staff = User.objects.create_user("cs@vendor.example", None, name="Cs", is_staff=True)
    response = client_for(staff).get("/settings/subscription/")
    assert response.status_code == 403
    assert "This account has no organisation" in response.content.decode()


def test_home_sends_each_user_where_they_belong(org: Any, portal: Client) -> None:
    assert portal.get("/")["Location"] == "/settings/subscription/"
    ordinary = make_user(org, "olga@testi.example")
    assert client_for(ordinary).get("/")["Location"] == "/settings/"
    assert Client().get("/")["Location"] == "/sign-in/"
