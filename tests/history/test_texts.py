"""Stored before/after values as the reader sees them (portal history, back office)."""

from __future__ import annotations

from django.utils import translation

from abonnement.history.texts import change_fields, change_text

EDITIONS = {"pro": "Pro", "enterprise": "Enterprise"}


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
    assert change_fields(stored, editions=EDITIONS) == [
        ("Edition", "Pro"),
        ("User licences", "1,200"),
        ("Period", "1 Jan 2027 – 30 Jun 2027"),
        ("Total", "€1,234.50"),
        ("Currency", "EUR"),
        ("Active", "No"),
        ("Copy recipients", "a@example.com, b@example.com"),
        ("Contact user", "—"),
    ]


def test_a_field_without_a_label_keeps_its_stored_name() -> None:
    assert change_fields({"frobnication": "x"}) == [("frobnication", "x")]
    assert change_fields(None) == [] and change_fields({}) == []
    assert change_fields("plain") == [("", "plain")]


def test_nested_values_and_one_line() -> None:
    stored = {
        "address": {"street": "Katu 1", "postal_code": "00100", "city": "Helsinki"},
        "enabled": True,
    }
    assert change_text(stored) == (
        "Invoice address: Street Katu 1, Postal code 00100, City Helsinki; Switched on: Yes"
    )


def test_in_finnish() -> None:
    with translation.override("fi"):
        assert change_fields({"licenses": 12, "total": "45.00", "currency": "EUR"}) == [
            ("Käyttäjälisenssit", "12"),
            ("Yhteensä", "45,00\xa0€"),
            ("Valuutta", "EUR"),
        ]
