"""Order-line descriptions in the invoice language: the words and the period's length in
the singular and the plural."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from abonnement.invoicing.documents import Snapshot
from abonnement.invoicing.services import issue_invoice_for_order
from abonnement.invoicing.texts import describe
from abonnement.orders.models import Order
from abonnement.subscriptions.rollover import roll_over_subscriptions
from tests.conftest import NOW, make_organization


@pytest.mark.parametrize(
    ("description", "language", "expected"),
    [
        # The rollover's own singular and plural.
        ("User licences, Essential × 5 × 1 month", "en", "User licences, Essential × 5 × 1 month"),
        ("User licences, Pro × 10 × 6 months", "en", "User licences, Pro × 10 × 6 months"),
        (
            "User licences, Essential × 5 × 1 month",
            "nl",
            "Gebruikerslicenties, Essential × 5 × 1 maand",
        ),
        ("User licences, Pro × 10 × 6 months", "nl", "Gebruikerslicenties, Pro × 10 × 6 maanden"),
        ("User licences, Essential × 5 × 1 month", "fi", "Käyttäjälisenssit, Essential × 5 × 1 kk"),
        ("User licences, Pro × 10 × 6 months", "fi", "Käyttäjälisenssit, Pro × 10 × 6 kk"),
        # "× 1 months", as the first order of a one-month subscription has it.
        ("User licences, Basic × 5 × 1 months", "en", "User licences, Basic × 5 × 1 month"),
        ("User licences, Basic × 5 × 1 months", "nl", "Gebruikerslicenties, Basic × 5 × 1 maand"),
        ("User licences, Basic × 5 × 1 months", "fi", "Käyttäjälisenssit, Basic × 5 × 1 kk"),
        # Twelve and three months, storage packs and add-ons.
        (
            "File storage, 50 GB pack × 2 × 12 months",
            "nl",
            "Bestandsopslag, 50 GB pack × 2 × 12 maanden",
        ),
        ("Add-on, SCIM × 1 month", "nl", "Uitbreiding, SCIM × 1 maand"),
        ("Add-on, SCIM × 3 months", "fi", "Lisäosa, SCIM × 3 kk"),
        ("Add-on, SCIM × 1 month", "en", "Add-on, SCIM × 1 month"),
        # Pro-rata lines: the number of licences is not a number of months.
        (
            "User licences, Pro × 1, 2027-01-15–2027-06-30 (167/181 days)",
            "nl",
            "Gebruikerslicenties, Pro × 1, 2027-01-15–2027-06-30 (167/181 dagen)",
        ),
        (
            "User licences, Pro × 1, 2027-01-15–2027-06-30 (167/181 days)",
            "fi",
            "Käyttäjälisenssit, Pro × 1, 2027-01-15–2027-06-30 (167/181 päivää)",
        ),
        # An unknown language reads English.
        ("User licences, Basic × 5 × 1 months", "sv", "User licences, Basic × 5 × 1 month"),
    ],
)
def test_descriptions_in_the_invoice_language(
    description: str, language: str, expected: str
) -> None:
    assert describe(description, language) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "first", "renewal"),
    [
        ("en", "User licences, Basic × 5 × 1 month", "User licences, Basic × 5 × 1 month"),
        (
            "nl",
            "Gebruikerslicenties, Basic × 5 × 1 maand",
            "Gebruikerslicenties, Basic × 5 × 1 maand",
        ),
        ("fi", "Käyttäjälisenssit, Basic × 5 × 1 kk", "Käyttäjälisenssit, Basic × 5 × 1 kk"),
    ],
)
def test_a_one_month_subscriptions_invoices_say_one_month(
    catalog: None, language: str, first: str, renewal: str
) -> None:
    org = make_organization(
        language=language, edition="basic", licenses=5, period_months=1, invoice_address=True
    )
    order = Order.objects.get(organization=org)
    invoice = issue_invoice_for_order(order_id=order.pk, now=NOW).invoice
    assert [line.description for line in Snapshot.from_json(invoice.snapshot).lines] == [first]
    february = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    roll_over_subscriptions(now=february)
    renewed = Order.objects.get(organization=org, kind="renewal", period_start="2027-02-01")
    invoice = issue_invoice_for_order(order_id=renewed.pk, now=february).invoice
    assert [line.description for line in Snapshot.from_json(invoice.snapshot).lines] == [renewal]
