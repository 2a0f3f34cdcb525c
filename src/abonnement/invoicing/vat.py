"""VAT (PRODUCT.md Rule 11): which treatment a sale gets, at which rate, and the amounts.

- Domestic (buyer in the seller's country): the seller country's standard rate in force on
  the tax point, category ``S``.
- EU cross-border B2B with a valid buyer VAT number: reverse charge, category ``AE``, 0 %,
  exemption reason ``VATEX-EU-AE`` and the legal note.
- Buyer outside the EU: not subject to the seller's VAT, category ``O``.
- An EU buyer without a valid VAT number is charged like a domestic sale.

Amounts: lines are already rounded to the cent; the VAT of each category and rate is
computed once on the sum of its lines and rounded half-up (EN 16931 BR-CO-17), and the
totals are sums of those rounded figures, so every BR-CO rule holds to the cent.

The rate table is kept here, offline, with effective dates; add a row when a rate changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from stdnum.eu import vat as stdnum_eu_vat

from abonnement.billing.validators import EU_COUNTRIES
from abonnement.core.money import ZERO, quantize

STANDARD = "S"
REVERSE_CHARGE = "AE"
OUTSIDE_SCOPE = "O"

# Standard rates with the day they took effect, newest last. Sources: each member state's
# tax administration; the European Commission's "VAT rates applied in the Member States".
STANDARD_RATES: Final[dict[str, tuple[tuple[date, Decimal], ...]]] = {
    "AT": ((date(2016, 1, 1), Decimal("20")),),
    "BE": ((date(1996, 1, 1), Decimal("21")),),
    "BG": ((date(2007, 1, 1), Decimal("20")),),
    "CY": ((date(2014, 1, 13), Decimal("19")),),
    "CZ": ((date(2013, 1, 1), Decimal("21")),),
    "DE": (
        (date(2007, 1, 1), Decimal("19")),
        (date(2020, 7, 1), Decimal("16")),
        (date(2021, 1, 1), Decimal("19")),
    ),
    "DK": ((date(1992, 1, 1), Decimal("25")),),
    "EE": (
        (date(2009, 7, 1), Decimal("20")),
        (date(2024, 1, 1), Decimal("22")),
        (date(2025, 7, 1), Decimal("24")),
    ),
    "ES": ((date(2012, 9, 1), Decimal("21")),),
    "FI": (
        (date(2013, 1, 1), Decimal("24")),
        (date(2024, 9, 1), Decimal("25.5")),
    ),
    "FR": ((date(2014, 1, 1), Decimal("20")),),
    "GR": ((date(2016, 6, 1), Decimal("24")),),
    "HR": ((date(2013, 1, 1), Decimal("25")),),
    "HU": ((date(2012, 1, 1), Decimal("27")),),
    "IE": (
        (date(2012, 1, 1), Decimal("23")),
        (date(2020, 9, 1), Decimal("21")),
        (date(2021, 3, 1), Decimal("23")),
    ),
    "IT": ((date(2013, 10, 1), Decimal("22")),),
    "LT": ((date(2009, 9, 1), Decimal("21")),),
    "LU": (
        (date(2015, 1, 1), Decimal("17")),
        (date(2023, 1, 1), Decimal("16")),
        (date(2024, 1, 1), Decimal("17")),
    ),
    "LV": ((date(2011, 1, 1), Decimal("21")),),
    "MT": ((date(2004, 1, 1), Decimal("18")),),
    "NL": ((date(2012, 10, 1), Decimal("21")),),
    "PL": ((date(2011, 1, 1), Decimal("23")),),
    "PT": ((date(2011, 1, 1), Decimal("23")),),
    "RO": (
        (date(2017, 1, 1), Decimal("19")),
        (date(2025, 8, 1), Decimal("21")),
    ),
    "SE": ((date(1990, 7, 1), Decimal("25")),),
    "SI": ((date(2013, 7, 1), Decimal("22")),),
    "SK": (
        (date(2011, 1, 1), Decimal("20")),
        (date(2025, 1, 1), Decimal("23")),
    ),
}

EXEMPTION_REVERSE_CHARGE: Final = "VATEX-EU-AE"
EXEMPTION_OUTSIDE_SCOPE: Final = "VATEX-EU-O"


class UnknownVatRate(LookupError):
    pass


def standard_rate(country: str, on: date) -> Decimal:
    """The standard rate of ``country`` in force on ``on`` (a percentage, e.g. 25.5)."""
    history = STANDARD_RATES.get(country.upper())
    if not history:
        raise UnknownVatRate(f"no VAT rate known for {country}")
    rate: Decimal | None = None
    for effective_from, value in history:
        if effective_from <= on:
            rate = value
    if rate is None:
        raise UnknownVatRate(f"no VAT rate known for {country} on {on.isoformat()}")
    return rate


@dataclass(frozen=True)
class VatTreatment:
    category: str
    rate: Decimal
    exemption_code: str = ""

    @property
    def reverse_charge(self) -> bool:
        return self.category == REVERSE_CHARGE


def valid_eu_vat_number(vat_number: str, country: str) -> bool:
    """A VAT number of an EU member state, of that state, with valid check digits."""
    compact = vat_number.replace(" ", "").upper()
    prefix = "EL" if country == "GR" else country
    return (
        country in EU_COUNTRIES
        and compact.startswith(prefix)
        and bool(stdnum_eu_vat.is_valid(compact))
    )


def treatment_for(
    *, seller_country: str, buyer_country: str, buyer_vat_number: str, on: date
) -> VatTreatment:
    """Rule 11 for one sale on ``on`` (the tax point: the document's issue date)."""
    seller_country = seller_country.upper()
    buyer_country = buyer_country.upper()
    if buyer_country == seller_country:
        return VatTreatment(STANDARD, standard_rate(seller_country, on))
    if buyer_country not in EU_COUNTRIES:
        return VatTreatment(OUTSIDE_SCOPE, ZERO, EXEMPTION_OUTSIDE_SCOPE)
    if seller_country in EU_COUNTRIES and valid_eu_vat_number(buyer_vat_number, buyer_country):
        return VatTreatment(REVERSE_CHARGE, ZERO, EXEMPTION_REVERSE_CHARGE)
    return VatTreatment(STANDARD, standard_rate(seller_country, on))


@dataclass(frozen=True)
class VatSubtotal:
    category: str
    rate: Decimal
    taxable: Decimal
    tax: Decimal
    exemption_code: str = ""


@dataclass(frozen=True)
class Totals:
    net: Decimal
    vat: Decimal
    total: Decimal
    subtotals: tuple[VatSubtotal, ...]


def compute_totals(lines: Iterable[tuple[Decimal, VatTreatment]]) -> Totals:
    """Totals of rounded ``(amount, treatment)`` lines: VAT per category and rate, half-up."""
    groups: dict[tuple[str, Decimal, str], Decimal] = {}
    net = ZERO
    for amount, treatment in lines:
        rounded = quantize(amount)
        if rounded != amount:
            raise ValueError("line amounts must already be rounded to the cent")
        net += rounded
        key = (treatment.category, treatment.rate, treatment.exemption_code)
        groups[key] = groups.get(key, ZERO) + rounded
    subtotals = tuple(
        VatSubtotal(
            category=category,
            rate=rate,
            taxable=taxable,
            tax=quantize(taxable * rate / 100),
            exemption_code=code,
        )
        for (category, rate, code), taxable in groups.items()
    )
    vat = sum((s.tax for s in subtotals), ZERO)
    return Totals(net=net, vat=vat, total=net + vat, subtotals=subtotals)
