"""The demo data (`abonnement demo`): the telling states a visitor explores, loaded once."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.conf import settings

from tests.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """The demo, loaded once for this module inside a transaction rolled back after it (each
    test runs in a savepoint within it); loading it takes seconds."""
    from django.db import transaction
    from django.test import override_settings

    from abonnement.core.models import SimulatedClock
    from abonnement.demo.loader import load_demo

    with django_db_blocker.unblock(), override_settings(SIMULATED_CLOCK=True):
        # Marked as a test case's block, as Django's TestCase marks its own, so that the
        # services' durable blocks nest in it as they do in every test's.
        outer = transaction.atomic()
        outer._from_testcase = True  # type: ignore[attr-defined]
        with outer:
            SimulatedClock.objects.create(pk=1, now=NOW)
            out = io.StringIO()
            assert load_demo(stdout=out) is True
            yield out.getvalue()
            transaction.set_rollback(True)


def _org(name: str) -> Any:
    from abonnement.organizations.models import Organization

    return Organization.objects.select_related("subscription", "billing_details").get(name=name)


def test_the_catalogue_has_three_editions_features_integrations_and_two_currencies(
    demo: str,
) -> None:
    from abonnement.catalog.models import Edition, Feature, Price, StoragePack

    assert Edition.objects.count() == 3
    assert Feature.objects.filter(kind="feature").count() == 8
    assert Feature.objects.filter(kind="integration").count() == 6
    assert Feature.objects.filter(requires__isnull=False).exists()
    assert StoragePack.objects.exists()
    assert set(Price.objects.values_list("currency", flat=True)) == {"EUR", "SEK"}


def test_the_finnish_company_has_six_month_periods_e_invoicing_and_a_scheduled_removal(
    demo: str,
) -> None:
    kaamos = _org("Kaamos Consulting Oy")
    subscription = kaamos.subscription
    assert (kaamos.country, kaamos.currency, subscription.period_months) == ("FI", "EUR", 6)
    assert subscription.licenses_next < subscription.licenses
    billing = kaamos.billing_details
    assert billing.einvoice_enabled
    assert (billing.einvoice_address, billing.einvoice_operator) == (
        "003726537287",
        "003723327487",
    )


def test_no_demo_customer_shares_the_sellers_vat_number_or_e_invoice_address(demo: str) -> None:
    from abonnement.billing.models import BillingDetails
    from abonnement.organizations.models import Organization

    seller_vat = settings.SELLER["vat_number"]
    seller_ovt = "0037" + seller_vat.removeprefix("FI")
    assert seller_vat not in set(Organization.objects.values_list("vat_number", flat=True))
    addresses = set(BillingDetails.objects.values_list("einvoice_address", flat=True))
    assert seller_ovt not in addresses


def test_the_dutch_company_is_monthly_with_a_dutch_speaking_administrator(demo: str) -> None:
    from abonnement.accounts.models import User

    grachtenwerk = _org("Grachtenwerk B.V.")
    assert (grachtenwerk.country, grachtenwerk.subscription.period_months) == ("NL", 1)
    admin = User.objects.get(email="daan@grachtenwerk.example")
    assert (admin.language or grachtenwerk.language) == "nl"
    assert User.objects.filter(organization=grachtenwerk, is_active=False).exists()


def test_one_organisation_bought_through_a_marketplace(demo: str) -> None:
    fjallbyran = _org("Fjällbyrån AB")
    assert fjallbyran.purchase_channel == "marketplace"
    assert fjallbyran.marketplace_url == "https://marketplace.example/subscriptions"


def test_the_annual_company_has_an_open_edition_change_request(demo: str) -> None:
    from abonnement.subscriptions.models import EditionChangeRequest

    polaris = _org("Polaris Engineering Oy")
    assert polaris.subscription.period_months == 12
    assert EditionChangeRequest.objects.filter(organization=polaris, status="open").count() == 1


def test_orders_history_and_logins_are_there_to_explore(demo: str) -> None:
    from abonnement.history.models import HistoryEntry
    from abonnement.orders.models import Order

    assert Order.objects.count() >= 4
    assert HistoryEntry.objects.count() >= 4
    assert "Demo data loaded." in demo
    assert all(s.current_period_end >= date(2027, 1, 15) for s in _subscriptions())


def _subscriptions() -> list[Any]:
    from abonnement.subscriptions.models import Subscription

    return list(Subscription.objects.all())


def test_loading_again_leaves_the_database_as_it_is(demo: str) -> None:
    from abonnement.demo.loader import load_demo
    from abonnement.history.models import HistoryEntry
    from abonnement.organizations.models import Organization

    before = (Organization.objects.count(), HistoryEntry.objects.count())
    out = io.StringIO()
    assert load_demo(stdout=out) is False
    assert out.getvalue() == "Demo data already present; leaving the database as it is.\n"
    assert (Organization.objects.count(), HistoryEntry.objects.count()) == before
