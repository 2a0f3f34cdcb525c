"""The change log's "Before and after" panels (Settings › Subscription › History) show what
the entries store in the reader's language: order kinds, document types and delivery
channels in words, amounts with their currency, the contact user by name, order lines
translated. Entries stored before any of this render too: the history is append-only."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from abonnement.core.actor import Actor
from abonnement.history.models import HistoryKind
from abonnement.history.services import record
from tests.conftest import NOW, admin_of
from tests.invoicing.conftest import SELLER, set_billing
from tests.portal.conftest import make_user

pytestmark = pytest.mark.django_db

HISTORY = "/settings/subscription/history/"
PEPPOL = "0208:0123456749"


@pytest.fixture(autouse=True)
def documents_settings(settings: Any, tmp_path: Any) -> None:
    settings.SELLER = SELLER
    settings.PAYMENT_TERMS_DAYS = 14
    settings.ABONNEMENT_OUTBOX_DIR = tmp_path / "outbox"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def panels(body: str) -> dict[str, list[tuple[str, str]]]:
    """Each change-log row's text → its before and after fields, (label, text) in order."""
    rows = re.findall(
        r'<td data-label="[^"]+">([^<]*)<details class="diff">(.*?)</details>', body, re.S
    )
    found: dict[str, list[tuple[str, str]]] = {}
    for text, panel in rows:
        found.setdefault(
            html.unescape(text.strip()),
            [
                (html.unescape(label), html.unescape(value))
                for label, value in re.findall(r"(?:<dt>(.*?)</dt>)?<dd>(.*?)</dd>", panel)
            ],
        )
    return found


def in_language(user: Any, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


@pytest.fixture
def history(org: Any) -> dict[str, Any]:
    """Orders of every kind, an invoice delivered as an e-invoice through the outbox, a
    period reminder and a change of billing contact, each through its service. Catalogue
    names have their Dutch and Finnish translations."""
    from abonnement.catalog.models import Feature, StoragePack
    from abonnement.features.services import set_feature_enabled
    from abonnement.invoicing.models import Delivery
    from abonnement.invoicing.services import (
        issue_invoice_for_order,
        send_delivery,
        send_period_reminders,
    )
    from abonnement.orders.models import Order
    from abonnement.subscriptions.services import set_license_count, set_storage_packs

    Feature.objects.filter(code="sso").update(
        translations={"nl": {"name": "Eenmalige aanmelding"}, "fi": {"name": "Kertakirjautuminen"}}
    )
    StoragePack.objects.update(
        translations={"nl": {"name": "Pakket van 50 GB"}, "fi": {"name": "50 Gt:n paketti"}}
    )
    set_billing(org, e_invoicing={"enabled": True, "address": PEPPOL, "operator_code": PEPPOL})
    admin = admin_of(org)
    set_license_count(organization=org, licenses=13, actor=admin, now=NOW)
    set_storage_packs(organization=org, extra_packs=2, actor=admin, now=NOW)
    set_feature_enabled(organization=org, code="sso", enabled=True, actor=admin, now=NOW)
    renewal = Order.objects.get(organization=org, kind="renewal")
    documents = issue_invoice_for_order(order_id=renewal.pk, now=NOW)
    (delivery,) = Delivery.objects.filter(invoice=documents.invoice)
    assert send_delivery(delivery_id=delivery.pk, now=NOW).status == "sent"
    assert send_period_reminders(now=datetime(2027, 6, 25, 10, 0, tzinfo=UTC), days=7) == 1
    bea = make_user(org, "bea@testi.example")
    set_billing(org, contact={"user_id": bea.pk})
    return {"delivery": str(delivery.pk)}


EXPECTED = {
    "en": {
        "Order 1 placed: €1,200.00": [
            ("Kind", "Renewal"),
            ("Lines", "User licences, Pro × 10 × 6 months"),
        ],
        "Order 2 placed: €332.15": [
            ("Kind", "User licences"),
            ("Lines", "User licences, Pro × 3, 15 Jan 2027 – 30 Jun 2027 (167 of 181 days)"),
        ],
        "Order 3 placed: €44.29": [
            ("Kind", "File storage"),
            ("Lines", "File storage, 50 GB pack × 2, 15 Jan 2027 – 30 Jun 2027 (167 of 181 days)"),
        ],
        "Order 4 placed: €44.29": [
            ("Kind", "Add-on"),
            (
                "Lines",
                "Add-on, Single sign-on × 1, 15 Jan 2027 – 30 Jun 2027 (167 of 181 days)",
            ),
        ],
        "Invoice 1 issued: €1,506.00": [("Type", "Invoice")],
        "Invoice 1 delivered: 0208:0123456749 through operator 0208:0123456749 (outbox)": [
            ("Channel", "As an e-invoice"),
            ("Destination", "0208:0123456749 through operator 0208:0123456749 (outbox)"),
        ],
        "Reminder about the next period created: from 1 Jul 2027": [("Period price", "€1,752.00")],
        "Billing details changed: contact, e-invoicing": [
            ("Contact user", "Anna Admin <admin@testi.example>"),
            (
                "E-invoicing",
                "Switched on Yes, E-invoice address 0208:0123456749, Operator code 0208:0123456749",
            ),
            ("Contact user", "Bea <bea@testi.example>"),
            ("E-invoicing", "Switched on No, E-invoice address —, Operator code —"),
        ],
    },
    "nl": {
        "Order 1 geplaatst: €\xa01.200,00": [
            ("Soort", "Verlenging"),
            ("Regels", "Gebruikerslicenties, Pro × 10 × 6 maanden"),
        ],
        "Order 2 geplaatst: €\xa0332,15": [
            ("Soort", "Gebruikerslicenties"),
            (
                "Regels",
                "Gebruikerslicenties, Pro × 3, 15 jan 2027 – 30 jun 2027 (167 van 181 dagen)",
            ),
        ],
        "Order 3 geplaatst: €\xa044,29": [
            ("Soort", "Bestandsopslag"),
            (
                "Regels",
                "Bestandsopslag, Pakket van 50 GB × 2, 15 jan 2027 – 30 jun 2027"
                " (167 van 181 dagen)",
            ),
        ],
        "Order 4 geplaatst: €\xa044,29": [
            ("Soort", "Uitbreiding"),
            (
                "Regels",
                "Uitbreiding, Eenmalige aanmelding × 1, 15 jan 2027 – 30 jun 2027"
                " (167 van 181 dagen)",
            ),
        ],
        "Factuur 1 uitgegeven: €\xa01.506,00": [("Type", "Factuur")],
        "Factuur 1 afgeleverd: 0208:0123456749 via operator 0208:0123456749 (uitgaande map)": [
            ("Kanaal", "Als e-factuur"),
            ("Bestemming", "0208:0123456749 via operator 0208:0123456749 (uitgaande map)"),
        ],
        "Herinnering over de volgende periode aangemaakt: vanaf 1 jul 2027": [
            ("Prijs van de periode", "€\xa01.752,00")
        ],
        "Facturatiegegevens gewijzigd: contactpersoon, e-facturering": [
            ("Contactpersoon (gebruiker)", "Anna Admin <admin@testi.example>"),
            (
                "E-facturering",
                "Ingeschakeld Ja, E-factuuradres 0208:0123456749, Operatorcode 0208:0123456749",
            ),
            ("Contactpersoon (gebruiker)", "Bea <bea@testi.example>"),
            ("E-facturering", "Ingeschakeld Nee, E-factuuradres —, Operatorcode —"),
        ],
    },
    "fi": {
        "Tilaus 1 tehty: 1\xa0200,00\xa0€": [
            ("Laji", "Uusiminen"),
            ("Rivit", "Käyttäjälisenssit, Pro × 10 × 6 kuukautta"),
        ],
        "Tilaus 2 tehty: 332,15\xa0€": [
            ("Laji", "Käyttäjälisenssit"),
            ("Rivit", "Käyttäjälisenssit, Pro × 3, 15.1.2027 – 30.6.2027 (167/181 päivää)"),
        ],
        "Tilaus 3 tehty: 44,29\xa0€": [
            ("Laji", "Tiedostotila"),
            ("Rivit", "Tiedostotila, 50 Gt:n paketti × 2, 15.1.2027 – 30.6.2027 (167/181 päivää)"),
        ],
        "Tilaus 4 tehty: 44,29\xa0€": [
            ("Laji", "Lisäosa"),
            ("Rivit", "Lisäosa, Kertakirjautuminen × 1, 15.1.2027 – 30.6.2027 (167/181 päivää)"),
        ],
        "Lasku 1 laadittu: 1\xa0506,00\xa0€": [("Tyyppi", "Lasku")],
        "Lasku 1 toimitettu: 0208:0123456749 välittäjän 0208:0123456749 kautta (lähtevät-kansio)": [
            ("Kanava", "Verkkolaskuna"),
            (
                "Vastaanottaja",
                "0208:0123456749 välittäjän 0208:0123456749 kautta (lähtevät-kansio)",
            ),
        ],
        "Muistutus seuraavasta kaudesta luotu: alkaa 1.7.2027": [
            ("Kauden hinta", "1\xa0752,00\xa0€")
        ],
        "Laskutustietoja muutettu: yhteyshenkilö, verkkolaskutus": [
            ("Yhteyshenkilö (käyttäjä)", "Anna Admin <admin@testi.example>"),
            (
                "Verkkolaskutus",
                "Päällä Kyllä, Verkkolaskuosoite 0208:0123456749, Välittäjätunnus 0208:0123456749",
            ),
            ("Yhteyshenkilö (käyttäjä)", "Bea <bea@testi.example>"),
            ("Verkkolaskutus", "Päällä Ei, Verkkolaskuosoite —, Välittäjätunnus —"),
        ],
    },
}


@pytest.mark.parametrize("language", ["en", "nl", "fi"])
def test_stored_values_are_shown_in_the_readers_language(
    portal: Client, admin_user: Any, history: dict[str, Any], language: str
) -> None:
    in_language(admin_user, language)
    body = portal.get(HISTORY + "?show=all").content.decode()
    shown = panels(body)
    for text, fields in EXPECTED[language].items():
        assert text in shown, text
        assert [field for field in shown[text] if field in fields] == fields, text
    # No stored code, bare amount or database id is shown.
    values = [value for fields in shown.values() for _label, value in fields]
    for raw in ("licenses", "renewal", "storage", "add_on", "invoice", "einvoice", "1752.00"):
        assert raw not in values
    assert f"{PEPPOL} via {PEPPOL} (outbox)" not in values
    assert not any("2027-01-15" in value for value in values)


def test_an_old_reminder_and_a_deleted_contact_user(
    portal: Client, org: Any, admin_user: Any
) -> None:
    """A reminder entry as stored so far (no currency) and a billing entry whose contact
    user has been deleted since."""
    bea = make_user(org, "bea@testi.example")
    set_billing(org, contact={"user_id": bea.pk})
    set_billing(org, contact={"user_id": admin_user.pk})
    bea_id = bea.pk
    bea.delete()
    record(
        organization_id=org.pk,
        actor=Actor.system("Documents"),
        now=NOW,
        kind=HistoryKind.PERIOD,
        action="period_reminder_created",
        subject="2027-07-01–2027-12-31",
        after={
            "period_end": "2027-06-30",
            "next_start": "2027-07-01",
            "edition": "Pro",
            "licenses": 10,
            "period_price": "36.00",
            "deadline": "2027-06-30",
        },
    )
    expected = {
        "en": ("Period price", "€36.00", "Contact user", f"Deleted user {bea_id}"),
        "nl": (
            "Prijs van de periode",
            "€\xa036,00",
            "Contactpersoon (gebruiker)",
            f"Verwijderde gebruiker {bea_id}",
        ),
        "fi": (
            "Kauden hinta",
            "36,00\xa0€",
            "Yhteyshenkilö (käyttäjä)",
            f"Poistettu käyttäjä {bea_id}",
        ),
    }
    for language, (price, amount, contact, deleted) in expected.items():
        in_language(admin_user, language)
        shown = panels(portal.get(HISTORY + "?show=all").content.decode())
        assert [(price, amount)] == [
            f for fields in shown.values() for f in fields if f[0] == price
        ]
        contacts = [f for fields in shown.values() for f in fields if f[0] == contact]
        # Newest first: back to Anna from the deleted user, then from Anna to that user.
        assert contacts == [
            (contact, deleted),
            (contact, "Anna Admin <admin@testi.example>"),
            (contact, "Anna Admin <admin@testi.example>"),
            (contact, deleted),
        ]


def test_the_page_reads_the_contact_users_at_once(
    portal: Client, org: Any, django_assert_max_num_queries: Any
) -> None:
    """One query for the users of every billing entry on the page, not one per entry."""
    users = [make_user(org, f"contact{index}@testi.example") for index in range(6)]
    set_billing(org, contact={"user_id": users[0].pk})
    with CaptureQueriesContext(connection) as few:
        body = portal.get(HISTORY + "?show=billing").content.decode()
    assert body.count("Contact0 &lt;contact0@testi.example&gt;") == 1
    for user in users[1:]:
        set_billing(org, contact={"user_id": user.pk})
    with django_assert_max_num_queries(len(few)), CaptureQueriesContext(connection) as many:
        body = portal.get(HISTORY + "?show=billing").content.decode()
    assert len(many) == len(few)
    for index in range(1, 5):
        assert body.count(f"Contact{index} &lt;contact{index}@testi.example&gt;") == 2
