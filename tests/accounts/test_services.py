"""Users and API tokens (PRODUCT.md Rule 4, "People"): create, deactivate, reactivate, update.

The default organisation is Pro, 10 licences at 20.00 EUR a month, period 2027-01-01 ..
2027-06-30 (181 days); NOW is 2027-01-15, so a licence bought now is charged for 167 days:
1 × 20.00 × 6 × 167 / 181 = 110.718… → 110.72.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from abonnement.accounts.models import ApiToken, User
from abonnement.accounts.services import (
    authenticate_token,
    create_organization_token,
    create_user,
    create_vendor_token,
    deactivate_user,
    reactivate_user,
    revoke_token,
    update_user,
)
from abonnement.core.actor import Actor
from abonnement.core.errors import NotFound, PermissionDenied, ValidationFailed
from abonnement.history.models import HistoryEntry
from abonnement.orders.models import Order, OrderLine
from abonnement.subscriptions.errors import (
    LastSubscriptionAdmin,
    ManagedByMarketplace,
    NextPeriodShort,
    NoFreeLicense,
)
from abonnement.subscriptions.models import Subscription
from tests.conftest import NOW, VENDOR, add_users, admin_of, make_organization

pytestmark = pytest.mark.django_db


def state(org: Any) -> dict[str, Any]:
    """Everything a refused user operation must leave as it was."""
    sub = Subscription.objects.get(organization=org)
    return {
        "licenses": (sub.licenses, sub.licenses_next),
        "orders": Order.objects.filter(organization=org).count(),
        "history": HistoryEntry.objects.filter(organization=org).count(),
        "users": sorted(
            User.objects.filter(organization=org).values_list(
                "email", "name", "is_active", "manage_subscription", "manage_users"
            )
        ),
    }


def licenses(org: Any) -> tuple[int, int]:
    sub = Subscription.objects.get(organization=org)
    return (sub.licenses, sub.licenses_next)


def new_user(
    org: Any, email: str, *, permissions: list[str] | None = None, name: str = "Bob Builder"
) -> User:
    return create_user(
        organization=org,
        email=email,
        name=name,
        permissions_granted=permissions or [],
        actor=admin_of(org),
        now=NOW,
    ).user


def user_manager(org: Any) -> Actor:
    """A user who may manage users but not the subscription."""
    return Actor.portal(new_user(org, "um@testi.example", permissions=["manage_users"]))


def staff(role: str = "billing") -> Actor:
    email = f"cs-{role}@vendor.example"
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email, name="Cees Service", is_staff=True, staff_role=role
    )
    return Actor.staff(user)


def history(org: Any, kind: str) -> list[HistoryEntry]:
    return list(HistoryEntry.objects.filter(organization=org, kind=kind).order_by("id"))


class TestCreateUser:
    def test_creates_an_active_user_on_a_free_licence(self, org: Any, admin: Actor) -> None:
        result = create_user(
            organization=org,
            email="Bob@Testi.Example",
            name="  Bob Builder ",
            permissions_granted=["manage_users"],
            actor=admin,
            now=NOW,
        )
        user = result.user
        assert result.order is None
        assert (user.email, user.name, user.is_active, user.organization_id) == (
            "bob@testi.example",
            "Bob Builder",
            True,
            org.pk,
        )
        assert (user.manage_subscription, user.manage_users) == (False, True)
        assert not user.has_usable_password()
        assert licenses(org) == (10, 10)
        entry = history(org, "users")[0]
        assert (entry.action, entry.subject, entry.actor_name, entry.channel, entry.reason) == (
            "user_created",
            "bob@testi.example",
            "Anna Admin",
            "portal",
            "",
        )
        assert entry.before is None
        assert entry.after == {
            "email": "bob@testi.example",
            "name": "Bob Builder",
            "active": True,
            "permissions": ["manage_users"],
        }

    def test_without_a_free_licence_is_refused(self, org: Any, admin: Actor) -> None:
        add_users(org, 9)  # 10 active with the admin
        before = state(org)
        with pytest.raises(NoFreeLicense) as error:
            create_user(
                organization=org, email="bob@testi.example", name="Bob", actor=admin, now=NOW
            )
        assert error.value.code == "no_free_license"
        assert error.value.status == 409
        assert state(org) == before

    def test_subscription_admin_buys_the_licence_pro_rata(self, org: Any, admin: Actor) -> None:
        add_users(org, 9)
        orders_before = Order.objects.filter(organization=org).count()
        result = create_user(
            organization=org,
            email="bob@testi.example",
            name="Bob",
            buy_license=True,
            actor=admin,
            now=NOW,
        )
        order = result.order
        assert order is not None
        assert Order.objects.filter(organization=org).count() == orders_before + 1
        assert order.kind == "licenses"
        # 1 × 20.00 × 6 × 167 / 181 = 110.718… → 110.72
        assert order.total == Decimal("110.72")
        line = OrderLine.objects.get(order=order)
        assert (line.quantity, line.unit_price, line.days, line.period_days) == (
            Decimal("1"),
            Decimal("20.0000"),
            167,
            181,
        )
        assert licenses(org) == (11, 11)
        assert [e.action for e in history(org, "users")][-1] == "user_created"
        assert history(org, "users")[-1].reason == f"Order {order.number}"
        licence_entry = history(org, "licenses")[-1]
        assert (licence_entry.action, licence_entry.before, licence_entry.after) == (
            "licenses_bought",
            {"current": 10, "next": 10},
            {"current": 11, "next": 11},
        )

    def test_buying_is_not_needed_while_a_licence_is_free(self, org: Any, admin: Actor) -> None:
        result = create_user(
            organization=org,
            email="bob@testi.example",
            name="Bob",
            buy_license=True,
            actor=admin,
            now=NOW,
        )
        assert result.order is None
        assert licenses(org) == (10, 10)

    def test_user_manager_creates_on_a_free_licence(self, org: Any) -> None:
        manager = user_manager(org)
        result = create_user(
            organization=org, email="bob@testi.example", name="Bob", actor=manager, now=NOW
        )
        assert result.user.is_active
        assert history(org, "users")[-1].actor_name == "Bob Builder"

    def test_user_manager_cannot_buy_a_licence(self, org: Any) -> None:
        manager = user_manager(org)
        add_users(org, 8)  # admin + manager + 8 = 10 active
        before = state(org)
        with pytest.raises(PermissionDenied) as error:
            create_user(
                organization=org,
                email="bob@testi.example",
                name="Bob",
                buy_license=True,
                actor=manager,
                now=NOW,
            )
        assert "Edit settings and manage subscription & features" in error.value.message
        assert state(org) == before

    def test_user_manager_without_buying_gets_no_free_licence(self, org: Any) -> None:
        manager = user_manager(org)
        add_users(org, 8)
        before = state(org)
        with pytest.raises(NoFreeLicense):
            create_user(
                organization=org, email="bob@testi.example", name="Bob", actor=manager, now=NOW
            )
        assert state(org) == before

    def test_creating_during_a_scheduled_removal_raises_next_period_without_order(
        self, org: Any, admin: Actor
    ) -> None:
        from abonnement.subscriptions.services import set_license_count

        set_license_count(organization=org, licenses=7, actor=admin, now=NOW)
        add_users(org, 6)  # 7 active = the next period's 7 licences
        orders_before = Order.objects.filter(organization=org).count()
        result = create_user(
            organization=org, email="bob@testi.example", name="Bob", actor=admin, now=NOW
        )
        assert result.order is None
        assert licenses(org) == (10, 8)
        assert Order.objects.filter(organization=org).count() == orders_before
        entry = history(org, "licenses")[-1]
        assert (entry.before, entry.after) == (
            {"current": 10, "next": 7},
            {"current": 10, "next": 8},
        )

    def test_a_user_manager_cannot_undo_a_scheduled_removal(self, org: Any, admin: Actor) -> None:
        from abonnement.subscriptions.services import set_license_count

        manager = user_manager(org)  # 2 active now
        set_license_count(organization=org, licenses=2, actor=admin, now=NOW)
        before = state(org)
        with pytest.raises(NextPeriodShort) as refused:
            create_user(
                organization=org, email="bob@testi.example", name="Bob", actor=manager, now=NOW
            )
        assert refused.value.code == "no_free_license"
        assert str(refused.value) == (
            "A licence removal is scheduled: the next period has 2 licences, and every one is "
            "taken. Someone who manages the subscription can activate this user, which keeps "
            "one more licence."
        )
        assert state(org) == before

    def test_a_user_manager_cannot_reactivate_past_a_scheduled_removal(
        self, org: Any, admin: Actor
    ) -> None:
        from abonnement.subscriptions.services import set_license_count

        manager = user_manager(org)
        bob = new_user(org, "bob@testi.example")
        deactivate_user(organization=org, user_id=bob.pk, license="keep", actor=admin, now=NOW)
        set_license_count(organization=org, licenses=2, actor=admin, now=NOW)
        before = state(org)
        with pytest.raises(NextPeriodShort):
            reactivate_user(
                organization=org, user_id=bob.pk, buy_license=False, actor=manager, now=NOW
            )
        assert state(org) == before

    def test_a_marketplace_admin_cannot_undo_the_marketplaces_removal(self, catalog: None) -> None:
        from abonnement.subscriptions.services import set_license_count

        org = make_organization(
            purchase_channel={
                "type": "marketplace",
                "name": "Partner Market",
                "url": "https://pm.example/",
            },
        )
        set_license_count(organization=org, licenses=1, actor=VENDOR, now=NOW)
        before = state(org)
        with pytest.raises(ManagedByMarketplace):
            create_user(
                organization=org,
                email="bob@testi.example",
                name="Bob",
                actor=admin_of(org),
                now=NOW,
            )
        assert state(org) == before
        # The marketplace's own call may.
        create_user(organization=org, email="bob@testi.example", name="Bob", actor=VENDOR, now=NOW)
        assert licenses(org) == (10, 2)

    def test_creating_below_the_scheduled_count_leaves_it(self, org: Any, admin: Actor) -> None:
        from abonnement.subscriptions.services import set_license_count

        set_license_count(organization=org, licenses=7, actor=admin, now=NOW)
        history_before = len(history(org, "licenses"))
        create_user(organization=org, email="bob@testi.example", name="Bob", actor=admin, now=NOW)
        assert licenses(org) == (10, 7)
        assert len(history(org, "licenses")) == history_before

    def test_granting_subscription_permission_needs_it(self, org: Any) -> None:
        manager = user_manager(org)
        before = state(org)
        with pytest.raises(PermissionDenied):
            create_user(
                organization=org,
                email="bob@testi.example",
                name="Bob",
                permissions_granted=["manage_subscription"],
                actor=manager,
                now=NOW,
            )
        assert state(org) == before

    def test_subscription_admin_grants_both_permissions(self, org: Any, admin: Actor) -> None:
        user = create_user(
            organization=org,
            email="bob@testi.example",
            name="Bob",
            permissions_granted=("manage_users", "manage_subscription"),
            actor=admin,
            now=NOW,
        ).user
        assert (user.manage_subscription, user.manage_users) == (True, True)
        assert history(org, "users")[-1].after["permissions"] == [
            "manage_subscription",
            "manage_users",
        ]

    @pytest.mark.parametrize(
        "email", ["admin@testi.example", "ADMIN@Testi.Example"], ids=["same", "other-case"]
    )
    def test_duplicate_email_is_a_field_error(self, org: Any, admin: Actor, email: str) -> None:
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            create_user(organization=org, email=email, name="Bob", actor=admin, now=NOW)
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("email", "A user with this e-mail address already exists.")
        ]
        assert state(org) == before

    def test_a_deactivated_users_email_points_to_reactivating_them(
        self, org: Any, admin: Actor
    ) -> None:
        bob = create_user(
            organization=org, email="bob@testi.example", name="Bob", actor=admin, now=NOW
        ).user
        deactivate_user(organization=org, user_id=bob.pk, license="keep", actor=admin, now=NOW)
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            create_user(
                organization=org, email="BOB@testi.example", name="Bob", actor=admin, now=NOW
            )
        assert [(e.field, e.message) for e in error.value.errors] == [
            (
                "email",
                "This e-mail address belongs to Bob, who is deactivated. Reactivate them in "
                "user management instead.",
            )
        ]
        assert state(org) == before

    def test_email_in_another_organisation_is_a_duplicate(self, org: Any, admin: Actor) -> None:
        make_organization(name="Muu Oy", admin_email="other@muu.example")
        with pytest.raises(ValidationFailed) as error:
            create_user(
                organization=org, email="other@muu.example", name="Bob", actor=admin, now=NOW
            )
        assert [e.field for e in error.value.errors] == ["email"]

    def test_bad_email_empty_name_and_unknown_permission_are_reported_together(
        self, org: Any, admin: Actor
    ) -> None:
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            create_user(
                organization=org,
                email="not-an-address",
                name="   ",
                permissions_granted=["manage_users", "superpowers"],
                actor=admin,
                now=NOW,
            )
        assert error.value.status == 422
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("email", "Enter a valid e-mail address, such as name@example.com."),
            ("name", "This field is required."),
            (
                "permissions",
                "Unknown permission: superpowers. Choose from manage_subscription, manage_users.",
            ),
        ]
        assert state(org) == before

    @pytest.mark.parametrize("email", [None, 42, ""], ids=["none", "int", "empty"])
    def test_missing_email_is_required(self, org: Any, admin: Actor, email: object) -> None:
        with pytest.raises(ValidationFailed) as error:
            create_user(organization=org, email=email, name="Bob", actor=admin, now=NOW)
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("email", "This field is required.")
        ]

    def test_ten_thousand_character_name_is_a_field_error(self, org: Any, admin: Actor) -> None:
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            create_user(
                organization=org, email="bob@testi.example", name="x" * 10_000, actor=admin, now=NOW
            )
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("name", "Ensure this value has at most 200 characters (it has 10000).")
        ]
        assert state(org) == before

    def test_name_with_a_line_break_is_a_field_error(self, org: Any, admin: Actor) -> None:
        with pytest.raises(ValidationFailed) as error:
            create_user(
                organization=org,
                email="bob@testi.example",
                name="Bob\nBuilder",
                actor=admin,
                now=NOW,
            )
        assert error.value.for_field("name") == [
            "Remove the control character at position 4 (such as a tab or line break); "
            "this field takes a single line of text."
        ]

    def test_unicode_name_is_kept_exactly(self, org: Any, admin: Actor) -> None:
        name = "Åsa Öberg-Łukasiewicz 山田太郎 🎉"
        user = create_user(
            organization=org, email="asa@testi.example", name=name, actor=admin, now=NOW
        ).user
        assert User.objects.get(pk=user.pk).name == name
        assert history(org, "users")[-1].after["name"] == name

    def test_ordinary_user_cannot_create_users(self, org: Any) -> None:
        ordinary = Actor.portal(new_user(org, "plain@testi.example"))
        before = state(org)
        with pytest.raises(PermissionDenied) as error:
            create_user(
                organization=org, email="bob@testi.example", name="Bob", actor=ordinary, now=NOW
            )
        assert error.value.message == "You need the permission “Manage users”."
        assert state(org) == before

    def test_other_organisations_admin_gets_not_found(self, org: Any) -> None:
        other = make_organization(name="Muu Oy", admin_email="other@muu.example")
        before = state(org)
        with pytest.raises(NotFound):
            create_user(
                organization=org,
                email="bob@testi.example",
                name="Bob",
                actor=admin_of(other),
                now=NOW,
            )
        assert state(org) == before

    def test_outsiders_cannot_probe_which_emails_exist(self, org: Any) -> None:
        # "Missing and not yours look the same": no duplicate-e-mail answer before the
        # permission check, or anyone could test addresses against the whole user table.
        other = make_organization(name="Muu Oy", admin_email="other@muu.example")
        ordinary = Actor.portal(new_user(org, "plain@testi.example"))
        with pytest.raises(NotFound):
            create_user(
                organization=org,
                email="other@muu.example",
                name="Bob",
                actor=admin_of(other),
                now=NOW,
            )
        with pytest.raises(PermissionDenied):
            create_user(
                organization=org, email="admin@testi.example", name="Bob", actor=ordinary, now=NOW
            )

    def test_marketplace_admin_cannot_buy_a_licence_here(self, catalog: None) -> None:
        org = make_organization(
            licenses=1,
            purchase_channel={
                "type": "marketplace",
                "name": "Partner Market",
                "url": "https://pm.example/",
            },
        )
        before = state(org)
        with pytest.raises(ManagedByMarketplace):
            create_user(
                organization=org,
                email="bob@testi.example",
                name="Bob",
                buy_license=True,
                actor=admin_of(org),
                now=NOW,
            )
        assert state(org) == before


class TestDeactivateUser:
    def test_keeping_the_licence_leaves_it_free(self, org: Any, admin: Actor) -> None:
        from abonnement.subscriptions.selectors import subscription_overview

        bob = new_user(org, "bob@testi.example")
        user = deactivate_user(
            organization=org, user_id=bob.pk, license="keep", actor=admin, now=NOW
        )
        assert user.is_active is False
        assert User.objects.get(pk=bob.pk).is_active is False
        assert licenses(org) == (10, 10)
        overview = subscription_overview(organization_id=org.pk)
        assert (overview.active_users, overview.current.free_licenses) == (1, 9)
        entry = history(org, "users")[-1]
        assert (entry.action, entry.subject, entry.reason) == (
            "user_deactivated",
            "bob@testi.example",
            "Licence kept",
        )
        assert entry.before == {
            "email": "bob@testi.example",
            "name": "Bob Builder",
            "active": True,
            "permissions": [],
        }
        assert entry.after == {
            "email": "bob@testi.example",
            "name": "Bob Builder",
            "active": False,
            "permissions": [],
            "license": "keep",
        }
        assert history(org, "licenses") == []

    def test_removing_the_licence_lowers_the_next_period_only(self, org: Any, admin: Actor) -> None:
        bob = new_user(org, "bob@testi.example")
        orders_before = Order.objects.filter(organization=org).count()
        deactivate_user(organization=org, user_id=bob.pk, license="remove", actor=admin, now=NOW)
        assert licenses(org) == (10, 9)
        assert Order.objects.filter(organization=org).count() == orders_before
        entry = history(org, "users")[-1]
        assert entry.reason == "Licence removed from the next period"
        assert entry.after["license"] == "remove"
        licence_entry = history(org, "licenses")[-1]
        assert (licence_entry.action, licence_entry.after) == (
            "licenses_removal_scheduled",
            {"current": 10, "next": 9},
        )

    def test_removing_needs_the_subscription_permission(self, org: Any) -> None:
        manager = user_manager(org)
        bob = new_user(org, "bob@testi.example")
        before = state(org)
        with pytest.raises(PermissionDenied):
            deactivate_user(
                organization=org, user_id=bob.pk, license="remove", actor=manager, now=NOW
            )
        assert state(org) == before
        assert User.objects.get(pk=bob.pk).is_active is True

    def test_user_manager_may_keep_the_licence(self, org: Any) -> None:
        manager = user_manager(org)
        bob = new_user(org, "bob@testi.example")
        deactivate_user(organization=org, user_id=bob.pk, license="keep", actor=manager, now=NOW)
        assert User.objects.get(pk=bob.pk).is_active is False

    def test_last_subscription_admin_cannot_be_deactivated(self, org: Any, admin: Actor) -> None:
        assert admin.user is not None
        before = state(org)
        with pytest.raises(LastSubscriptionAdmin) as error:
            deactivate_user(
                organization=org, user_id=admin.user.pk, license="keep", actor=admin, now=NOW
            )
        assert error.value.code == "last_subscription_admin"
        assert state(org) == before

    def test_an_inactive_second_admin_does_not_count(self, org: Any, admin: Actor) -> None:
        assert admin.user is not None
        second = new_user(org, "second@testi.example", permissions=["manage_subscription"])
        deactivate_user(organization=org, user_id=second.pk, license="keep", actor=admin, now=NOW)
        before = state(org)
        with pytest.raises(LastSubscriptionAdmin):
            deactivate_user(
                organization=org, user_id=admin.user.pk, license="keep", actor=admin, now=NOW
            )
        assert state(org) == before

    def test_admin_can_be_deactivated_while_another_remains(self, org: Any, admin: Actor) -> None:
        assert admin.user is not None
        new_user(org, "second@testi.example", permissions=["manage_subscription"])
        deactivate_user(
            organization=org, user_id=admin.user.pk, license="keep", actor=admin, now=NOW
        )
        assert User.objects.get(pk=admin.user.pk).is_active is False

    def test_already_inactive_user_is_refused(self, org: Any, admin: Actor) -> None:
        bob = new_user(org, "bob@testi.example")
        deactivate_user(organization=org, user_id=bob.pk, license="keep", actor=admin, now=NOW)
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            deactivate_user(
                organization=org, user_id=bob.pk, license="remove", actor=admin, now=NOW
            )
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("user", "This user is already inactive.")
        ]
        assert state(org) == before

    @pytest.mark.parametrize("choice", ["", "delete", None, True], ids=str)
    def test_licence_choice_must_be_keep_or_remove(
        self, org: Any, admin: Actor, choice: object
    ) -> None:
        bob = new_user(org, "bob@testi.example")
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            deactivate_user(organization=org, user_id=bob.pk, license=choice, actor=admin, now=NOW)
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("license", "Choose “keep” or “remove”.")
        ]
        assert state(org) == before

    @pytest.mark.parametrize("user_id", [999_999, "abc", None], ids=["missing", "text", "none"])
    def test_unknown_user_is_not_found(self, org: Any, admin: Actor, user_id: object) -> None:
        before = state(org)
        with pytest.raises(NotFound):
            deactivate_user(organization=org, user_id=user_id, license="keep", actor=admin, now=NOW)
        assert state(org) == before

    def test_user_of_another_organisation_is_not_found(self, org: Any, admin: Actor) -> None:
        other = make_organization(name="Muu Oy", admin_email="other@muu.example")
        stranger = new_user(other, "stranger@muu.example")
        with pytest.raises(NotFound):
            deactivate_user(
                organization=org, user_id=stranger.pk, license="keep", actor=admin, now=NOW
            )
        assert User.objects.get(pk=stranger.pk).is_active is True


class TestReactivateUser:
    def test_reactivates_on_a_free_licence(self, org: Any, admin: Actor) -> None:
        bob = new_user(org, "bob@testi.example")
        deactivate_user(organization=org, user_id=bob.pk, license="keep", actor=admin, now=NOW)
        result = reactivate_user(
            organization=org, user_id=bob.pk, buy_license=False, actor=admin, now=NOW
        )
        assert result.order is None
        assert User.objects.get(pk=bob.pk).is_active is True
        entry = history(org, "users")[-1]
        assert (entry.action, entry.before["active"], entry.after["active"]) == (
            "user_reactivated",
            False,
            True,
        )

    def test_without_a_free_licence_is_refused(self, org: Any, admin: Actor) -> None:
        bob = new_user(org, "bob@testi.example")
        deactivate_user(organization=org, user_id=bob.pk, license="keep", actor=admin, now=NOW)
        add_users(org, 9)  # 10 active
        before = state(org)
        with pytest.raises(NoFreeLicense):
            reactivate_user(
                organization=org, user_id=bob.pk, buy_license=False, actor=admin, now=NOW
            )
        assert state(org) == before

    def test_buys_a_licence_pro_rata(self, org: Any, admin: Actor) -> None:
        bob = new_user(org, "bob@testi.example")
        deactivate_user(organization=org, user_id=bob.pk, license="keep", actor=admin, now=NOW)
        add_users(org, 9)
        result = reactivate_user(
            organization=org, user_id=bob.pk, buy_license=True, actor=admin, now=NOW
        )
        assert result.order is not None
        # 1 × 20.00 × 6 × 167 / 181 = 110.718… → 110.72
        assert result.order.total == Decimal("110.72")
        assert licenses(org) == (11, 11)
        assert history(org, "users")[-1].reason == f"Order {result.order.number}"

    def test_after_removing_the_licence_takes_it_back_without_order(
        self, org: Any, admin: Actor
    ) -> None:
        users = add_users(org, 9)  # 10 active
        deactivate_user(
            organization=org, user_id=users[0].pk, license="remove", actor=admin, now=NOW
        )
        assert licenses(org) == (10, 9)
        orders_before = Order.objects.filter(organization=org).count()
        result = reactivate_user(
            organization=org, user_id=users[0].pk, buy_license=False, actor=admin, now=NOW
        )
        assert result.order is None
        assert licenses(org) == (10, 10)
        assert Order.objects.filter(organization=org).count() == orders_before

    def test_already_active_user_is_refused(self, org: Any, admin: Actor) -> None:
        bob = new_user(org, "bob@testi.example")
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            reactivate_user(
                organization=org, user_id=bob.pk, buy_license=False, actor=admin, now=NOW
            )
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("user", "This user is already active.")
        ]
        assert state(org) == before

    def test_ordinary_user_cannot_reactivate(self, org: Any, admin: Actor) -> None:
        bob = new_user(org, "bob@testi.example")
        deactivate_user(organization=org, user_id=bob.pk, license="keep", actor=admin, now=NOW)
        ordinary = Actor.portal(new_user(org, "plain@testi.example"))
        before = state(org)
        with pytest.raises(PermissionDenied):
            reactivate_user(
                organization=org, user_id=bob.pk, buy_license=False, actor=ordinary, now=NOW
            )
        assert state(org) == before


class TestUpdateUser:
    def test_renames_with_history(self, org: Any, admin: Actor) -> None:
        bob = new_user(org, "bob@testi.example")
        user = update_user(
            organization=org, user_id=bob.pk, name="Robert Builder", actor=admin, now=NOW
        )
        assert User.objects.get(pk=bob.pk).name == user.name == "Robert Builder"
        entry = history(org, "users")[-1]
        assert (entry.action, entry.before["name"], entry.after["name"]) == (
            "user_updated",
            "Bob Builder",
            "Robert Builder",
        )

    def test_unchanged_values_write_no_history(self, org: Any, admin: Actor) -> None:
        bob = new_user(org, "bob@testi.example")
        before = state(org)
        update_user(
            organization=org,
            user_id=bob.pk,
            name="Bob Builder",
            permissions_granted=[],
            actor=admin,
            now=NOW,
        )
        assert state(org) == before

    def test_last_subscription_admin_cannot_lose_the_permission(
        self, org: Any, admin: Actor
    ) -> None:
        assert admin.user is not None
        before = state(org)
        with pytest.raises(LastSubscriptionAdmin):
            update_user(
                organization=org,
                user_id=admin.user.pk,
                permissions_granted=["manage_users"],
                actor=admin,
                now=NOW,
            )
        assert state(org) == before

    def test_admin_hands_over_the_permission(self, org: Any, admin: Actor) -> None:
        assert admin.user is not None
        bob = new_user(org, "bob@testi.example")
        update_user(
            organization=org,
            user_id=bob.pk,
            permissions_granted=["manage_subscription"],
            actor=admin,
            now=NOW,
        )
        update_user(
            organization=org, user_id=admin.user.pk, permissions_granted=[], actor=admin, now=NOW
        )
        assert User.objects.get(pk=admin.user.pk).permissions == []
        assert User.objects.get(pk=bob.pk).permissions == ["manage_subscription"]

    def test_user_manager_cannot_grant_the_subscription_permission(self, org: Any) -> None:
        manager = user_manager(org)
        bob = new_user(org, "bob@testi.example")
        before = state(org)
        with pytest.raises(PermissionDenied):
            update_user(
                organization=org,
                user_id=bob.pk,
                permissions_granted=["manage_subscription"],
                actor=manager,
                now=NOW,
            )
        assert state(org) == before

    def test_user_manager_may_rename(self, org: Any) -> None:
        manager = user_manager(org)
        bob = new_user(org, "bob@testi.example")
        update_user(organization=org, user_id=bob.pk, name="Bobby", actor=manager, now=NOW)
        assert User.objects.get(pk=bob.pk).name == "Bobby"

    def test_bad_name_and_permissions_are_field_errors(self, org: Any, admin: Actor) -> None:
        bob = new_user(org, "bob@testi.example")
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            update_user(
                organization=org,
                user_id=bob.pk,
                name="y" * 10_000,
                permissions_granted="manage_users",
                actor=admin,
                now=NOW,
            )
        assert [e.field for e in error.value.errors] == ["name", "permissions"]
        assert error.value.for_field("permissions") == ["Give a list of permissions."]
        assert state(org) == before


class TestVendorToken:
    def test_stores_only_the_hash_and_shows_the_secret_once(self) -> None:
        issued = create_vendor_token(name=" Product backend ", actor=VENDOR, now=NOW)
        secret = issued.secret
        assert secret.startswith("abn_")
        assert len(secret) == 4 + 43  # "abn_" + 32 random bytes in URL-safe base64
        stored = ApiToken.objects.get(pk=issued.token.pk)
        assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert stored.prefix == secret[:12]
        assert (stored.name, stored.vendor, stored.scopes, stored.created_at) == (
            "Product backend",
            True,
            ["read", "write"],
            NOW,
        )
        assert (stored.organization_id, stored.user_id, stored.revoked_at) == (None, None, None)
        stored_text = [
            str(v) for v in ApiToken.objects.filter(pk=stored.pk).values().get().values()
        ]
        assert secret not in stored_text

    def test_two_tokens_get_different_secrets(self) -> None:
        first = create_vendor_token(name="One", actor=VENDOR, now=NOW)
        second = create_vendor_token(name="Two", actor=VENDOR, now=NOW)
        assert first.secret != second.secret

    def test_billing_staff_may_create_one(self, db: Any) -> None:
        issued = create_vendor_token(name="Back office", actor=staff("billing"), now=NOW)
        assert issued.token.vendor is True

    def test_support_staff_may_not(self, db: Any) -> None:
        with pytest.raises(PermissionDenied) as error:
            create_vendor_token(name="Nope", actor=staff("support"), now=NOW)
        assert error.value.message == "This needs the billing role."
        assert ApiToken.objects.count() == 0

    def test_portal_admin_may_not(self, org: Any, admin: Actor) -> None:
        with pytest.raises(PermissionDenied):
            create_vendor_token(name="Nope", actor=admin, now=NOW)
        assert ApiToken.objects.count() == 0

    @pytest.mark.parametrize("name", ["", "   ", "x" * 101], ids=["empty", "blank", "long"])
    def test_name_is_required_and_short(self, db: Any, name: str) -> None:
        with pytest.raises(ValidationFailed) as error:
            create_vendor_token(name=name, actor=VENDOR, now=NOW)
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("name", "Give the token a name of 1–100 characters.")
        ]
        assert ApiToken.objects.count() == 0


class TestOrganizationToken:
    def test_acts_for_the_admin_who_creates_it(self, org: Any, admin: Actor) -> None:
        issued = create_organization_token(
            organization=org, name="CI", scopes=["write", "read", "read"], actor=admin, now=NOW
        )
        token = ApiToken.objects.get(pk=issued.token.pk)
        assert admin.user is not None
        assert (token.organization_id, token.user_id, token.vendor, token.scopes) == (
            org.pk,
            admin.user.pk,
            False,
            ["read", "write"],
        )
        assert token.token_hash == hashlib.sha256(issued.secret.encode()).hexdigest()
        entry = history(org, "organization")[-1]
        assert (entry.action, entry.subject) == ("api_token_created", "CI")
        assert entry.after == {"name": "CI", "scopes": ["read", "write"], "prefix": token.prefix}
        assert issued.secret not in str(entry.after)

    def test_vendor_creates_one_on_behalf_of_the_first_admin(self, org: Any) -> None:
        issued = create_organization_token(
            organization=org, name="Vendor made", scopes=["read"], actor=VENDOR, now=NOW
        )
        assert issued.token.user == admin_of(org).user

    def test_user_manager_may_not(self, org: Any) -> None:
        manager = user_manager(org)
        history_before = HistoryEntry.objects.filter(organization=org).count()
        with pytest.raises(PermissionDenied):
            create_organization_token(
                organization=org, name="CI", scopes=["read"], actor=manager, now=NOW
            )
        assert ApiToken.objects.count() == 0
        assert HistoryEntry.objects.filter(organization=org).count() == history_before

    def test_a_token_creates_tokens_of_its_own_scopes_at_most(self, org: Any, admin: Actor) -> None:
        assert admin.user is not None
        write_only = create_organization_token(
            organization=org, name="Writer", scopes=["write"], actor=admin, now=NOW
        ).token
        through_token = Actor.organization_token("Writer", admin.user, token_id=write_only.pk)
        history_before = HistoryEntry.objects.filter(organization=org).count()
        with pytest.raises(PermissionDenied) as refused:
            create_organization_token(
                organization=org,
                name="Escalated",
                scopes=["read", "write"],
                actor=through_token,
                now=NOW,
            )
        assert str(refused.value) == (
            "This token can only create tokens with its own scopes: write."
        )
        assert list(ApiToken.objects.values_list("name", flat=True)) == ["Writer"]
        assert HistoryEntry.objects.filter(organization=org).count() == history_before
        made = create_organization_token(
            organization=org, name="Also writer", scopes=["write"], actor=through_token, now=NOW
        )
        assert made.token.scopes == ["write"]

    @pytest.mark.parametrize(
        "scopes", [[], ["admin"], "read", [1]], ids=["empty", "unknown", "string", "int"]
    )
    def test_bad_name_and_scopes_are_reported_together(
        self, org: Any, admin: Actor, scopes: object
    ) -> None:
        with pytest.raises(ValidationFailed) as error:
            create_organization_token(
                organization=org, name=None, scopes=scopes, actor=admin, now=NOW
            )
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("name", "Give the token a name of 1–100 characters."),
            ("scopes", "Choose one or both of: read, write."),
        ]
        assert ApiToken.objects.count() == 0


class TestAuthenticateAndRevoke:
    def test_valid_secret_authenticates_and_records_last_use(self, org: Any, admin: Actor) -> None:
        issued = create_organization_token(
            organization=org, name="CI", scopes=["read"], actor=admin, now=NOW
        )
        later = NOW + timedelta(hours=3)
        token = authenticate_token(issued.secret, now=later)
        assert token is not None and token.pk == issued.token.pk
        assert token.organization == org
        assert ApiToken.objects.get(pk=token.pk).last_used_at == later

    def test_last_use_is_written_at_most_once_a_minute(self, org: Any, admin: Actor) -> None:
        issued = create_organization_token(
            organization=org, name="CI", scopes=["read"], actor=admin, now=NOW
        )

        def use(at: Any) -> tuple[Any, list[str]]:
            with CaptureQueriesContext(connection) as queries:
                token = authenticate_token(issued.secret, now=at)
            assert token is not None
            sql = [q["sql"].split(" ", 1)[0] for q in queries.captured_queries]
            return token.last_used_at, sql

        assert use(NOW) == (NOW, ["SELECT", "UPDATE"])
        assert use(NOW + timedelta(seconds=59)) == (NOW, ["SELECT"])
        assert use(NOW + timedelta(seconds=60)) == (NOW, ["SELECT"])
        assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == NOW
        after = NOW + timedelta(seconds=60, microseconds=1)
        assert use(after) == (after, ["SELECT", "UPDATE"])
        assert use(after + timedelta(seconds=30)) == (after, ["SELECT"])
        assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == after
        history_before = HistoryEntry.objects.filter(organization=org).count()
        use(after + timedelta(hours=1))
        assert HistoryEntry.objects.filter(organization=org).count() == history_before

    def test_a_use_recorded_meanwhile_is_not_written_again(self, org: Any, admin: Actor) -> None:
        """The UPDATE repeats the condition: a request that read the token before another
        one recorded its use writes nothing."""
        issued = create_organization_token(
            organization=org, name="CI", scopes=["read"], actor=admin, now=NOW
        )
        meanwhile = NOW + timedelta(seconds=10)
        # The row as this request read it, before the other one wrote: never used.
        read_before = ApiToken.objects.select_related("user", "organization").get(
            pk=issued.token.pk
        )
        ApiToken.objects.filter(pk=issued.token.pk).update(last_used_at=meanwhile)
        with patch.object(QuerySet, "first", lambda _queryset: read_before):
            token = authenticate_token(issued.secret, now=NOW + timedelta(seconds=20))
        assert token is not None and token.last_used_at is None
        assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == meanwhile

    @pytest.mark.parametrize(
        "secret", ["", "abn_wrong", "x" * 10_000], ids=["empty", "wrong", "huge"]
    )
    def test_unknown_secret_is_none(self, db: Any, secret: str) -> None:
        create_vendor_token(name="Real", actor=VENDOR, now=NOW)
        assert authenticate_token(secret, now=NOW) is None

    def test_revoked_token_is_none(self, org: Any, admin: Actor) -> None:
        issued = create_organization_token(
            organization=org, name="CI", scopes=["read"], actor=admin, now=NOW
        )
        revoked = revoke_token(token_id=issued.token.pk, organization=org, actor=admin, now=NOW)
        assert revoked.revoked_at == NOW
        assert authenticate_token(issued.secret, now=NOW) is None
        assert ApiToken.objects.get(pk=issued.token.pk).last_used_at is None
        entry = history(org, "organization")[-1]
        assert (entry.action, entry.subject, entry.before) == (
            "api_token_revoked",
            "CI",
            {"prefix": issued.token.prefix},
        )

    def test_token_of_a_deactivated_user_is_none(self, org: Any, admin: Actor) -> None:
        second = new_user(org, "second@testi.example", permissions=["manage_subscription"])
        issued = create_organization_token(
            organization=org, name="CI", scopes=["read"], actor=Actor.portal(second), now=NOW
        )
        deactivate_user(organization=org, user_id=second.pk, license="keep", actor=admin, now=NOW)
        assert authenticate_token(issued.secret, now=NOW) is None

    def test_revoking_twice_is_not_found(self, org: Any, admin: Actor) -> None:
        issued = create_organization_token(
            organization=org, name="CI", scopes=["read"], actor=admin, now=NOW
        )
        revoke_token(token_id=issued.token.pk, organization=org, actor=admin, now=NOW)
        history_before = HistoryEntry.objects.filter(organization=org).count()
        with pytest.raises(NotFound):
            revoke_token(token_id=issued.token.pk, organization=org, actor=admin, now=NOW)
        assert HistoryEntry.objects.filter(organization=org).count() == history_before

    def test_other_organisations_token_is_not_found(self, org: Any, admin: Actor) -> None:
        other = make_organization(name="Muu Oy", admin_email="other@muu.example")
        issued = create_organization_token(
            organization=other, name="Theirs", scopes=["read"], actor=admin_of(other), now=NOW
        )
        with pytest.raises(NotFound):
            revoke_token(token_id=issued.token.pk, organization=org, actor=admin, now=NOW)
        assert ApiToken.objects.get(pk=issued.token.pk).revoked_at is None
        assert authenticate_token(issued.secret, now=NOW) is not None

    def test_vendor_token_is_revoked_by_the_vendor_only(self, org: Any, admin: Actor) -> None:
        issued = create_vendor_token(name="Backend", actor=VENDOR, now=NOW)
        with pytest.raises(PermissionDenied):
            revoke_token(token_id=issued.token.pk, organization=None, actor=admin, now=NOW)
        assert authenticate_token(issued.secret, now=NOW) is not None
        revoke_token(token_id=issued.token.pk, organization=None, actor=VENDOR, now=NOW)
        assert authenticate_token(issued.secret, now=NOW) is None
