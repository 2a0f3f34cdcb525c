"""The period rollover (Rules 1, 2, 5, 7, 8, 9) and the simulated clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from abonnement.catalog.models import FeatureAvailability, Price
from abonnement.core.errors import ValidationFailed
from abonnement.features.models import FeatureSwitch
from abonnement.features.services import set_feature_enabled
from abonnement.history.models import HistoryEntry
from abonnement.orders.models import Order, OrderLine
from abonnement.subscriptions.models import Subscription, SubscriptionAddOn
from abonnement.subscriptions.rollover import advance_clock, roll_over_subscriptions
from abonnement.subscriptions.services import (
    schedule_edition_change,
    set_license_count,
    set_storage_packs,
)
from tests.conftest import NOW, VENDOR, admin_of, make_organization

pytestmark = pytest.mark.django_db

# 2027-07-01 10:00 Helsinki: the first day of the second 6-month period.
JULY = datetime(2027, 7, 1, 7, 0, tzinfo=UTC)


def renewals(org: Any) -> list[Order]:
    return list(Order.objects.filter(organization=org, kind="renewal").order_by("period_start"))


def lines_of(order: Order) -> list[tuple[str, str, Decimal, Decimal, Decimal]]:
    return [
        (line.product, line.description, line.quantity, line.unit_price, line.amount)
        for line in OrderLine.objects.filter(order=order).order_by("position")
    ]


class TestRollOverSubscriptions:
    def test_nothing_is_due_before_the_period_ends(self, org: Any) -> None:
        last_day = datetime(2027, 6, 30, 20, 59, tzinfo=UTC)  # 23:59 in Helsinki
        result = roll_over_subscriptions(now=last_day)
        assert (result.transitions, result.orders) == (0, 0)
        assert len(renewals(org)) == 1

    def test_next_becomes_current_with_a_renewal_order(self, org: Any, admin: Any) -> None:
        set_license_count(organization=org, licenses=12, actor=admin, now=NOW)
        set_license_count(organization=org, licenses=8, actor=admin, now=NOW)
        set_storage_packs(organization=org, extra_packs=2, actor=admin, now=NOW)
        result = roll_over_subscriptions(now=JULY)
        assert (result.transitions, result.subscriptions, result.orders) == (1, 1, 1)
        sub = Subscription.objects.get(organization=org)
        assert (sub.current_period_start, sub.current_period_end) == (
            date(2027, 7, 1),
            date(2027, 12, 31),
        )
        assert (sub.licenses, sub.licenses_next, sub.storage_packs, sub.storage_packs_next) == (
            8,
            8,
            2,
            2,
        )
        # The price list in force on 2027-07-01 applies to the new period (Rule 7).
        assert (sub.license_unit_price, sub.storage_unit_price) == (
            Decimal("21.0000"),
            Decimal("5.0000"),
        )
        order = renewals(org)[-1]
        assert (order.period_start, order.period_end, order.total) == (
            date(2027, 7, 1),
            date(2027, 12, 31),
            Decimal("1068.00"),
        )
        # Rule 1: licences × months as the quantity: 8 × 6 = 48 licence-months.
        assert lines_of(order) == [
            (
                "license:pro",
                "User licences, Pro × 8 × 6 months",
                Decimal("48"),
                Decimal("21"),
                Decimal("1008.00"),
            ),
            (
                "storage:storage-50",
                "File storage, 50 GB pack × 2 × 6 months",
                Decimal("12"),
                Decimal("5"),
                Decimal("60.00"),
            ),
        ]
        entry = HistoryEntry.objects.get(organization=org, action="period_rolled_over")
        assert (entry.actor_type, entry.channel, entry.kind) == (
            "system",
            "scheduled_job",
            "period",
        )
        assert entry.before == {
            "period": {"start": "2027-01-01", "end": "2027-06-30"},
            "edition": "pro",
            "licenses": 12,
            "storage_packs": 2,
        }
        assert entry.after == {
            "period": {"start": "2027-07-01", "end": "2027-12-31"},
            "edition": "pro",
            "licenses": 8,
            "storage_packs": 2,
            "total": "1068.00",
            "currency": "EUR",
            "order_number": order.number,
        }

    def test_running_twice_rolls_once(self, org: Any) -> None:
        roll_over_subscriptions(now=JULY)
        again = roll_over_subscriptions(now=JULY)
        assert (again.transitions, again.orders) == (0, 0)
        assert [o.period_start for o in renewals(org)] == [date(2027, 1, 1), date(2027, 7, 1)]

    def test_catches_up_period_by_period_after_downtime(self, catalog: None) -> None:
        org = make_organization(
            period_months=1, start_date=date(2027, 1, 31), admin_email="m@x.example"
        )
        result = roll_over_subscriptions(now=datetime(2027, 5, 2, 9, 0, tzinfo=UTC))
        assert result.transitions == 3
        assert result.subscriptions == 1
        # Anchored on the 31st: February ends on the 27th, March runs to the 30th (Rule 8).
        assert [(o.period_start, o.period_end) for o in renewals(org)] == [
            (date(2027, 1, 31), date(2027, 2, 27)),
            (date(2027, 2, 28), date(2027, 3, 30)),
            (date(2027, 3, 31), date(2027, 4, 29)),
            (date(2027, 4, 30), date(2027, 5, 30)),
        ]
        numbers = [o.number for o in renewals(org)]
        assert numbers == sorted(numbers)
        assert (
            HistoryEntry.objects.filter(organization=org, action="period_rolled_over").count() == 3
        )

    def test_batches_claim_in_id_order_whatever_the_period_ends(self, catalog: None) -> None:
        # Made first, due last by its period end: the claim follows the ids (the order the
        # rows were written in), so it is renewed first, in a batch of its own.
        annual = make_organization(
            period_months=12, start_date=date(2026, 3, 1), admin_email="a@x.example"
        )
        monthly = make_organization(
            period_months=1, start_date=date(2027, 1, 1), admin_email="m@x.example"
        )
        result = roll_over_subscriptions(now=datetime(2027, 3, 5, 9, 0, tzinfo=UTC), batch_size=1)
        assert (result.transitions, result.batches) == (3, 3)
        first = renewals(annual)[-1]
        assert (first.period_start, first.period_end) == (date(2027, 3, 1), date(2028, 2, 29))
        # The monthly one is caught up in the next pass: February, then March.
        later = [(o.period_start, o.number) for o in renewals(monthly)[1:]]
        assert [start for start, _ in later] == [date(2027, 2, 1), date(2027, 3, 1)]
        assert first.number < later[0][1] < later[1][1]

    def test_dry_run_counts_and_changes_nothing(self, catalog: None) -> None:
        make_organization(period_months=1, start_date=date(2027, 1, 31), admin_email="m@x.example")
        make_organization(name="B Oy", admin_email="b@x.example")
        orders = Order.objects.count()
        history = HistoryEntry.objects.count()
        result = roll_over_subscriptions(now=datetime(2027, 5, 2, 9, 0, tzinfo=UTC), dry_run=True)
        assert (result.due, result.transitions) == (1, 3)
        assert "nothing was changed" in result.summary()
        assert (Order.objects.count(), HistoryEntry.objects.count()) == (orders, history)

    def test_paid_add_on_renews_and_a_stopped_one_ends(self, org: Any, admin: Any) -> None:
        set_feature_enabled(organization=org, code="sso", enabled=True, actor=admin, now=NOW)
        set_feature_enabled(organization=org, code="crm", enabled=True, actor=admin, now=NOW)
        set_feature_enabled(organization=org, code="crm", enabled=False, actor=admin, now=NOW)
        roll_over_subscriptions(now=JULY)
        rows = list(
            SubscriptionAddOn.objects.filter(subscription__organization=org).values_list(
                "feature__code", "in_current", "in_next", "unit_price"
            )
        )
        assert rows == [("sso", True, True, Decimal("9.0000"))]
        assert lines_of(renewals(org)[-1])[1:] == [
            (
                "add_on:sso",
                "Add-on, Single sign-on × 6 months",
                Decimal("6"),
                Decimal("9"),
                Decimal("54.00"),
            ),
        ]

    def test_add_on_at_an_unchanged_price_is_not_rewritten(self, org: Any, admin: Any) -> None:
        set_feature_enabled(organization=org, code="sso", enabled=True, actor=admin, now=NOW)
        roll_over_subscriptions(now=JULY)  # 2027 H2 prices: SSO 8.00 → 9.00
        row = SubscriptionAddOn.objects.get(subscription__organization=org)

        def version() -> str | None:
            if connection.vendor != "postgresql":
                return None
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT xmin::text FROM {SubscriptionAddOn._meta.db_table} WHERE id = %s",
                    [row.pk],
                )
                return str(cursor.fetchone()[0])

        before = version()
        # 2028-01-01: no new price list, so the add-on carries on exactly as it is.
        roll_over_subscriptions(now=datetime(2028, 1, 1, 7, 0, tzinfo=UTC))
        rows = list(
            SubscriptionAddOn.objects.filter(subscription__organization=org).values_list(
                "pk", "in_current", "in_next", "unit_price"
            )
        )
        assert rows == [(row.pk, True, True, Decimal("9.0000"))]
        assert version() == before  # the same row version: nothing was written
        assert [o.period_start for o in renewals(org)][-1] == date(2028, 1, 1)
        assert lines_of(renewals(org)[-1])[-1] == (
            "add_on:sso",
            "Add-on, Single sign-on × 6 months",
            Decimal("6"),
            Decimal("9"),
            Decimal("54.00"),
        )

    def test_scheduled_edition_change_applies_at_the_boundary(self, org: Any, admin: Any) -> None:
        set_feature_enabled(organization=org, code="sso", enabled=True, actor=admin, now=NOW)
        set_feature_enabled(organization=org, code="scim", enabled=True, actor=admin, now=NOW)
        schedule_edition_change(organization=org, edition="basic", actor=VENDOR, now=NOW)
        # Not before the boundary.
        roll_over_subscriptions(now=datetime(2027, 6, 30, 12, 0, tzinfo=UTC))
        assert Subscription.objects.get(organization=org).edition.code == "pro"
        roll_over_subscriptions(now=JULY)
        sub = Subscription.objects.get(organization=org)
        assert (sub.edition.code, sub.next_edition_id, sub.license_unit_price) == (
            "basic",
            None,
            Decimal("11.0000"),
        )
        enabled = set(
            FeatureSwitch.objects.filter(organization=org, enabled=True).values_list(
                "feature__code", flat=True
            )
        )
        # Basic has no SSO or SCIM, and offers API access only as an add-on nobody paid for.
        assert enabled == {"reports", "slack"}
        switched = list(
            HistoryEntry.objects.filter(organization=org, kind="features", actor_type="system")
            .order_by("id")
            .values_list("subject", "action", "reason")
        )
        assert sorted(switched) == [
            ("api", "disabled", "Edition change to Basic at the period boundary"),
            ("scim", "disabled", "Edition change to Basic at the period boundary"),
            ("sso", "disabled", "Edition change to Basic at the period boundary"),
        ]
        assert not SubscriptionAddOn.objects.filter(subscription=sub).exists()
        assert lines_of(renewals(org)[-1]) == [
            (
                "license:basic",
                "User licences, Basic × 10 × 6 months",
                Decimal("60"),
                Decimal("11"),
                Decimal("660.00"),
            ),
        ]
        assert HistoryEntry.objects.filter(organization=org, action="edition_changed").count() == 1

    def test_upgrade_switches_on_what_the_edition_adds(self, catalog: None) -> None:
        org = make_organization(edition="basic")
        schedule_edition_change(organization=org, edition="enterprise", actor=VENDOR, now=NOW)
        roll_over_subscriptions(now=JULY)
        enabled = set(
            FeatureSwitch.objects.filter(organization=org, enabled=True).values_list(
                "feature__code", flat=True
            )
        )
        assert enabled == {"reports", "slack", "api", "sso", "scim", "crm"}

    def test_upgrade_does_not_switch_on_a_feature_whose_requirement_is_off(
        self, catalog: None
    ) -> None:
        # Pro includes SSO here; Enterprise adds SCIM, which requires SSO.
        FeatureAvailability.objects.filter(edition__code="pro", feature__code="sso").update(
            availability="included"
        )
        org = make_organization()
        admin = admin_of(org)
        set_feature_enabled(organization=org, code="sso", enabled=False, actor=admin, now=NOW)
        schedule_edition_change(organization=org, edition="enterprise", actor=VENDOR, now=NOW)
        roll_over_subscriptions(now=JULY)
        enabled = set(
            FeatureSwitch.objects.filter(organization=org, enabled=True).values_list(
                "feature__code", flat=True
            )
        )
        assert enabled == {"reports", "slack", "api", "crm"}
        switched = list(
            HistoryEntry.objects.filter(organization=org, kind="features", actor_type="system")
            .order_by("id")
            .values_list("subject", "action")
        )
        assert switched == [("crm", "enabled")]

    def test_started_period_keeps_its_prices_when_a_price_list_changes(
        self, org: Any, admin: Any
    ) -> None:
        Price.objects.filter(
            product="license:pro", currency="EUR", price_list__effective_from=date(2026, 1, 1)
        ).update(monthly_amount=Decimal("99.00"))
        result = set_license_count(organization=org, licenses=11, actor=admin, now=NOW)
        # Still 20.00: 1 × 20 × 6 × 167 / 181 = 110.7182… → 110.72
        assert result.order is not None and result.order.total == Decimal("110.72")

    def test_one_renewal_per_subscription_and_period_is_a_database_rule(self, org: Any) -> None:
        first = renewals(org)[0]
        with pytest.raises(IntegrityError), transaction.atomic():
            Order.objects.create(
                number=999,
                organization=org,
                subscription=first.subscription,
                kind="renewal",
                created_at=NOW,
                period_start=first.period_start,
                period_end=first.period_end,
                currency="EUR",
                total=Decimal("1.00"),
            )


class TestAdvanceClock:
    @override_settings(SIMULATED_CLOCK=True)
    def test_moving_forward_runs_the_rollovers_in_between(self, org: Any) -> None:
        from abonnement.core import clock

        result = advance_clock(to=JULY, now=NOW)
        assert result.transitions == 1
        assert clock.now() == JULY
        assert [o.period_start for o in renewals(org)] == [date(2027, 1, 1), date(2027, 7, 1)]

    @override_settings(SIMULATED_CLOCK=True)
    def test_the_clock_never_moves_back(self, org: Any) -> None:
        with pytest.raises(ValidationFailed) as error:
            advance_clock(to=NOW.replace(day=1), now=NOW)
        assert error.value.errors[0].field == "now"
        assert "only moves forward" in error.value.errors[0].message

    @override_settings(SIMULATED_CLOCK=False)
    def test_the_real_clock_cannot_be_set(self, org: Any) -> None:
        with pytest.raises(ValidationFailed):
            advance_clock(to=JULY, now=NOW)
        assert len(renewals(org)) == 1


def test_admin_actor_helper_matches_the_provisioned_admin(org: Any) -> None:
    assert admin_of(org).name == "Anna Admin"


class TestAddOnPriceSnapshot:
    def test_editing_the_list_in_force_does_not_reprice_the_started_period(
        self, org: Any, admin: Any
    ) -> None:
        Price.objects.filter(
            product="add_on:sso", currency="EUR", price_list__effective_from=date(2026, 1, 1)
        ).update(monthly_amount=Decimal("50.00"))
        change = set_feature_enabled(
            organization=org, code="sso", enabled=True, actor=admin, now=NOW
        )
        # Still 8.00 from the period start: 8 × 6 × 167 / 181 = 44.2873… → 44.29
        assert change.order is not None and change.order.total == Decimal("44.29")
        assert change.state.monthly_price == Decimal("8.0000")

    def test_the_next_period_takes_the_snapshot_of_its_own_start(self, org: Any) -> None:
        roll_over_subscriptions(now=JULY)
        sub = Subscription.objects.get(organization=org)
        assert sub.add_on_prices == {"crm": "16.0000", "scim": "4.0000", "sso": "9.0000"}


class TestBatchSql:
    """The SQL pieces a batch is built from, on the database under test."""

    def test_json_objects_escape_text_and_keep_numbers_and_nulls(self) -> None:
        import json

        from abonnement.subscriptions.rollover import _Dialect

        d = _Dialect()
        inner = d.json_object([("start", "%s", "text")], nested=True)
        sql = d.json_object(
            [
                ("period", inner, "object"),
                ("edition", "%s", "text"),
                ("licenses", "%s", "number"),
                ("order_number", "%s", "number"),
            ]
        )
        tricky = 'Pro "Plus" \\ ünïcode – \n end'
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {'CAST(' + sql + ' AS TEXT)' if d.postgres else sql}",
                ["2027-07-01", tricky, 12, None],
            )
            stored = json.loads(cursor.fetchone()[0])
        assert stored == {
            "period": {"start": "2027-07-01"},
            "edition": tricky,
            "licenses": 12,
            "order_number": None,
        }

    @pytest.mark.postgres
    def test_a_batchs_order_ids_are_uuid7_sharing_their_first_half(self, catalog: None) -> None:
        import uuid

        if connection.vendor != "postgresql":
            pytest.skip("PostgreSQL: the SQLite ids are time-ordered hex, not UUIDv7")
        orgs = [
            make_organization(period_months=1, start_date=date(2027, 1, 1), admin_email=e)
            for e in ("a@x.example", "b@x.example", "c@x.example")
        ]
        roll_over_subscriptions(now=datetime(2027, 2, 2, 9, 0, tzinfo=UTC), batch_size=2)
        ids = [renewals(org)[-1].id for org in sorted(orgs, key=lambda o: o.subscription.pk)]
        assert len(set(ids)) == 3
        assert {(i.version, i.variant) for i in ids} == {(7, uuid.RFC_4122)}
        # The first two were one batch: one UUIDv7's first half; the third came later.
        halves = [i.int >> 64 for i in ids]
        assert halves[0] == halves[1] < halves[2]
