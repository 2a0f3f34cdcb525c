"""Stored before/after values as the reader sees them (portal history, back office)."""

from __future__ import annotations

import pytest
from django.utils import translation

from abonnement.history.selectors import StoredReferences
from abonnement.history.texts import FIELD_LABELS, change_fields, order_line_text

EDITIONS = {"pro": "Pro", "enterprise": "Enterprise"}


def one_line(value: object) -> str:
    """The fields as one line ("User licences: 12; Edition: Pro"), for compact expectations."""
    return "; ".join(f"{label}: {text}" if label else text for label, text in change_fields(value))


def test_fields_are_labelled_and_values_formatted() -> None:
    stored = {
        "edition": "pro",
        "licenses": 1200,
        "period": {"start": "2027-01-01", "end": "2027-06-30"},
        "total": "1234.50",
        "currency": "EUR",
        "active": False,
        "cc": ["a@example.com", "b@example.com"],
        "contact_user_id": None,
    }
    # In reading order, whatever order the database keeps the keys in (_ORDER).
    assert change_fields(stored, editions=EDITIONS) == [
        ("Active", "No"),
        ("Period", "1 Jan 2027 – 30 Jun 2027"),
        ("Edition", "Pro"),
        ("User licences", "1,200"),
        ("Contact user", "—"),
        ("Copy recipients", "a@example.com, b@example.com"),
        ("Total", "€1,234.50"),
        ("Currency", "EUR"),
    ]
    assert change_fields(dict(reversed(stored.items())), editions=EDITIONS) == change_fields(
        stored, editions=EDITIONS
    )


def test_a_field_without_a_label_keeps_its_stored_name() -> None:
    assert change_fields({"frobnication": "x"}) == [("frobnication", "x")]
    assert change_fields(None) == [] and change_fields({}) == []
    assert change_fields("plain") == [("", "plain")]


def test_nested_values_and_one_line() -> None:
    stored = {
        "address": {"street": "Katu 1", "postal_code": "00100", "city": "Helsinki"},
        "enabled": True,
    }
    assert one_line(stored) == (
        "Switched on: Yes; Invoice address: Street Katu 1, Postal code 00100, City Helsinki"
    )


def test_in_finnish() -> None:
    with translation.override("fi"):
        assert change_fields({"licenses": 12, "total": "45.00", "currency": "EUR"}) == [
            ("Käyttäjälisenssit", "12"),
            ("Yhteensä", "45,00\xa0€"),
            ("Valuutta", "EUR"),
        ]


# --------------------------------------------------------------------------- stored codes


@pytest.mark.parametrize(
    "language,expected",
    [
        (
            "en",
            [
                ("Kind", "User licences"),
                ("Kind", "File storage"),
                ("Kind", "Add-on"),
                ("Kind", "Renewal"),
                ("Type", "Invoice"),
                ("Type", "Credit note"),
                ("Channel", "By e-mail"),
                ("Channel", "As an e-invoice"),
            ],
        ),
        (
            "nl",
            [
                ("Soort", "Gebruikerslicenties"),
                ("Soort", "Bestandsopslag"),
                ("Soort", "Uitbreiding"),
                ("Soort", "Verlenging"),
                ("Type", "Factuur"),
                ("Type", "Creditnota"),
                ("Kanaal", "Per e-mail"),
                ("Kanaal", "Als e-factuur"),
            ],
        ),
        (
            "fi",
            [
                ("Laji", "Käyttäjälisenssit"),
                ("Laji", "Tiedostotila"),
                ("Laji", "Lisäosa"),
                ("Laji", "Uusiminen"),
                ("Tyyppi", "Lasku"),
                ("Tyyppi", "Hyvityslasku"),
                ("Kanava", "Sähköpostilla"),
                ("Kanava", "Verkkolaskuna"),
            ],
        ),
    ],
)
def test_stored_codes_are_words(language: str, expected: list[tuple[str, str]]) -> None:
    stored = [
        {"kind": "licenses"},
        {"kind": "storage"},
        {"kind": "add_on"},
        {"kind": "renewal"},
        {"type": "invoice"},
        {"type": "credit_note"},
        {"channel": "email"},
        {"channel": "einvoice"},
    ]
    with translation.override(language):
        assert [field for value in stored for field in change_fields(value)] == expected


def test_a_code_it_does_not_know_is_as_stored() -> None:
    assert change_fields({"type": "voucher", "kind": "gift", "channel": "fax"}) == [
        ("Type", "voucher"),
        ("Kind", "gift"),
        ("Channel", "fax"),
    ]


@pytest.mark.parametrize(
    "language,expected",
    [
        ("en", "0208:0123456749 through operator 0208:0123456749 (outbox)"),
        ("nl", "0208:0123456749 via operator 0208:0123456749 (uitgaande map)"),
        ("fi", "0208:0123456749 välittäjän 0208:0123456749 kautta (lähtevät-kansio)"),
    ],
)
def test_an_outbox_destination_is_in_the_readers_language(language: str, expected: str) -> None:
    stored = {"destination": "0208:0123456749 via 0208:0123456749 (outbox)"}
    with translation.override(language):
        assert change_fields(stored) == [(str(FIELD_LABELS["destination"]), expected)]
    assert change_fields({"destination": "a@example.com, b@example.com"}) == [
        ("Destination", "a@example.com, b@example.com")
    ]


@pytest.mark.parametrize(
    "language,expected",
    [
        (
            "en",
            "Invoice address: Street Katu 1; E-invoicing: Switched on Yes, "
            "E-invoice address 003723456780, Operator code 003721291126",
        ),
        (
            "nl",
            "Factuuradres: Straat Katu 1; E-facturering: Ingeschakeld Ja, "
            "E-factuuradres 003723456780, Operatorcode 003721291126",
        ),
        (
            "fi",
            "Laskutusosoite: Katuosoite Katu 1; Verkkolaskutus: Päällä Kyllä, "
            "Verkkolaskuosoite 003723456780, Välittäjätunnus 003721291126",
        ),
    ],
)
def test_the_e_invoice_address_is_not_the_invoice_address(language: str, expected: str) -> None:
    stored = {
        "e_invoicing": {
            "enabled": True,
            "address": "003723456780",
            "operator_code": "003721291126",
        },
        "address": {"street": "Katu 1"},
    }
    with translation.override(language):
        assert one_line(stored) == expected


# --------------------------------------------------------------------------- references


def test_an_amount_stored_without_a_currency_is_in_the_organisations() -> None:
    """Period reminders store the period's price without its currency."""
    reminder = {"licenses": 12, "period_price": "1698.00"}
    euros = StoredReferences(currency="EUR")
    assert change_fields(reminder, references=euros) == [
        ("User licences", "12"),
        ("Period price", "€1,698.00"),
    ]
    with translation.override("nl"):
        assert change_fields(reminder, references=euros)[1] == ("Prijs van de periode", NL_PRICE)
    with translation.override("fi"):
        assert change_fields(reminder, references=euros)[1] == ("Kauden hinta", FI_PRICE)
    # A currency the entry stores is the amount's.
    assert change_fields({**reminder, "currency": "SEK"}, references=euros)[1] == (
        "Period price",
        "SEK\xa01,698.00",
    )
    # Without references (the back office's one-line text) as stored.
    assert change_fields(reminder)[1] == ("Period price", "1698.00")


NL_PRICE = "€\xa01.698,00"
FI_PRICE = "1\xa0698,00\xa0€"


@pytest.mark.parametrize(
    "language,expected",
    [
        ("en", ["Anna Admin <anna@example.com>", "bo@example.com", "Deleted user 7"]),
        ("nl", ["Anna Admin <anna@example.com>", "bo@example.com", "Verwijderde gebruiker 7"]),
        ("fi", ["Anna Admin <anna@example.com>", "bo@example.com", "Poistettu käyttäjä 7"]),
    ],
)
def test_the_contact_user_is_named(language: str, expected: list[str]) -> None:
    references = StoredReferences(
        users={4: ("Anna Admin", "anna@example.com"), 5: ("", "bo@example.com")}
    )
    with translation.override(language):
        assert [
            text
            for user_id in (4, 5, 7)
            for _label, text in change_fields({"contact_user_id": user_id}, references=references)
        ] == expected
    assert change_fields({"contact_user_id": 4}) == [("Contact user", "4")]


PRO_RATA = "User licences, Pro × 3, 2027-01-15–2027-06-30 (167/181 days)"
STORAGE = "File storage, 50 GB pack × 1200, 2027-01-15–2027-06-30 (167/181 days)"
ADD_ON = "Add-on, Single sign-on × 1, 2027-01-15–2027-06-30 (167/181 days)"
FIRST_PERIOD = "User licences, Pro × 10 × 6 months"
ONE_MONTH = "User licences, Pro × 1 × 1 month"
NAMES = StoredReferences(
    features={"Single sign-on": "Kertakirjautuminen"}, packs={"50 GB pack": "50 Gt:n paketti"}
)


@pytest.mark.parametrize(
    "language,expected",
    [
        (
            "en",
            [
                "User licences, Pro × 3, 15 Jan 2027 – 30 Jun 2027 (167 of 181 days)",
                "File storage, 50 GB pack × 1,200, 15 Jan 2027 – 30 Jun 2027 (167 of 181 days)",
                "Add-on, Single sign-on × 1, 15 Jan 2027 – 30 Jun 2027 (167 of 181 days)",
                "User licences, Pro × 10 × 6 months",
                "User licences, Pro × 1 × 1 month",
            ],
        ),
        (
            "nl",
            [
                "Gebruikerslicenties, Pro × 3, 15 jan 2027 – 30 jun 2027 (167 van 181 dagen)",
                "Bestandsopslag, 50 GB pack × 1.200, 15 jan 2027 – 30 jun 2027 (167 van 181 dagen)",
                "Uitbreiding, Single sign-on × 1, 15 jan 2027 – 30 jun 2027 (167 van 181 dagen)",
                "Gebruikerslicenties, Pro × 10 × 6 maanden",
                "Gebruikerslicenties, Pro × 1 × 1 maand",
            ],
        ),
        (
            "fi",
            [
                "Käyttäjälisenssit, Pro × 3, 15.1.2027 – 30.6.2027 (167/181 päivää)",
                "Tiedostotila, 50 Gt:n paketti × 1\xa0200, 15.1.2027 – 30.6.2027 (167/181 päivää)",
                "Lisäosa, Kertakirjautuminen × 1, 15.1.2027 – 30.6.2027 (167/181 päivää)",
                "Käyttäjälisenssit, Pro × 10 × 6 kuukautta",
                "Käyttäjälisenssit, Pro × 1 × 1 kuukausi",
            ],
        ),
    ],
)
def test_order_lines_are_in_the_readers_language(language: str, expected: list[str]) -> None:
    # The catalogue's names are the reader's where the references have them (Finnish here).
    references = NAMES if language == "fi" else StoredReferences()
    with translation.override(language):
        assert [order_line_text(line, references) for line in LINES] == expected
        assert change_fields({"lines": LINES[:2]}, references=references) == [
            (str(FIELD_LABELS["lines"]), "; ".join(expected[:2]))
        ]


LINES = [PRO_RATA, STORAGE, ADD_ON, FIRST_PERIOD, ONE_MONTH]


def test_an_order_line_in_another_form_is_as_stored() -> None:
    for stored in ("Setup fee", "User licences, Pro × 3, sometime", ""):
        with translation.override("fi"):
            assert order_line_text(stored) == stored


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", [("Type", "Direct"), ("Country", "Netherlands"), ("Invoice language", "Finnish")]),
        ("nl", [("Type", "Direct"), ("Land", "Nederland"), ("Factuurtaal", "Fins")]),
        (
            "fi",
            [("Tyyppi", "Suoraan"), ("Maa", "Alankomaat"), ("Laskun kieli", "suomi")],
        ),
    ],
)
def test_countries_languages_and_purchase_channels_are_named_in_the_readers_language(
    language: str, expected: list[tuple[str, str]]
) -> None:
    stored = {"country": "NL", "invoice_language": "fi", "type": "direct"}
    with translation.override(language):
        assert change_fields(stored) == expected


def test_a_marketplace_channel_and_an_unknown_code_are_shown_as_such() -> None:
    assert change_fields({"type": "marketplace", "country": "Q1", "language": "xx"}) == [
        ("Type", "Partner marketplace"),
        ("Language", "xx"),
        ("Country", "Q1"),
    ]
