"""Shared fixtures: a small catalogue with round prices, and factories that go through the
real services so every state is one the product can reach."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from abonnement.core.actor import Actor

# 2027-01-15 12:00 in Helsinki; the business day is 2027-01-15.
NOW = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)
VENDOR = Actor.vendor_token("Test vendor")


def _let_the_test_flush_wipe_the_history() -> None:
    """The history table refuses TRUNCATE (PostgreSQL) and DELETE (SQLite) by trigger
    (history migration 0004). The one wipe allowed is Django's flush between transactional
    tests: on PostgreSQL it runs with the session setting the TRUNCATE trigger lets through
    (``SET LOCAL``, so for the flush's own transaction only); on SQLite, whose triggers cannot
    read a setting, the flush drops the history triggers and creates them again in its own
    transaction. Nothing in the product does either."""
    import importlib

    from django.db.backends.base.operations import BaseDatabaseOperations

    triggers = importlib.import_module(
        "abonnement.history.migrations.0004_append_only_truncate_and_sqlite"
    )
    flush = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: list[str]) -> None:
        vendor = self.connection.vendor
        if vendor == "postgresql" and sql_list:
            sql_list = [f"SET LOCAL {triggers.WIPE_SETTING} = 'on';", *sql_list]
        elif vendor == "sqlite" and any(triggers.TABLE in sql for sql in sql_list):
            sql_list = [*triggers.SQLITE_DROP, *sql_list, *triggers.SQLITE_CREATE]
        flush(self, sql_list)

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]


_let_the_test_flush_wipe_the_history()


@pytest.fixture(autouse=True)
def _english_between_tests() -> Any:
    """A portal request leaves its language active in the test process; every test starts
    and ends in the default language, so the order tests run in never changes a message."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


def make_catalog() -> None:
    """Editions basic / pro / enterprise; EUR and SEK; one price rise on 2027-07-01."""
    from abonnement.catalog.models import (
        Edition,
        Feature,
        FeatureAvailability,
        Price,
        PriceList,
        StoragePack,
    )

    basic = Edition.objects.create(code="basic", name="Basic", included_storage_gb=10, position=0)
    pro = Edition.objects.create(code="pro", name="Pro", included_storage_gb=100, position=1)
    enterprise = Edition.objects.create(
        code="enterprise", name="Enterprise", included_storage_gb=1000, position=2
    )
    reports = Feature.objects.create(code="reports", name="Reports", kind="feature", position=0)
    api = Feature.objects.create(code="api", name="API access", kind="feature", position=1)
    sso = Feature.objects.create(code="sso", name="Single sign-on", kind="feature", position=2)
    scim = Feature.objects.create(code="scim", name="SCIM", kind="feature", position=3)
    slack = Feature.objects.create(code="slack", name="Slack", kind="integration", position=0)
    crm = Feature.objects.create(code="crm", name="CRM sync", kind="integration", position=1)
    scim.requires.add(sso)
    offers = {
        basic: {reports: "included", slack: "included", api: "add_on"},
        pro: {
            reports: "included",
            slack: "included",
            api: "included",
            sso: "add_on",
            scim: "add_on",
            crm: "add_on",
        },
        enterprise: {
            reports: "included",
            slack: "included",
            api: "included",
            sso: "included",
            scim: "included",
            crm: "included",
        },
    }
    for edition, features in offers.items():
        for feature, offer in features.items():
            FeatureAvailability.objects.create(edition=edition, feature=feature, availability=offer)
    StoragePack.objects.create(code="storage-50", name="50 GB pack", gb=50)
    old = PriceList.objects.create(name="2026", effective_from=date(2026, 1, 1))
    new = PriceList.objects.create(name="2027 H2", effective_from=date(2027, 7, 1))
    prices = {
        "license:basic": "10.00",
        "license:pro": "20.00",
        "license:enterprise": "35.00",
        "add_on:api": "5.00",
        "add_on:sso": "8.00",
        "add_on:scim": "3.00",
        "add_on:crm": "15.00",
        "storage:storage-50": "4.00",
    }
    for product, amount in prices.items():
        Price.objects.create(
            price_list=old, product=product, currency="EUR", monthly_amount=Decimal(amount)
        )
        Price.objects.create(
            price_list=old, product=product, currency="SEK", monthly_amount=Decimal(amount) * 11
        )
        Price.objects.create(
            price_list=new,
            product=product,
            currency="EUR",
            monthly_amount=Decimal(amount) + Decimal("1.00"),
        )


@pytest.fixture
def catalog(db: Any) -> None:
    make_catalog()


def make_organization(*, invoice_address: bool = False, **overrides: Any) -> Any:
    """Provision through the real service. Default: Finnish, Pro, 10 licences, 6-month periods
    starting 2027-01-01 (so NOW is day 15 of 181).

    Provisioning names no invoice address, so the organisation's invoices wait for one;
    ``invoice_address=True`` then saves billing details with one (``give_invoice_address``).
    """
    from abonnement.organizations.services import provision_organization

    params: dict[str, Any] = {
        "name": "Testi Oy",
        "vat_number": "FI23456780",
        "country": "FI",
        "currency": "EUR",
        "language": "en",
        "edition": "pro",
        "licenses": 10,
        "period_months": 6,
        "admin_email": "admin@testi.example",
        "admin_name": "Anna Admin",
        "start_date": date(2027, 1, 1),
        "actor": VENDOR,
        "now": NOW,
    }
    params.update(overrides)
    organization = provision_organization(**params)
    if invoice_address:
        give_invoice_address(organization, now=params["now"])
    return organization


# The invoice address ``give_invoice_address`` saves, in the organisation's own country.
INVOICE_ADDRESS = {"street": "Testikatu 1", "postal_code": "00100", "city": "Helsinki"}


def give_invoice_address(organization: Any, *, now: datetime = NOW, **address: str) -> None:
    """Save the billing details as they are with an invoice address added (``INVOICE_ADDRESS``
    unless given), through the real service, as the administrator does in the portal (the
    vendor for a marketplace customer): the organisation's held orders are invoiced after
    commit, and its invoices are issued from now on. Writes one history entry."""
    from abonnement.billing.models import BillingDetails
    from abonnement.billing.services import update_billing_details
    from abonnement.billing.validators import postal_code_example

    details = BillingDetails.objects.get(organization=organization)
    data: dict[str, Any] = {
        "contact": {"user_id": details.contact_user_id}
        if details.contact_user_id
        else {"name": details.contact_name, "email": details.contact_email},
        "cc": list(details.cc),
        "address": {
            **INVOICE_ADDRESS,
            # A postal code in the shape of the organisation's country (Finland's otherwise).
            "postal_code": postal_code_example(details.country) or INVOICE_ADDRESS["postal_code"],
            "country": details.country,
            **address,
        },
        "reference": details.reference,
        "invoice_language": details.invoice_language,
        "e_invoicing": {
            "enabled": details.einvoice_enabled,
            "address": details.einvoice_address,
            "operator_code": details.einvoice_operator,
        },
    }
    actor = VENDOR if organization.managed_by_marketplace else admin_of(organization)
    update_billing_details(organization=organization, data=data, actor=actor, now=now)


def admin_of(organization: Any) -> Actor:
    from abonnement.accounts.models import User

    user = (
        User.objects.filter(organization=organization, manage_subscription=True)
        .order_by("pk")
        .first()
    )
    assert user is not None
    return Actor.portal(user)


def add_users(
    organization: Any, count: int, *, now: datetime = NOW, prefix: str = "user"
) -> list[Any]:
    from abonnement.accounts.services import create_user

    actor = admin_of(organization)
    return [
        create_user(
            organization=organization,
            email=f"{prefix}{i}@{organization.pk.hex[:8]}.example",
            name=f"User {i}",
            actor=actor,
            now=now,
        ).user
        for i in range(count)
    ]


@pytest.fixture
def org(catalog: None) -> Any:
    return make_organization()


@pytest.fixture
def admin(org: Any) -> Actor:
    return admin_of(org)
