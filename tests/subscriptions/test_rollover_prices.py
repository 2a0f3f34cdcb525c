"""Prices at the period boundary: a price list need only hold what changes, and a
subscription the catalogue has no price for is held back alone (Rules 7 and 9)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from abonnement.catalog.errors import MissingPrice
from abonnement.catalog.models import Price, PriceList
from abonnement.cli import main
from abonnement.history.models import HistoryEntry
from abonnement.orders.models import Order
from abonnement.subscriptions.models import Subscription
from abonnement.subscriptions.rollover import roll_over_subscriptions
from abonnement.subscriptions.services import set_license_count
from tests.conftest import NOW, admin_of, make_organization

pytestmark = pytest.mark.django_db

# The first day of the second 6-month period; the test catalogue's "2027 H2" list, in force
# from this day, holds EUR prices only.
JULY = datetime(2027, 7, 1, 7, 0, tzinfo=UTC)


def swedish() -> Any:
    return make_organization(
        name="Svensk AB",
        vat_number="SE556036079301",
        country="SE",
        currency="SEK",
        admin_email="admin@svensk.example",
    )


def snapshot(org: Any) -> tuple[Any, ...]:
    sub = Subscription.objects.get(organization=org)
    return (
        sub.current_period_start,
        sub.licenses,
        sub.license_unit_price,
        sub.price_list_id,
        Order.objects.filter(organization=org).count(),
        HistoryEntry.objects.filter(organization=org).count(),
    )


def test_a_list_without_a_currency_keeps_that_currencys_earlier_prices(catalog: None) -> None:
    finnish, svensk = make_organization(), swedish()
    result = roll_over_subscriptions(now=JULY)
    assert (result.transitions, result.held) == (2, set())
    new_list = PriceList.objects.get(effective_from=date(2027, 7, 1))
    subs = {s.organization.currency: s for s in Subscription.objects.select_related("organization")}
    # EUR from the new list (20 + 1), SEK still from the 2026 list (20 × 11).
    assert (subs["EUR"].license_unit_price, subs["EUR"].price_list_id) == (
        Decimal("21.0000"),
        new_list.pk,
    )
    assert (subs["SEK"].license_unit_price, subs["SEK"].price_list_id) == (
        Decimal("220.0000"),
        new_list.pk,
    )
    renewal = Order.objects.get(organization=svensk, kind="renewal", period_start=date(2027, 7, 1))
    assert (renewal.total, renewal.currency) == (Decimal("13200.00"), "SEK")  # 10 × 220 × 6
    assert Order.objects.get(
        organization=finnish, kind="renewal", period_start=date(2027, 7, 1)
    ).total == Decimal("1260.00")  # 10 × 21 × 6


def test_a_subscription_without_a_price_is_held_and_the_others_roll(catalog: None) -> None:
    finnish, svensk = make_organization(), swedish()
    Price.objects.filter(product="license:pro", currency="SEK").delete()
    before = snapshot(svensk)
    result = roll_over_subscriptions(now=JULY)
    held = Subscription.objects.get(organization=svensk).pk
    assert (result.transitions, result.orders, result.held) == (1, 1, {held})
    assert result.problems == {"The price list has no SEK price for license:pro."}
    assert result.summary().endswith(
        "; 1 subscriptions not rolled over (they stay due): "
        "The price list has no SEK price for license:pro."
    )
    assert snapshot(svensk) == before
    assert Subscription.objects.get(organization=finnish).current_period_start == date(2027, 7, 1)
    # Once the catalogue has the price, the next run rolls it over.
    Price.objects.create(
        price_list=PriceList.objects.get(effective_from=date(2027, 7, 1)),
        product="license:pro",
        currency="SEK",
        monthly_amount=Decimal("230.00"),
    )
    again = roll_over_subscriptions(now=JULY)
    assert (again.transitions, again.held) == (1, set())
    assert Subscription.objects.get(organization=svensk).license_unit_price == Decimal("230.0000")


def test_a_change_to_an_unpriced_due_subscription_is_refused(catalog: None) -> None:
    svensk = swedish()
    Price.objects.filter(product="license:pro", currency="SEK").delete()
    before = snapshot(svensk)
    with pytest.raises(MissingPrice) as refused:
        set_license_count(organization=svensk, licenses=12, actor=admin_of(svensk), now=JULY)
    assert str(refused.value) == "The price list has no SEK price for license:pro."
    assert snapshot(svensk) == before


def test_the_command_exits_1_when_subscriptions_are_held(catalog: None, capsys: Any) -> None:
    make_organization()
    swedish()
    Price.objects.filter(product="license:pro", currency="SEK").delete()
    assert main(["rollover", "--at", JULY.isoformat(), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "1 period transitions for 2 subscriptions, 1 renewal orders" in out
    assert out.rstrip().endswith(
        "1 subscriptions not rolled over (they stay due): "
        "The price list has no SEK price for license:pro."
    )


def test_an_add_on_without_a_price_holds_back_only_those_who_renew_it(catalog: None) -> None:
    from abonnement.features.services import set_feature_enabled
    from abonnement.subscriptions.models import SubscriptionAddOn

    plain = swedish()
    with_sso = make_organization(
        name="Svensk SSO AB",
        vat_number="SE556036079301",
        country="SE",
        currency="SEK",
        admin_email="admin@sso.example",
    )
    set_feature_enabled(
        organization=with_sso, code="sso", enabled=True, actor=admin_of(with_sso), now=NOW
    )
    Price.objects.filter(product="add_on:sso", currency="SEK").delete()
    before = snapshot(with_sso)
    result = roll_over_subscriptions(now=datetime(2027, 7, 2, 7, 0, tzinfo=UTC))
    held = Subscription.objects.get(organization=with_sso).pk
    assert (result.transitions, result.held) == (1, {held})
    assert result.problems == {"The price list has no SEK price for add_on:sso."}
    assert snapshot(with_sso) == before
    assert SubscriptionAddOn.objects.get(subscription_id=held).in_next is True
    # The subscription that does not renew SSO rolled over; its period's add-on prices
    # leave SSO out, so buying it later in the period is refused rather than mispriced.
    rolled = Subscription.objects.get(organization=plain)
    assert rolled.current_period_start == date(2027, 7, 1)
    assert "sso" not in rolled.add_on_prices
    assert rolled.add_on_prices["scim"] == "33.0000"  # 3 × 11, from the 2026 list


def test_setting_the_clock_exits_1_when_subscriptions_are_held(
    catalog: None, capsys: Any, settings: Any
) -> None:
    from abonnement.core.models import SimulatedClock

    settings.SIMULATED_CLOCK = True
    SimulatedClock.objects.create(pk=1, now=NOW)
    make_organization()
    swedish()
    Price.objects.filter(product="license:pro", currency="SEK").delete()
    assert main(["clock", "set", JULY.isoformat()]) == 1
    out = capsys.readouterr().out
    assert "1 subscriptions not rolled over (they stay due)" in out
