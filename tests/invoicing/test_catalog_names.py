"""Add-on and storage-pack names on documents, in the document's language; an issued
document keeps its words."""

from __future__ import annotations

from typing import Any

import pytest

from abonnement.catalog.models import Feature, StoragePack
from abonnement.features.services import set_feature_enabled
from abonnement.invoicing.documents import Snapshot
from abonnement.invoicing.pdf import render_pdf
from abonnement.invoicing.services import issue_invoice_for_order
from abonnement.invoicing.texts import describe
from abonnement.invoicing.ubl import render_ubl
from abonnement.orders.models import Order
from abonnement.subscriptions.services import set_storage_packs
from tests.conftest import NOW, admin_of
from tests.invoicing.conftest import dutch_customer, finnish_customer, norwegian_customer
from tests.invoicing.test_pdf import text_of

pytestmark = pytest.mark.django_db

TRANSLATIONS = {
    "fi": {"name": "Kertakirjautuminen"},
    "nl": {"name": "Eenmalig aanmelden"},
}


@pytest.fixture
def translated(catalog: None) -> None:
    Feature.objects.filter(code="sso").update(translations=TRANSLATIONS)
    Feature.objects.filter(code="api").update(translations={"nl": {"name": "API-toegang"}})
    StoragePack.objects.update(
        translations={"fi": {"name": "50 Gt:n paketti"}, "nl": {"name": "Pakket van 50 GB"}}
    )


def invoice_of(org: Any, kind: str) -> Any:
    order = Order.objects.get(organization=org, kind=kind)
    return issue_invoice_for_order(order_id=order.pk, now=NOW).invoice


def buy_sso_and_storage(org: Any) -> None:
    set_feature_enabled(organization=org, code="sso", enabled=True, actor=admin_of(org), now=NOW)
    set_storage_packs(organization=org, extra_packs=2, actor=admin_of(org), now=NOW)


@pytest.mark.parametrize(
    ("description", "language", "name", "expected"),
    [
        ("Add-on, SCIM × 3 months", "fi", "Käyttäjähallinta", "Lisäosa, Käyttäjähallinta × 3 kk"),
        (
            "File storage, 100 GB storage pack × 2 × 6 months",
            "fi",
            "100 Gt:n tallennustilapaketti",
            "Tallennustila, 100 Gt:n tallennustilapaketti × 2 × 6 kk",
        ),
        (
            "File storage, 100 GB storage pack × 2 × 1 month",
            "nl",
            "Opslagpakket van 100 GB",
            "Bestandsopslag, Opslagpakket van 100 GB × 2 × 1 maand",
        ),
        (
            "Add-on, Projects × 1, 2027-01-15–2027-06-30 (167/181 days)",
            "nl",
            "Projecten",
            "Uitbreiding, Projecten × 1, 2027-01-15–2027-06-30 (167/181 dagen)",
        ),
        # The name is put in as it is: its own words are not taken for the fixed ones.
        (
            "Add-on, Projects × 6 months",
            "fi",
            "Add-on-projektit",
            "Lisäosa, Add-on-projektit × 6 kk",
        ),
        # Licence lines keep the edition's (brand) name.
        (
            "User licences, Pro × 10 × 6 months",
            "fi",
            "Ammattilainen",
            "Käyttäjälisenssit, Pro × 10 × 6 kk",
        ),
        # No translation: the stored English name.
        ("Add-on, Projects × 6 months", "fi", "", "Lisäosa, Projects × 6 kk"),
    ],
)
def test_describe_puts_in_the_translated_name(
    description: str, language: str, name: str, expected: str
) -> None:
    assert describe(description, language, name=name) == expected


def test_a_finnish_invoice_names_the_add_on_and_pack_in_finnish(translated: None) -> None:
    org = finnish_customer()
    buy_sso_and_storage(org)
    add_on = Snapshot.from_json(invoice_of(org, "add_on").snapshot)
    storage = Snapshot.from_json(invoice_of(org, "storage").snapshot)
    assert [line.description for line in add_on.lines] == [
        "Lisäosa, Kertakirjautuminen × 1, 2027-01-15–2027-06-30 (167/181 päivää)"
    ]
    assert [line.description for line in storage.lines] == [
        "Tallennustila, 50 Gt:n paketti × 2, 2027-01-15–2027-06-30 (167/181 päivää)"
    ]
    assert "Lisäosa, Kertakirjautuminen × 1" in text_of(render_pdf(add_on))
    assert "Tallennustila, 50 Gt:n paketti × 2" in text_of(render_pdf(storage))
    ubl = render_ubl(add_on).decode()
    assert "<cbc:Name>Lisäosa, Kertakirjautuminen × 1, 2027-01-15–2027-06-30" in ubl
    # The order keeps its English words; only the document speaks Finnish.
    assert Order.objects.get(organization=org, kind="add_on").lines.get().description == (
        "Add-on, Single sign-on × 1, 2027-01-15–2027-06-30 (167/181 days)"
    )


def test_the_confirmation_speaks_the_document_language_too(translated: None) -> None:
    from abonnement.invoicing.models import OrderConfirmation

    org = finnish_customer()
    buy_sso_and_storage(org)
    order = Order.objects.get(organization=org, kind="storage")
    issue_invoice_for_order(order_id=order.pk, now=NOW)
    confirmation = OrderConfirmation.objects.get(order=order)
    (line,) = Snapshot.from_json(confirmation.snapshot).lines
    assert line.description == (
        "Tallennustila, 50 Gt:n paketti × 2, 2027-01-15–2027-06-30 (167/181 päivää)"
    )


def test_a_dutch_invoice_uses_the_dutch_names(translated: None) -> None:
    org = dutch_customer()  # Basic: API access is its add-on
    set_feature_enabled(organization=org, code="api", enabled=True, actor=admin_of(org), now=NOW)
    (line,) = Snapshot.from_json(invoice_of(org, "add_on").snapshot).lines
    assert line.description.startswith("Uitbreiding, API-toegang × 1, 2027-01-15–")


def test_english_invoices_keep_the_stored_names(translated: None) -> None:
    org = norwegian_customer()  # Enterprise: storage packs but no add-ons to buy
    set_storage_packs(organization=org, extra_packs=1, actor=admin_of(org), now=NOW)
    (line,) = Snapshot.from_json(invoice_of(org, "storage").snapshot).lines
    assert line.description.startswith("File storage, 50 GB pack × 1, 2027-01-15–")


def test_an_issued_invoice_keeps_its_words(translated: None) -> None:
    org = finnish_customer()
    buy_sso_and_storage(org)
    invoice = invoice_of(org, "add_on")
    stored = invoice.snapshot
    pdf = render_pdf(Snapshot.from_json(stored))
    Feature.objects.filter(code="sso").update(translations={"fi": {"name": "SSO-kirjautuminen"}})
    invoice.refresh_from_db()
    assert invoice.snapshot == stored
    assert render_pdf(Snapshot.from_json(invoice.snapshot)) == pdf
    assert "Kertakirjautuminen" in text_of(pdf)


def test_the_renewal_reminder_names_add_ons_in_the_invoice_language(translated: None) -> None:
    from datetime import UTC, datetime

    from django.core import mail

    from abonnement.invoicing.models import Delivery
    from abonnement.invoicing.services import send_delivery, send_period_reminders

    org = finnish_customer()
    set_feature_enabled(organization=org, code="sso", enabled=True, actor=admin_of(org), now=NOW)
    june_16 = datetime(2027, 6, 16, 9, 0, tzinfo=UTC)
    send_period_reminders(now=june_16)
    send_delivery(delivery_id=Delivery.objects.get(reminder__isnull=False).pk, now=june_16)
    (message,) = [m for m in mail.outbox if m.subject.startswith("Tilauksenne uusiutuu")]
    assert "Lisäosat: Kertakirjautuminen\n" in message.body
