"""The words on documents, in the three invoice languages (en, nl, fi).

Documents are written in the organisation's invoice language whatever language the person
or worker that triggers them uses, so they do not go through the request's gettext: the
texts live here, next to the number and date formats (Babel, per language).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Final

from babel.dates import format_date
from babel.numbers import format_decimal

from abonnement.core.money import format_money

LANGUAGES: Final = ("en", "nl", "fi")
LOCALES: Final = {"en": "en_IE", "nl": "nl_NL", "fi": "fi_FI"}

TEXTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "order_confirmation": "Order confirmation",
        "seller": "Seller",
        "buyer": "Bill to",
        "invoice_number": "Invoice number",
        "credit_note_number": "Credit note number",
        "order_number": "Order number",
        "issue_date": "Date",
        "due_date": "Due date",
        "payment_reference": "Payment reference",
        "your_reference": "Your reference",
        "period": "Period",
        "credits_invoice": "Credits invoice",
        "vat_number": "VAT number",
        "business_id": "Business ID",
        "description": "Description",
        "quantity": "Quantity",
        "unit_price": "Unit price",
        "vat_rate": "VAT %",
        "amount": "Amount",
        "days": "days",
        "net_total": "Total excl. VAT",
        "vat": "VAT",
        "total": "Total",
        "total_due": "Total due",
        "credited_total": "Total credited",
        "bank": "Bank account (IBAN)",
        "bic": "BIC",
        "page": "Page",
        "reverse_charge_note": (
            "Reverse charge: the buyer accounts for the VAT "
            "(Article 196 of Council Directive 2006/112/EC)."
        ),
        "outside_scope_note": (
            "Not subject to VAT in the EU: the buyer is established outside the EU."
        ),
        "confirmation_note": "Thank you for your order. The invoice follows separately.",
        "reason": "Reason",
        "reminder_subject": "Your subscription renews on {start}",
        "invoice_subject": "Invoice {number} from {seller}",
        "credit_note_subject": "Credit note {number} from {seller}",
        "confirmation_subject": "Order confirmation {number} from {seller}",
        "document_body": (
            "Hello,\n\nattached is {document} {number} from {seller}.\n\n"
            "Total: {total}\n{due}\nBest regards,\n{seller}\n"
        ),
        "due_line": "Due date: {due_date}, payment reference {reference}\n",
        "reminder_body": (
            "Hello,\n\nthe current billing period of {organization} ends on {end}. "
            "The next period, {start} to {next_end}, will be invoiced in advance with:\n\n"
            "Edition: {edition}\nUser licences: {licenses}\nExtra storage packs: {packs}\n"
            "{add_ons}Monthly price: {monthly}\nPrice of the period: {period_total} "
            "(excl. VAT)\n\nChanges for the next period must be made by {deadline}.\n"
            "{marketplace}\n"
            "Best regards,\n{seller}\n"
        ),
        "add_ons_line": "Add-ons: {names}\n",
        "marketplace_line": ("Your subscription is managed in {name}: make changes there, {url}\n"),
    },
    "nl": {
        "invoice": "Factuur",
        "credit_note": "Creditnota",
        "order_confirmation": "Orderbevestiging",
        "seller": "Verkoper",
        "buyer": "Factuuradres",
        "invoice_number": "Factuurnummer",
        "credit_note_number": "Creditnotanummer",
        "order_number": "Ordernummer",
        "issue_date": "Datum",
        "due_date": "Vervaldatum",
        "payment_reference": "Betalingskenmerk",
        "your_reference": "Uw referentie",
        "period": "Periode",
        "credits_invoice": "Crediteert factuur",
        "vat_number": "Btw-nummer",
        "business_id": "Ondernemingsnummer",
        "description": "Omschrijving",
        "quantity": "Aantal",
        "unit_price": "Stukprijs",
        "vat_rate": "Btw %",
        "amount": "Bedrag",
        "days": "dagen",
        "net_total": "Totaal excl. btw",
        "vat": "Btw",
        "total": "Totaal",
        "total_due": "Te betalen",
        "credited_total": "Totaal gecrediteerd",
        "bank": "Bankrekening (IBAN)",
        "bic": "BIC",
        "page": "Pagina",
        "reverse_charge_note": (
            "Btw verlegd: de afnemer voldoet de btw "
            "(artikel 196 van Richtlijn 2006/112/EG van de Raad)."
        ),
        "outside_scope_note": (
            "Niet onderworpen aan btw in de EU: de afnemer is gevestigd buiten de EU."
        ),
        "confirmation_note": "Bedankt voor uw bestelling. De factuur volgt apart.",
        "reason": "Reden",
        "reminder_subject": "Uw abonnement wordt verlengd op {start}",
        "invoice_subject": "Factuur {number} van {seller}",
        "credit_note_subject": "Creditnota {number} van {seller}",
        "confirmation_subject": "Orderbevestiging {number} van {seller}",
        "document_body": (
            "Beste klant,\n\nbijgevoegd vindt u {document} {number} van {seller}.\n\n"
            "Totaal: {total}\n{due}\nMet vriendelijke groet,\n{seller}\n"
        ),
        "due_line": "Vervaldatum: {due_date}, betalingskenmerk {reference}\n",
        "reminder_body": (
            "Beste klant,\n\nde huidige factureringsperiode van {organization} eindigt op "
            "{end}. De volgende periode, {start} tot en met {next_end}, wordt vooraf "
            "gefactureerd met:\n\nVersie: {edition}\nGebruikerslicenties: {licenses}\n"
            "Extra opslagpakketten: {packs}\n{add_ons}Maandprijs: {monthly}\n"
            "Prijs van de periode: {period_total} (excl. btw)\n\n"
            "Wijzigingen voor de volgende periode moeten uiterlijk {deadline} zijn "
            "gedaan.\n{marketplace}\nMet vriendelijke groet,\n{seller}\n"
        ),
        "add_ons_line": "Uitbreidingen: {names}\n",
        "marketplace_line": (
            "Uw abonnement wordt beheerd in {name}: breng wijzigingen daar aan, {url}\n"
        ),
    },
    "fi": {
        "invoice": "Lasku",
        "credit_note": "Hyvityslasku",
        "order_confirmation": "Tilausvahvistus",
        "seller": "Myyjä",
        "buyer": "Laskutusosoite",
        "invoice_number": "Laskun numero",
        "credit_note_number": "Hyvityslaskun numero",
        "order_number": "Tilausnumero",
        "issue_date": "Päiväys",
        "due_date": "Eräpäivä",
        "payment_reference": "Viitenumero",
        "your_reference": "Viitteenne",
        "period": "Jakso",
        "credits_invoice": "Hyvittää laskun",
        "vat_number": "ALV-numero",
        "business_id": "Y-tunnus",
        "description": "Kuvaus",
        "quantity": "Määrä",
        "unit_price": "Yksikköhinta",
        "vat_rate": "ALV %",
        "amount": "Summa",
        "days": "päivää",
        "net_total": "Veroton yhteensä",
        "vat": "ALV",
        "total": "Yhteensä",
        "total_due": "Maksettava",
        "credited_total": "Hyvitys yhteensä",
        "bank": "Tilinumero (IBAN)",
        "bic": "BIC",
        "page": "Sivu",
        "reverse_charge_note": (
            "Käännetty verovelvollisuus: ostaja suorittaa arvonlisäveron "
            "(neuvoston direktiivin 2006/112/EY 196 artikla)."
        ),
        "outside_scope_note": (
            "Ei EU:n arvonlisäveron alainen myynti: ostaja on sijoittautunut EU:n ulkopuolelle."
        ),
        "confirmation_note": "Kiitos tilauksestanne. Lasku lähetetään erikseen.",
        "reason": "Syy",
        "reminder_subject": "Tilauksenne uusiutuu {start}",
        "invoice_subject": "Lasku {number} – {seller}",
        "credit_note_subject": "Hyvityslasku {number} – {seller}",
        "confirmation_subject": "Tilausvahvistus {number} – {seller}",
        "document_body": (
            "Hei,\n\nliitteenä {document} {number}, lähettäjä {seller}.\n\n"
            "Yhteensä: {total}\n{due}\nYstävällisin terveisin,\n{seller}\n"
        ),
        "due_line": "Eräpäivä: {due_date}, viitenumero {reference}\n",
        "reminder_body": (
            "Hei,\n\norganisaation {organization} nykyinen laskutusjakso päättyy {end}. "
            "Seuraava jakso {start}–{next_end} laskutetaan etukäteen seuraavasti:\n\n"
            "Versio: {edition}\nKäyttäjälisenssit: {licenses}\nLisätallennustilapaketit: "
            "{packs}\n{add_ons}Kuukausihinta: {monthly}\nJakson hinta: {period_total} "
            "(veroton)\n\nSeuraavaa jaksoa koskevat muutokset on tehtävä viimeistään "
            "{deadline}.\n{marketplace}\nYstävällisin terveisin,\n{seller}\n"
        ),
        "add_ons_line": "Lisäosat: {names}\n",
        "marketplace_line": (
            "Tilaustanne hallitaan palvelussa {name}: tehkää muutokset siellä, {url}\n"
        ),
    },
}


# The order lines carry English descriptions; these are their words in the other languages.
# The billing period's length ("× 6 months") is handled by ``_MONTHS`` below, in the
# singular and the plural.
DESCRIPTION_WORDS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "fi": (
        ("User licences", "Käyttäjälisenssit"),
        ("File storage", "Tallennustila"),
        ("Add-on", "Lisäosa"),
        (" days)", " päivää)"),
    ),
    "nl": (
        ("User licences", "Gebruikerslicenties"),
        ("File storage", "Bestandsopslag"),
        ("Add-on", "Uitbreiding"),
        (" days)", " dagen)"),
    ),
}

# "× 1 month" / "× 6 months" as the rollover writes it, and "× 1 months" as older orders
# (and the first order of a one-month subscription) have it.
_MONTHS: Final = re.compile(r"× (\d+) months?\b")
MONTH_WORDS: Final[dict[str, tuple[str, str]]] = {
    "en": ("month", "months"),
    "fi": ("kk", "kk"),
    "nl": ("maand", "maanden"),
}


def _months(match: re.Match[str], language: str) -> str:
    count = int(match.group(1))
    one, many = MONTH_WORDS[language_of(language)]
    return f"× {count} {one if count == 1 else many}"


# The line kinds whose description names a catalogue entry: "Add-on, Projects × 6 months",
# "File storage, 100 GB storage pack × 2 × 6 months" (the name runs to the first " × ").
NAMED_LINES: Final = ("Add-on, ", "File storage, ")


def describe(description: str, language: str, *, name: str = "") -> str:
    """An order line's description in the document's language. ``name`` is the catalogue
    name of the line's add-on or storage pack in that language ("" when it has none): it
    takes the place of the English name the stored description embeds."""
    if name:
        for head in NAMED_LINES:
            stored, times, rest = description.removeprefix(head).partition(" × ")
            if description.startswith(head) and stored:
                return f"{_words(head, language)}{name}{_words(times + rest, language)}"
    return _words(description, language)


def _words(description: str, language: str) -> str:
    for english, translated in DESCRIPTION_WORDS.get(language, ()):
        description = description.replace(english, translated)
    return _MONTHS.sub(lambda match: _months(match, language), description)


def language_of(code: str) -> str:
    return code if code in TEXTS else "en"


def text(language: str, key: str) -> str:
    return TEXTS[language_of(language)][key]


def money(amount: Decimal, currency: str, language: str) -> str:
    return format_money(amount, currency, LOCALES[language_of(language)])


def number(value: Decimal, language: str, *, decimals: int = 2) -> str:
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return str(format_decimal(value, format=pattern, locale=LOCALES[language_of(language)]))


def quantity(value: Decimal, language: str) -> str:
    """Quantities without trailing zeros: 60, 2.5."""
    normalized = value.normalize()
    decimals = max(0, -int(normalized.as_tuple().exponent))
    return number(value, language, decimals=decimals)


def day(value: date, language: str) -> str:
    return str(format_date(value, format="medium", locale=LOCALES[language_of(language)]))


def percent(rate: Decimal, language: str) -> str:
    return quantity(rate, language) + " %"
