"""Exact money: one quantiser, half-up, never a float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
UNIT = Decimal("0.0001")
ZERO = Decimal("0.00")


def quantize(amount: Decimal) -> Decimal:
    """Round a document amount to the cent, half-up (Rule 12)."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, not {type(amount).__name__}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def quantize_unit(amount: Decimal) -> Decimal:
    """Unit prices keep four decimals."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, not {type(amount).__name__}")
    return amount.quantize(UNIT, rounding=ROUND_HALF_UP)


def pro_rata(
    *, quantity: int, monthly_price: Decimal, months: int, days: int, period_days: int
) -> Decimal:
    """Rule 3: quantity × monthly price × months × days ÷ period days, to the cent."""
    if period_days <= 0 or not 0 <= days <= period_days:
        raise ValueError("days must lie within the period")
    return quantize(Decimal(quantity) * monthly_price * months * days / period_days)


def format_amount(amount: Decimal) -> str:
    """The API's money string: two decimals, no grouping."""
    return f"{quantize(amount):.2f}"


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """``amount`` in ``currency`` as ``locale`` writes it (Babel), with a no-break space after
    a currency written as its code: "SEK 2,090.00", not "SEK2,090.00" (English has a symbol
    for the euro, "€2,090.00", but none for the krona)."""
    from babel.numbers import format_currency

    text = str(format_currency(amount, currency, locale=locale))
    return re.sub(rf"(?<![A-Z]){re.escape(currency)}(?=[-\d])", currency + "\xa0", text)
