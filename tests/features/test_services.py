"""Company-wide feature and integration switches (PRODUCT.md section 3, Rules 3, 6, 13, 14).

The default organisation is Pro: reports, API access and Slack included; SSO (8.00), SCIM
(3.00, requires SSO) and CRM sync (15.00) paid add-ons. Period 2027-01-01..2027-06-30 is
181 days; on NOW (2027-01-15) an add-on is charged for 167 of them. From 2027-07-01 every
EUR price is 1.00 higher.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from abonnement.core.actor import Actor
from abonnement.core.errors import NotFound, PermissionDenied, ValidationFailed
from abonnement.features.errors import FeatureNotAvailable, FeatureRequired
from abonnement.features.models import FeatureSwitch
from abonnement.features.selectors import entitlements, feature_states
from abonnement.features.services import preview_feature_change, set_feature_enabled
from abonnement.history.models import HistoryEntry
from abonnement.orders.models import Order, OrderLine
from abonnement.subscriptions.errors import ManagedByMarketplace
from abonnement.subscriptions.models import Subscription, SubscriptionAddOn
from abonnement.subscriptions.selectors import AddOnView, subscription_overview
from tests.conftest import NOW, VENDOR, add_users, admin_of, make_organization

pytestmark = pytest.mark.django_db

MARKETPLACE = {"type": "marketplace", "name": "Partner Market", "url": "https://pm.example/"}


def state(org: Any) -> dict[str, Any]:
    """Everything a refused switch must leave as it was."""
    return {
        "switches": sorted(
            FeatureSwitch.objects.filter(organization=org).values_list("feature__code", "enabled")
        ),
        "add_ons": sorted(
            SubscriptionAddOn.objects.filter(subscription__organization=org).values_list(
                "feature__code", "in_current", "in_next"
            )
        ),
        "orders": Order.objects.filter(organization=org).count(),
        "history": HistoryEntry.objects.filter(organization=org).count(),
    }


def enabled_codes(org: Any) -> list[str]:
    return sorted(
        FeatureSwitch.objects.filter(organization=org, enabled=True).values_list(
            "feature__code", flat=True
        )
    )


def add_on_orders(org: Any) -> list[Order]:
    return list(Order.objects.filter(organization=org, kind="add_on").order_by("number"))


def feature_history(org: Any) -> list[tuple[str, str, Any, Any, str]]:
    return [
        (e.action, e.subject, e.before, e.after, e.reason)
        for e in HistoryEntry.objects.filter(organization=org, kind="features").order_by("id")
    ]


def switch(org: Any, code: str, enabled: object, actor: Actor, now: datetime = NOW) -> Any:
    return set_feature_enabled(organization=org, code=code, enabled=enabled, actor=actor, now=now)


class TestIncludedFeatures:
    def test_switching_off_and_on_is_logged_without_orders(self, org: Any, admin: Actor) -> None:
        orders_before = Order.objects.filter(organization=org).count()
        off = switch(org, "api", False, admin)
        assert (off.state.enabled, off.order) == (False, None)
        assert enabled_codes(org) == ["reports", "slack"]
        on = switch(org, "api", True, admin)
        assert (on.state.enabled, on.order) == (True, None)
        assert enabled_codes(org) == ["api", "reports", "slack"]
        assert Order.objects.filter(organization=org).count() == orders_before
        assert feature_history(org) == [
            ("disabled", "api", {"enabled": True}, {"enabled": False}, ""),
            ("enabled", "api", {"enabled": False}, {"enabled": True}, ""),
        ]
        entry = HistoryEntry.objects.filter(organization=org, kind="features").first()
        assert entry is not None
        assert (entry.actor_name, entry.channel, entry.at) == ("Anna Admin", "portal", NOW)

    def test_switch_remembers_when_it_changed(self, org: Any, admin: Actor) -> None:
        later = NOW + timedelta(days=3)
        switch(org, "slack", False, admin, now=later)
        assert (
            FeatureSwitch.objects.get(organization=org, feature__code="slack").changed_at == later
        )

    def test_a_given_reason_is_recorded(self, org: Any, admin: Actor) -> None:
        set_feature_enabled(
            organization=org,
            code="reports",
            enabled=False,
            actor=admin,
            now=NOW,
            reason="  Not used by anyone  ",
        )
        assert feature_history(org)[-1][4] == "Not used by anyone"

    def test_switching_to_the_current_state_changes_nothing(self, org: Any, admin: Actor) -> None:
        before = state(org)
        change = switch(org, "reports", True, admin)
        assert (change.state.enabled, change.order) == (True, None)
        assert state(org) == before


class TestPaidAddOns:
    def test_switching_on_orders_it_pro_rata(self, org: Any, admin: Actor) -> None:
        change = switch(org, "sso", True, admin)
        order = change.order
        assert order is not None
        assert (order.kind, order.currency, order.actor_name) == ("add_on", "EUR", "Anna Admin")
        # 1 × 8.00 × 6 × 167 / 181 = 44.287… → 44.29
        assert order.total == Decimal("44.29")
        line = OrderLine.objects.get(order=order)
        assert (line.product, line.quantity, line.unit_price, line.amount) == (
            "add_on:sso",
            Decimal("1"),
            Decimal("8.0000"),
            Decimal("44.29"),
        )
        assert (line.period_start, line.period_end, line.days, line.period_days) == (
            date(2027, 1, 15),
            date(2027, 6, 30),
            167,
            181,
        )
        assert (change.state.enabled, change.state.paid_this_period) == (True, True)
        assert feature_history(org) == [
            ("enabled", "sso", {"enabled": False}, {"enabled": True}, f"Order {order.number}")
        ]

    def test_the_add_on_is_billed_now_and_next_period(self, org: Any, admin: Actor) -> None:
        switch(org, "sso", True, admin)
        overview = subscription_overview(organization_id=org.pk)
        assert overview.current.add_ons == [AddOnView("sso", "Single sign-on", Decimal("8.0000"))]
        # 10 × 20.00 + 8.00 = 208.00 a month; 6 × 200.00 + 6 × 8.00 = 1248.00
        assert (overview.current.monthly_price, overview.current.total_price) == (
            Decimal("208.00"),
            Decimal("1248.00"),
        )
        # Next period at the 2027-07-01 prices: 10 × 21.00 + 9.00 = 219.00; × 6 = 1314.00
        assert overview.next.add_ons == [AddOnView("sso", "Single sign-on", Decimal("9.0000"))]
        assert (overview.next.monthly_price, overview.next.total_price) == (
            Decimal("219.00"),
            Decimal("1314.00"),
        )
        assert overview.ending_add_ons == []

    def test_later_in_the_period_charges_fewer_days(self, org: Any, admin: Actor) -> None:
        march = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
        change = switch(org, "crm", True, admin, now=march)
        assert change.order is not None
        # 2027-03-01..2027-06-30 = 31 + 30 + 31 + 30 = 122 days;
        # 1 × 15.00 × 6 × 122 / 181 = 60.662… → 60.66
        assert change.order.total == Decimal("60.66")
        line = OrderLine.objects.get(order=change.order)
        assert (line.days, line.period_days) == (122, 181)

    def test_switching_off_stops_billing_from_the_next_period(self, org: Any, admin: Actor) -> None:
        switch(org, "sso", True, admin)
        change = switch(org, "sso", False, admin)
        assert (change.order, change.state.enabled, change.state.paid_this_period) == (
            None,
            False,
            True,
        )
        overview = subscription_overview(organization_id=org.pk)
        # No refund: still billed in the current period, gone from the next.
        assert [a.code for a in overview.current.add_ons] == ["sso"]
        assert overview.next.add_ons == []
        assert overview.ending_add_ons == ["sso"]
        # 10 × 21.00 = 210.00 a month; × 6 = 1260.00
        assert (overview.next.monthly_price, overview.next.total_price) == (
            Decimal("210.00"),
            Decimal("1260.00"),
        )
        assert len(add_on_orders(org)) == 1
        assert feature_history(org)[-1] == (
            "disabled",
            "sso",
            {"enabled": True},
            {"enabled": False},
            "",
        )

    def test_switching_back_on_in_the_same_period_orders_nothing_again(
        self, org: Any, admin: Actor
    ) -> None:
        first = switch(org, "sso", True, admin)
        switch(org, "sso", False, admin)
        again = switch(org, "sso", True, admin, now=NOW + timedelta(days=10))
        assert again.order is None
        assert [o.pk for o in add_on_orders(org)] == [first.order.pk if first.order else None]
        overview = subscription_overview(organization_id=org.pk)
        assert [a.code for a in overview.next.add_ons] == ["sso"]
        assert overview.ending_add_ons == []
        assert [h[0] for h in feature_history(org)] == ["enabled", "disabled", "enabled"]
        assert feature_history(org)[-1][4] == ""

    def test_two_add_ons_are_two_orders(self, org: Any, admin: Actor) -> None:
        switch(org, "sso", True, admin)
        switch(org, "scim", True, admin)
        # SCIM: 1 × 3.00 × 6 × 167 / 181 = 16.607… → 16.61
        assert [o.total for o in add_on_orders(org)] == [Decimal("44.29"), Decimal("16.61")]
        overview = subscription_overview(organization_id=org.pk)
        # 200.00 + 3.00 + 8.00 = 211.00 a month
        assert overview.current.monthly_price == Decimal("211.00")
        assert [a.code for a in overview.next.add_ons] == ["scim", "sso"]

    def test_vendor_switches_an_add_on_of_a_marketplace_organisation(self, catalog: None) -> None:
        org = make_organization(purchase_channel=MARKETPLACE)
        change = switch(org, "sso", True, VENDOR)
        assert change.order is not None
        assert (change.order.total, change.order.actor_name) == (Decimal("44.29"), "Test vendor")


class TestRefusals:
    def test_unavailable_feature_names_the_editions_that_offer_it(self, catalog: None) -> None:
        org = make_organization(edition="basic")
        before = state(org)
        with pytest.raises(FeatureNotAvailable) as error:
            switch(org, "sso", True, admin_of(org))
        assert (error.value.code, error.value.status) == ("feature_not_available", 409)
        assert error.value.message == (
            "Single sign-on is not in your edition; it is available in Pro, Enterprise."
        )
        assert state(org) == before

    def test_a_basic_add_on_is_offered_in_every_edition(self, catalog: None) -> None:
        org = make_organization(edition="basic")
        change = switch(org, "api", True, admin_of(org))
        assert change.order is not None
        # 1 × 5.00 × 6 × 167 / 181 = 27.679… → 27.68
        assert change.order.total == Decimal("27.68")

    def test_requirement_must_be_switched_on_first(self, org: Any, admin: Actor) -> None:
        before = state(org)
        with pytest.raises(FeatureRequired) as error:
            switch(org, "scim", True, admin)
        assert (error.value.code, error.value.message) == (
            "feature_required",
            "SCIM needs Single sign-on; switch that on first.",
        )
        assert state(org) == before

    def test_required_feature_cannot_be_switched_off_under_its_dependant(
        self, org: Any, admin: Actor
    ) -> None:
        switch(org, "sso", True, admin)
        switch(org, "scim", True, admin)
        before = state(org)
        with pytest.raises(FeatureRequired) as error:
            switch(org, "sso", False, admin)
        assert error.value.message == "SCIM needs Single sign-on; switch that off first."
        assert state(org) == before

    def test_required_feature_goes_off_after_its_dependant(self, org: Any, admin: Actor) -> None:
        switch(org, "sso", True, admin)
        switch(org, "scim", True, admin)
        switch(org, "scim", False, admin)
        switch(org, "sso", False, admin)
        assert enabled_codes(org) == ["api", "reports", "slack"]

    def test_marketplace_admin_switches_included_features(self, catalog: None) -> None:
        org = make_organization(purchase_channel=MARKETPLACE)
        change = switch(org, "slack", False, admin_of(org))
        assert change.state.enabled is False

    @pytest.mark.parametrize("enabled", [True, False], ids=["on", "off"])
    def test_marketplace_admin_cannot_switch_paid_add_ons(
        self, catalog: None, enabled: bool
    ) -> None:
        org = make_organization(purchase_channel=MARKETPLACE)
        if not enabled:
            switch(org, "crm", True, VENDOR)
        before = state(org)
        with pytest.raises(ManagedByMarketplace) as error:
            switch(org, "crm", enabled, admin_of(org))
        assert error.value.message == (
            "This subscription was bought through Partner Market; change it there: "
            "https://pm.example/"
        )
        assert state(org) == before

    @pytest.mark.parametrize("enabled", ["true", 1, 0, None], ids=["text", "one", "zero", "none"])
    def test_enabled_must_be_a_boolean(self, org: Any, admin: Actor, enabled: object) -> None:
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            switch(org, "api", enabled, admin)
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("enabled", "Give true or false.")
        ]
        assert state(org) == before

    @pytest.mark.parametrize("code", ["teleport", "", "SSO", "x" * 10_000], ids=str.__len__)
    def test_unknown_code_is_not_found(self, org: Any, admin: Actor, code: str) -> None:
        before = state(org)
        with pytest.raises(NotFound) as error:
            switch(org, code, True, admin)
        assert error.value.status == 404
        assert state(org) == before

    def test_user_without_subscription_permission_is_refused(self, org: Any) -> None:
        from abonnement.accounts.services import create_user

        manager = create_user(
            organization=org,
            email="um@testi.example",
            name="User Manager",
            permissions_granted=["manage_users"],
            actor=admin_of(org),
            now=NOW,
        ).user
        before = state(org)
        with pytest.raises(PermissionDenied):
            switch(org, "sso", True, Actor.portal(manager))
        assert state(org) == before

    def test_other_organisations_admin_gets_not_found(self, org: Any) -> None:
        other = make_organization(name="Muu Oy", admin_email="other@muu.example")
        before = state(org)
        with pytest.raises(NotFound):
            switch(org, "api", False, admin_of(other))
        assert state(org) == before


class TestPreviewFeatureChange:
    def test_shows_the_charge_and_commits_nothing(self, org: Any, admin: Actor) -> None:
        before = state(org)
        preview = preview_feature_change(organization=org, code="sso", actor=admin, now=NOW)
        # 1 × 8.00 × 6 × 167 / 181 = 44.287… → 44.29
        assert preview.charge_now == Decimal("44.29")
        assert (preview.charged_period.start, preview.charged_period.end) == (
            date(2027, 1, 15),
            date(2027, 6, 30),
        )
        assert (preview.days, preview.period_days) == (167, 181)
        assert preview.overview.current.monthly_price == Decimal("208.00")
        assert preview.overview.next.monthly_price == Decimal("219.00")
        assert [a.code for a in preview.overview.next.add_ons] == ["sso"]
        assert state(org) == before

    def test_an_add_on_paid_this_period_previews_at_no_charge(self, org: Any, admin: Actor) -> None:
        switch(org, "sso", True, admin)
        switch(org, "sso", False, admin)
        preview = preview_feature_change(organization=org, code="sso", actor=admin, now=NOW)
        assert preview.charge_now == Decimal("0.00")
        assert preview.line is None
        assert [a.code for a in preview.overview.next.add_ons] == ["sso"]

    def test_included_feature_is_not_a_purchase(self, org: Any, admin: Actor) -> None:
        with pytest.raises(ValidationFailed) as error:
            preview_feature_change(organization=org, code="reports", actor=admin, now=NOW)
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("code", "Reports is not a paid add-on.")
        ]

    def test_has_the_same_refusals_as_the_switch(self, org: Any, admin: Actor) -> None:
        before = state(org)
        with pytest.raises(FeatureRequired):
            preview_feature_change(organization=org, code="scim", actor=admin, now=NOW)
        with pytest.raises(NotFound):
            preview_feature_change(organization=org, code="teleport", actor=admin, now=NOW)
        assert state(org) == before

    def test_after_a_period_end_previews_the_started_period(self, org: Any, admin: Actor) -> None:
        # The rollover job has not run; the preview must price the period that has started
        # (Rule 2), like the switch itself would.
        later = NOW + timedelta(days=180)  # 2027-07-14; period 2027-07-01..2027-12-31 = 184 days
        before = state(org)
        preview = preview_feature_change(organization=org, code="sso", actor=admin, now=later)
        # 1 × 9.00 × 6 × 171 / 184 = 50.184… → 50.18
        assert preview.charge_now == Decimal("50.18")
        assert (preview.days, preview.period_days) == (171, 184)
        assert state(org) == before
        assert Subscription.objects.get(organization=org).current_period_start == date(2027, 1, 1)
        change = switch(org, "sso", True, admin, now=later)
        assert change.order is not None and change.order.total == preview.charge_now


class TestFeatureStates:
    def test_pro_organisation_exact_states(self, org: Any) -> None:
        subscription = Subscription.objects.get(organization=org)
        rows = [
            (
                s.feature.code,
                s.availability,
                s.enabled,
                s.monthly_price,
                s.requires,
                s.available_in,
                s.available_in_names,
                s.paid_this_period,
            )
            for s in feature_states(subscription=subscription)
        ]
        every = ["basic", "pro", "enterprise"]
        every_names = ["Basic", "Pro", "Enterprise"]
        upper = ["pro", "enterprise"]
        upper_names = ["Pro", "Enterprise"]
        assert rows == [
            ("reports", "included", True, None, [], every, every_names, False),
            ("api", "included", True, None, [], every, every_names, False),
            ("sso", "add_on", False, Decimal("8.0000"), [], upper, upper_names, False),
            ("scim", "add_on", False, Decimal("3.0000"), ["sso"], upper, upper_names, False),
            ("slack", "included", True, None, [], every, every_names, False),
            ("crm", "add_on", False, Decimal("15.0000"), [], upper, upper_names, False),
        ]

    def test_basic_organisation_sees_unavailable_and_paid_features(self, catalog: None) -> None:
        org = make_organization(edition="basic")
        switch(org, "api", True, admin_of(org))
        subscription = Subscription.objects.get(organization=org)
        rows = {
            s.feature.code: (s.availability, s.enabled, s.monthly_price, s.paid_this_period)
            for s in feature_states(subscription=subscription)
        }
        assert rows == {
            "reports": ("included", True, None, False),
            "api": ("add_on", True, Decimal("5.0000"), True),
            "sso": ("unavailable", False, None, False),
            "scim": ("unavailable", False, None, False),
            "slack": ("included", True, None, False),
            "crm": ("unavailable", False, None, False),
        }


class TestEntitlements:
    def test_new_pro_organisation(self, org: Any) -> None:
        result = entitlements(organization_id=org.pk)
        assert (
            result.edition,
            result.features,
            result.licenses,
            result.active_users,
            result.storage_gb,
        ) == ("pro", ["api", "reports", "slack"], 10, 1, 100)

    def test_follows_switches_users_licences_and_storage(self, org: Any, admin: Actor) -> None:
        from abonnement.subscriptions.services import set_license_count, set_storage_packs

        switch(org, "sso", True, admin)
        switch(org, "slack", False, admin)
        add_users(org, 3)
        set_license_count(organization=org, licenses=12, actor=admin, now=NOW)
        set_storage_packs(organization=org, extra_packs=2, actor=admin, now=NOW)
        result = entitlements(organization_id=org.pk)
        # 100 GB included + 2 × 50 GB packs
        assert (
            result.edition,
            result.features,
            result.licenses,
            result.active_users,
            result.storage_gb,
        ) == ("pro", ["api", "reports", "sso"], 12, 4, 200)

    def test_unknown_organisation_is_not_found(self, db: Any) -> None:
        import uuid

        with pytest.raises(NotFound):
            entitlements(organization_id=uuid.uuid4())
