"""User management (PRODUCT.md Rule 4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from abonnement.accounts.models import User
from abonnement.history.models import HistoryEntry
from abonnement.orders.models import Order
from abonnement.subscriptions.models import Subscription
from tests.conftest import NOW, add_users, admin_of
from tests.portal.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


def licenses(org: Any) -> tuple[int, int]:
    sub = Subscription.objects.get(organization=org)
    return sub.licenses, sub.licenses_next


class TestList:
    def test_counter_search_and_filter(self, portal: Client, org: Any) -> None:
        users = add_users(org, 3)
        from abonnement.accounts.services import deactivate_user

        deactivate_user(
            organization=org, user_id=users[0].pk, license="keep", actor=admin_of(org), now=NOW
        )
        body = portal.get("/settings/users/").content.decode()
        assert "<strong>3</strong><span>in use</span>" in body
        assert "<strong>10</strong><span>licences</span>" in body
        assert "<strong>7</strong><span>free</span>" in body
        assert "User 1" in body and "User 0" not in body
        inactive = portal.get("/settings/users/?status=inactive").content.decode()
        assert "User 0" in inactive and "User 1" not in inactive
        found = portal.get("/settings/users/?q=user 2&status=all").content.decode()
        assert "User 2" in found and "User 1" not in found and "Anna Admin" not in found

    def test_query_count_does_not_grow(
        self, portal: Client, org: Any, django_assert_max_num_queries: Any
    ) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as few:
            portal.get("/settings/users/")
        add_users(org, 8)
        with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as many:
            body = portal.get("/settings/users/").content.decode()
        assert body.count('href="/settings/users/') > 8
        assert len(many) == len(few)


class TestCreate:
    def test_with_a_free_licence(self, portal: Client, org: Any) -> None:
        response = portal.post(
            "/settings/users/new/",
            {"name": "Kalle Käyttäjä", "email": "kalle@testi.example", "permissions": []},
            follow=True,
        )
        assert "Kalle Käyttäjä has been added." in response.content.decode()
        kalle = User.objects.get(email="kalle@testi.example")
        assert (kalle.organization_id, kalle.is_active, kalle.permissions) == (org.pk, True, [])
        assert licenses(org) == (10, 10)

    def test_admin_buys_a_licence_when_none_is_free(self, portal: Client, org: Any) -> None:
        add_users(org, 9)
        page = portal.get("/settings/users/new/").content.decode()
        # 1 × 20 × 6 × 167 / 181 = 110.72
        assert "No free licence: buy one" in page
        assert "Buy one user licence for €110.72 now" in page
        refused = portal.post(
            "/settings/users/new/", {"name": "Kalle", "email": "kalle@testi.example"}
        )
        assert "There is no free licence." in refused.content.decode()
        assert not User.objects.filter(email="kalle@testi.example").exists()
        portal.post(
            "/settings/users/new/",
            {"name": "Kalle", "email": "kalle@testi.example", "buy_license": "on"},
        )
        assert User.objects.get(email="kalle@testi.example").is_active
        assert licenses(org) == (11, 11)
        assert Order.objects.get(organization=org, kind="licenses").total == Decimal("110.72")

    def test_user_manager_is_told_to_ask_an_administrator(self, org: Any) -> None:
        manager = make_user(org, "mia@testi.example", permissions=["manage_users"])
        add_users(org, 8)
        page = client_for(manager).get("/settings/users/new/").content.decode()
        assert "There is no free licence." in page
        assert "Ask an administrator to add licences:" in page
        assert "<strong>Anna Admin</strong>" in page
        assert "<fieldset disabled>" in page
        response = client_for(manager).post(
            "/settings/users/new/",
            {"name": "Kalle", "email": "kalle@testi.example", "buy_license": "on"},
        )
        assert "You need the permission" in response.content.decode()
        assert licenses(org) == (10, 10)
        assert not User.objects.filter(email="kalle@testi.example").exists()

    def test_admin_is_told_a_scheduled_removal_gets_smaller(self, portal: Client, org: Any) -> None:
        from abonnement.subscriptions.services import set_license_count

        add_users(org, 3)  # 4 active of 10
        set_license_count(organization=org, licenses=4, actor=admin_of(org), now=NOW)
        page = portal.get("/settings/users/new/").content.decode()
        assert (
            "A licence removal is scheduled. This user keeps one more licence in the billing "
            "period from 1 Jul 2027: 5 licences instead of 4. No order is placed now."
        ) in page
        assert "<fieldset>" in page
        response = portal.post(
            "/settings/users/new/",
            {"name": "Kalle", "email": "kalle@testi.example"},
            follow=True,
        )
        assert (
            "Kalle has been added. The scheduled licence removal is smaller now: the next "
            "billing period has 5 licences instead of 4."
        ) in response.content.decode()
        assert licenses(org) == (10, 5)
        assert not Order.objects.filter(organization=org, kind="licenses").exists()

    def test_user_manager_cannot_cut_a_scheduled_removal_short(self, org: Any) -> None:
        from abonnement.subscriptions.services import set_license_count

        manager = make_user(org, "mia@testi.example", permissions=["manage_users"])
        add_users(org, 2)  # 4 active of 10
        set_license_count(organization=org, licenses=4, actor=admin_of(org), now=NOW)
        page = client_for(manager).get("/settings/users/new/").content.decode()
        assert (
            "A licence removal is scheduled, and every licence of the next billing period is taken."
        ) in page
        assert "Ask an administrator to activate this user:" in page
        assert "<strong>Anna Admin</strong>" in page
        assert 'class="button" disabled>Add user' in page
        before = HistoryEntry.objects.count()
        client_for(manager).post(
            "/settings/users/new/", {"name": "Kalle", "email": "kalle@testi.example"}
        )
        assert licenses(org) == (10, 4)
        assert not User.objects.filter(email="kalle@testi.example").exists()
        assert HistoryEntry.objects.count() == before

    def test_no_notice_without_a_scheduled_removal(self, portal: Client, org: Any) -> None:
        page = portal.get("/settings/users/new/").content.decode()
        assert "A licence removal is scheduled" not in page
        response = portal.post(
            "/settings/users/new/", {"name": "Kalle", "email": "kalle@testi.example"}, follow=True
        )
        body = response.content.decode()
        assert "Kalle has been added." in body and "removal is smaller" not in body

    def test_field_errors_beside_fields(self, portal: Client, org: Any) -> None:
        body = portal.post(
            "/settings/users/new/", {"name": "", "email": "admin@testi.example"}
        ).content.decode()
        assert 'id="id_name_error"' in body
        assert 'id="id_email_error"' in body
        assert "A user with this e-mail address already exists." in body

    def test_manager_cannot_grant_the_subscription_permission(self, org: Any) -> None:
        manager = make_user(org, "mia@testi.example", permissions=["manage_users"])
        page = client_for(manager).get("/settings/users/new/").content.decode()
        assert 'value="manage_subscription" id="id_permissions_0" disabled' in page


class TestDeactivate:
    def test_dialog_offers_keep_or_remove_with_the_date(self, portal: Client, org: Any) -> None:
        (user,) = add_users(org, 1)
        body = portal.get(
            f"/settings/users/{user.pk}/deactivate/", HTTP_HX_REQUEST="true"
        ).content.decode()
        assert "<html" not in body
        assert "Keep the licence in the subscription" in body
        assert "Remove it from the subscription (from 1 Jul 2027)" in body
        assert "is the billing contact" not in body

    def test_dialog_warns_when_the_user_is_the_billing_contact(
        self, portal: Client, org: Any
    ) -> None:
        from abonnement.billing.models import BillingDetails

        (user,) = add_users(org, 1)
        BillingDetails.objects.filter(organization=org).update(contact_user=user)
        body = portal.get(f"/settings/users/{user.pk}/deactivate/").content.decode()
        assert (
            f"{user.display_name} is the billing contact. Until another contact is chosen in "
            "the billing details, order confirmations and invoices go to the subscription "
            "administrators."
        ) in body

    def test_keep(self, portal: Client, org: Any) -> None:
        (user,) = add_users(org, 1)
        portal.post(f"/settings/users/{user.pk}/deactivate/", {"license": "keep"})
        user.refresh_from_db()
        assert not user.is_active
        assert licenses(org) == (10, 10)

    def test_remove_takes_the_licence_out_next_period(self, portal: Client, org: Any) -> None:
        (user,) = add_users(org, 1)
        response = portal.post(
            f"/settings/users/{user.pk}/deactivate/", {"license": "remove"}, follow=True
        )
        assert "The licence leaves the subscription" in response.content.decode()
        assert licenses(org) == (10, 9)

    def test_a_choice_is_needed(self, portal: Client, org: Any) -> None:
        (user,) = add_users(org, 1)
        body = portal.post(f"/settings/users/{user.pk}/deactivate/", {}).content.decode()
        assert "Choose what happens to the licence." in body
        user.refresh_from_db()
        assert user.is_active

    def test_last_subscription_admin_stays(self, portal: Client, admin_user: Any) -> None:
        before = HistoryEntry.objects.count()
        body = portal.post(
            f"/settings/users/{admin_user.pk}/deactivate/", {"license": "keep"}
        ).content.decode()
        assert "This is the last active user who can manage the subscription." in body
        admin_user.refresh_from_db()
        assert admin_user.is_active
        assert HistoryEntry.objects.count() == before


class TestReactivate:
    def test_reactivate_with_a_free_licence(self, portal: Client, org: Any) -> None:
        from abonnement.accounts.services import deactivate_user

        (user,) = add_users(org, 1)
        deactivate_user(
            organization=org, user_id=user.pk, license="keep", actor=admin_of(org), now=NOW
        )
        portal.post(f"/settings/users/{user.pk}/reactivate/", {})
        user.refresh_from_db()
        assert user.is_active

    def test_reactivating_says_the_scheduled_removal_gets_smaller(
        self, portal: Client, org: Any
    ) -> None:
        from abonnement.accounts.services import deactivate_user
        from abonnement.subscriptions.services import set_license_count

        (user,) = add_users(org, 1)
        deactivate_user(
            organization=org, user_id=user.pk, license="keep", actor=admin_of(org), now=NOW
        )
        set_license_count(organization=org, licenses=1, actor=admin_of(org), now=NOW)
        dialog = portal.get(f"/settings/users/{user.pk}/reactivate/").content.decode()
        assert "2 licences instead of 1" in dialog
        response = portal.post(f"/settings/users/{user.pk}/reactivate/", {}, follow=True)
        assert (
            "User 0 has been reactivated. The scheduled licence removal is smaller now: the "
            "next billing period has 2 licences instead of 1."
        ) in response.content.decode()
        assert licenses(org) == (10, 2)


class TestEdit:
    def test_name_and_permissions(self, portal: Client, org: Any) -> None:
        (user,) = add_users(org, 1)
        portal.post(
            f"/settings/users/{user.pk}/",
            {"name": "Renamed", "permissions": ["manage_users", "manage_subscription"]},
        )
        user.refresh_from_db()
        assert (user.name, user.manage_users, user.manage_subscription) == (
            "Renamed",
            True,
            True,
        )

    def test_the_last_admin_cannot_lose_the_permission(
        self, portal: Client, admin_user: Any
    ) -> None:
        body = portal.post(
            f"/settings/users/{admin_user.pk}/", {"name": "Anna", "permissions": ["manage_users"]}
        ).content.decode()
        assert "This is the last active user who can manage the subscription." in body
        admin_user.refresh_from_db()
        assert (admin_user.name, admin_user.manage_subscription) == ("Anna Admin", True)

    def test_manager_keeps_an_admins_permission_they_cannot_change(self, org: Any) -> None:
        manager = make_user(org, "mia@testi.example", permissions=["manage_users"])
        admin = admin_of(org).user
        client_for(manager).post(
            f"/settings/users/{admin.pk}/", {"name": "Anna A.", "permissions": ["manage_users"]}
        )
        admin.refresh_from_db()
        # The disabled checkbox is not sent; the page sends the kept value instead, but only
        # a subscription admin may change it, so the form above (without it) is refused.
        assert admin.manage_subscription is True
