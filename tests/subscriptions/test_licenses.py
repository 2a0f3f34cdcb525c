"""set_license_count and its preview (PRODUCT.md "User licences", Rules 2–4)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from abonnement.core.actor import Actor
from abonnement.core.errors import PermissionDenied, ValidationFailed
from abonnement.history.models import HistoryEntry
from abonnement.orders.models import Order, OrderLine
from abonnement.subscriptions.errors import BelowActiveUsers, ManagedByMarketplace
from abonnement.subscriptions.models import Subscription
from abonnement.subscriptions.services import (
    preview_license_change,
    set_license_count,
)
from tests.conftest import NOW, VENDOR, add_users, make_organization

pytestmark = pytest.mark.django_db


def state(org: Any) -> tuple[int, int, int, int]:
    sub = Subscription.objects.get(organization=org)
    return (
        sub.licenses,
        sub.licenses_next,
        Order.objects.filter(organization=org).count(),
        HistoryEntry.objects.filter(organization=org).count(),
    )


class TestSetLicenseCount:
    def test_raising_buys_the_difference_pro_rata_now(self, org: Any, admin: Actor) -> None:
        # Period 2027-01-01..2027-06-30 = 181 days; NOW is 2027-01-15 → 167 days left.
        result = set_license_count(organization=org, licenses=13, actor=admin, now=NOW)
        assert (result.subscription.licenses, result.subscription.licenses_next) == (13, 13)
        order = result.order
        assert order is not None
        assert order.kind == "licenses"
        # 3 × 20.00 × 6 × 167 / 181 = 332.1546… → 332.15
        assert order.total == Decimal("332.15")
        line = OrderLine.objects.get(order=order)
        assert (line.quantity, line.unit_price, line.amount) == (
            Decimal("3"),
            Decimal("20.0000"),
            Decimal("332.15"),
        )
        assert (line.period_start, line.period_end, line.days, line.period_days) == (
            date(2027, 1, 15),
            date(2027, 6, 30),
            167,
            181,
        )
        entry = HistoryEntry.objects.filter(organization=org, kind="licenses").get()
        assert (entry.action, entry.actor_name, entry.channel) == (
            "licenses_bought",
            "Anna Admin",
            "portal",
        )
        assert entry.before == {"current": 10, "next": 10}
        assert entry.after == {"current": 13, "next": 13}
        assert entry.reason == f"Order {order.number}"

    def test_lowering_takes_effect_next_period_without_refund(self, org: Any, admin: Actor) -> None:
        orders_before = Order.objects.filter(organization=org).count()
        result = set_license_count(organization=org, licenses=7, actor=admin, now=NOW)
        assert result.order is None
        assert (result.subscription.licenses, result.subscription.licenses_next) == (10, 7)
        assert Order.objects.filter(organization=org).count() == orders_before
        entry = HistoryEntry.objects.filter(organization=org, kind="licenses").get()
        assert entry.action == "licenses_removal_scheduled"
        assert entry.after == {"current": 10, "next": 7}

    def test_setting_back_to_current_cancels_scheduled_removal(
        self, org: Any, admin: Actor
    ) -> None:
        set_license_count(organization=org, licenses=7, actor=admin, now=NOW)
        result = set_license_count(organization=org, licenses=10, actor=admin, now=NOW)
        assert result.order is None
        assert (result.subscription.licenses, result.subscription.licenses_next) == (10, 10)
        actions = list(
            HistoryEntry.objects.filter(organization=org, kind="licenses")
            .order_by("id")
            .values_list("action", flat=True)
        )
        assert actions == ["licenses_removal_scheduled", "licenses_removal_cancelled"]

    def test_each_change_of_a_scheduled_removal_is_named_for_what_it_does(
        self, org: Any, admin: Actor
    ) -> None:
        for licences in (7, 5, 8, 10):
            set_license_count(organization=org, licenses=licences, actor=admin, now=NOW)
        entries = list(
            HistoryEntry.objects.filter(organization=org, kind="licenses")
            .order_by("id")
            .values_list("action", "before", "after")
        )
        assert entries == [
            (
                "licenses_removal_scheduled",
                {"current": 10, "next": 10},
                {"current": 10, "next": 7},
            ),
            ("licenses_removal_scheduled", {"current": 10, "next": 7}, {"current": 10, "next": 5}),
            ("licenses_removal_reduced", {"current": 10, "next": 5}, {"current": 10, "next": 8}),
            ("licenses_removal_cancelled", {"current": 10, "next": 8}, {"current": 10, "next": 10}),
        ]

    def test_same_number_changes_nothing(self, org: Any, admin: Actor) -> None:
        before = state(org)
        result = set_license_count(organization=org, licenses=10, actor=admin, now=NOW)
        assert result.order is None
        assert state(org) == before

    def test_below_active_users_is_refused_and_changes_nothing(
        self, org: Any, admin: Actor
    ) -> None:
        add_users(org, 4)  # 5 active with the admin
        before = state(org)
        with pytest.raises(BelowActiveUsers) as error:
            set_license_count(organization=org, licenses=4, actor=admin, now=NOW)
        assert error.value.code == "below_active_users"
        assert error.value.active_users == 5
        assert "5 users are active" in error.value.message
        assert state(org) == before

    @pytest.mark.parametrize(
        ("language", "message"),
        [
            ("en", "The number cannot be more than 100,000."),
            ("nl", "Het aantal kan niet hoger zijn dan 100.000."),
            ("fi", "Määrä voi olla enintään 100\xa0000."),
        ],
    )
    def test_the_limit_is_written_for_the_users_language(
        self, org: Any, admin: Actor, language: str, message: str
    ) -> None:
        from django.utils import translation

        with translation.override(language), pytest.raises(ValidationFailed) as error:
            set_license_count(organization=org, licenses=100_001, actor=admin, now=NOW)
        assert error.value.for_field("licenses") == [message]

    def test_exactly_active_users_is_allowed(self, org: Any, admin: Actor) -> None:
        add_users(org, 4)
        result = set_license_count(organization=org, licenses=5, actor=admin, now=NOW)
        assert (result.subscription.licenses, result.subscription.licenses_next) == (10, 5)

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (-1, "cannot be negative"),
            (100_001, "cannot be more than 100,000"),
            (10**12, "cannot be more than 100,000"),
            ("12", "whole number"),
            (12.5, "whole number"),
            (True, "whole number"),
            (None, "whole number"),
        ],
        ids=["negative", "over-limit", "huge", "string", "float", "bool", "none"],
    )
    def test_bad_counts_are_field_errors(
        self, org: Any, admin: Actor, value: object, message: str
    ) -> None:
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            set_license_count(organization=org, licenses=value, actor=admin, now=NOW)
        assert [e.field for e in error.value.errors] == ["licenses"]
        assert message in error.value.errors[0].message
        assert state(org) == before

    def test_user_without_subscription_permission_is_refused(self, org: Any) -> None:
        from abonnement.accounts.models import User
        from abonnement.accounts.services import create_user
        from tests.conftest import admin_of

        create_user(
            organization=org,
            email="um@testi.example",
            name="User Manager",
            permissions_granted=["manage_users"],
            actor=admin_of(org),
            now=NOW,
        )
        manager = Actor.portal(User.objects.get(email="um@testi.example"))
        before = state(org)
        with pytest.raises(PermissionDenied):
            set_license_count(organization=org, licenses=12, actor=manager, now=NOW)
        assert state(org) == before

    def test_other_organisations_user_gets_not_found(self, org: Any, catalog: None) -> None:
        from abonnement.core.errors import NotFound
        from tests.conftest import admin_of

        other = make_organization(name="Muu Oy", admin_email="other@muu.example")
        before = state(org)
        with pytest.raises(NotFound):
            set_license_count(organization=org, licenses=12, actor=admin_of(other), now=NOW)
        assert state(org) == before

    def test_marketplace_organisation_is_locked_for_its_admin(self, catalog: None) -> None:
        from tests.conftest import admin_of

        org = make_organization(
            purchase_channel={
                "type": "marketplace",
                "name": "Partner Market",
                "url": "https://pm.example/",
            }
        )
        before = state(org)
        with pytest.raises(ManagedByMarketplace) as error:
            set_license_count(organization=org, licenses=12, actor=admin_of(org), now=NOW)
        assert "Partner Market" in error.value.message
        assert state(org) == before

    def test_marketplace_organisation_changes_through_vendor_call(self, catalog: None) -> None:
        org = make_organization(
            purchase_channel={
                "type": "marketplace",
                "name": "Partner Market",
                "url": "https://pm.example/",
            }
        )
        result = set_license_count(organization=org, licenses=12, actor=VENDOR, now=NOW)
        assert result.subscription.licenses == 12
        assert result.order is not None and result.order.actor_name == "Test vendor"

    def test_change_on_last_day_charges_one_day(self, org: Any, admin: Actor) -> None:
        last_day = NOW.replace(month=6, day=30)
        result = set_license_count(organization=org, licenses=11, actor=admin, now=last_day)
        assert result.order is not None
        # 1 × 20 × 6 × 1 / 181 = 0.6629… → 0.66
        assert result.order.total == Decimal("0.66")

    def test_change_after_period_end_counts_for_the_started_period(
        self, org: Any, admin: Actor
    ) -> None:
        # The rollover job has not run yet; the change must count for the new period (Rule 2).
        later = NOW + timedelta(days=180)  # 2027-07-14, period 2027-07-01..2027-12-31 (184 days)
        result = set_license_count(organization=org, licenses=11, actor=admin, now=later)
        sub = result.subscription
        assert (sub.current_period_start, sub.current_period_end) == (
            date(2027, 7, 1),
            date(2027, 12, 31),
        )
        assert result.order is not None
        # New price list from 2027-07-01: 21.00. 1 × 21 × 6 × 171 / 184 = 117.097… → 117.10
        assert result.order.total == Decimal("117.10")
        kinds = list(
            Order.objects.filter(organization=org).order_by("number").values_list("kind", flat=True)
        )
        assert kinds == ["renewal", "renewal", "licenses"]


class TestPreviewLicenseChange:
    def test_preview_shows_charge_and_new_prices_and_commits_nothing(
        self, org: Any, admin: Actor
    ) -> None:
        before = state(org)
        preview = preview_license_change(organization=org, licenses=13, actor=admin, now=NOW)
        assert preview.charge_now == Decimal("332.15")
        assert (preview.charged_period.start, preview.charged_period.end) == (
            date(2027, 1, 15),
            date(2027, 6, 30),
        )
        assert (preview.days, preview.period_days) == (167, 181)
        assert preview.overview.current.licenses == 13
        assert preview.overview.current.monthly_price == Decimal("260.00")
        assert preview.overview.current.total_price == Decimal("1560.00")
        # Next period 2027-07-01 at the new price list: 13 × 21.00
        assert preview.overview.next.licenses == 13
        assert preview.overview.next.monthly_price == Decimal("273.00")
        assert preview.overview.next.total_price == Decimal("1638.00")
        assert state(org) == before

    def test_preview_of_lowering_charges_nothing(self, org: Any, admin: Actor) -> None:
        preview = preview_license_change(organization=org, licenses=8, actor=admin, now=NOW)
        assert preview.charge_now == Decimal("0.00")
        assert preview.overview.current.licenses == 10
        assert preview.overview.next.licenses == 8

    def test_preview_has_the_same_errors(self, org: Any, admin: Actor) -> None:
        add_users(org, 2)
        before = state(org)
        with pytest.raises(BelowActiveUsers):
            preview_license_change(organization=org, licenses=2, actor=admin, now=NOW)
        assert state(org) == before
