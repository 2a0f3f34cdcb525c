"""Exact money (Rules 3 and 12): half-up quantising, the API string, day-exact pro rata.

The properties check ``pro_rata`` against an oracle in exact fractions with integer
half-up rounding, so a precision or rounding slip in the module shows up as a mismatch.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abonnement.core.money import CENT, UNIT, ZERO, format_amount, pro_rata, quantize, quantize_unit
from abonnement.core.periods import PERIOD_MONTHS

# --- quantize ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("0.0049999", "0.00"),
        ("0.015", "0.02"),
        ("0.025", "0.03"),  # half-up, not banker's rounding (which would give 0.02)
        ("1.015", "1.02"),  # the float 1.015 is 1.01499…; Decimal is exact
        ("2.675", "2.68"),
        ("12.345", "12.35"),
        ("99.995", "100.00"),
        ("7", "7.00"),
        ("7.1", "7.10"),
        ("1234.5", "1234.50"),
        ("1E+3", "1000.00"),
        ("-0.005", "-0.01"),  # ties go away from zero, symmetric for negatives
        ("-1.015", "-1.02"),
        ("-2.675", "-2.68"),
        ("-2.674", "-2.67"),
        ("-7", "-7.00"),
    ],
)
def test_quantize_rounds_half_up_to_the_cent(amount: str, expected: str) -> None:
    result = quantize(Decimal(amount))
    assert str(result) == expected
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize("amount", [1.0, 0.005, 1, 0, True, "1.00", None])
def test_quantize_rejects_anything_but_decimal(amount: object) -> None:
    with pytest.raises(TypeError, match="money must be Decimal"):
        quantize(amount)  # type: ignore[arg-type]


def test_quantize_names_the_rejected_type() -> None:
    with pytest.raises(TypeError, match="not float"):
        quantize(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not int"):
        quantize(2)  # type: ignore[arg-type]


def test_constants() -> None:
    assert Decimal("0.01") == CENT
    assert Decimal("0.0001") == UNIT
    assert str(ZERO) == "0.00"


# --- quantize_unit ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("12.5", "12.5000"),
        ("12.34565", "12.3457"),
        ("12.34564", "12.3456"),
        ("0.00005", "0.0001"),
        ("0.00004999", "0.0000"),
        ("3.33333333", "3.3333"),
        ("-0.00005", "-0.0001"),
        ("9.99995", "10.0000"),
    ],
)
def test_quantize_unit_keeps_four_decimals_half_up(amount: str, expected: str) -> None:
    result = quantize_unit(Decimal(amount))
    assert str(result) == expected
    assert result.as_tuple().exponent == -4


@pytest.mark.parametrize("amount", [12.5, 12, "12.5"])
def test_quantize_unit_rejects_anything_but_decimal(amount: object) -> None:
    with pytest.raises(TypeError, match="money must be Decimal"):
        quantize_unit(amount)  # type: ignore[arg-type]


# --- format_amount ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1234.5", "1234.50"),
        ("1234.50", "1234.50"),
        ("1234567.891", "1234567.89"),  # no grouping separators
        ("0", "0.00"),
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("12.3456", "12.35"),
        ("-3.5", "-3.50"),
        ("1E+3", "1000.00"),  # never exponent notation
        ("1E+7", "10000000.00"),
    ],
)
def test_format_amount(amount: str, expected: str) -> None:
    assert format_amount(Decimal(amount)) == expected


def test_format_amount_rejects_float() -> None:
    with pytest.raises(TypeError, match="money must be Decimal"):
        format_amount(1234.5)  # type: ignore[arg-type]


# --- pro_rata: exact worked examples ------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "monthly_price", "months", "days", "period_days", "expected"),
    [
        # 3 * 12.50 * 6 * 45 / 181 = 10125 / 181 = 55.939226519…
        (3, "12.50", 6, 45, 181, "55.94"),
        # 5 * 7.99 * 12 * 100 / 366 = 47940 / 366 = 130.983606557…
        (5, "7.99", 12, 100, 366, "130.98"),
        # 2 * 3.3333 * 3 * 10 / 92 = 199.998 / 92 = 2.173891304…
        (2, "3.3333", 3, 10, 92, "2.17"),
        # 7 * 19.90 * 6 * 1 / 184 = 835.8 / 184 = 4.542391304…
        (7, "19.90", 6, 1, 184, "4.54"),
        # 1 * 10.00 * 1 * 1 / 31 = 0.322580645…
        (1, "10.00", 1, 1, 31, "0.32"),
        # exact ties round up: 12.25 * 15 / 30 = 6.125, 0.01 * 15 / 30 = 0.005
        (1, "12.25", 1, 15, 30, "6.13"),
        (1, "0.01", 1, 15, 30, "0.01"),
        # just under a tie: 0.0099 * 15 / 30 = 0.00495
        (1, "0.0099", 1, 15, 30, "0.00"),
        # a leap-year February, a day from its end: 4 * 25 * 1 * 2 / 29 = 6.896551724…
        (4, "25", 1, 2, 29, "6.90"),
        # no quantity, no amount
        (0, "12.50", 1, 10, 31, "0.00"),
    ],
)
def test_pro_rata_worked_examples(
    quantity: int, monthly_price: str, months: int, days: int, period_days: int, expected: str
) -> None:
    result = pro_rata(
        quantity=quantity,
        monthly_price=Decimal(monthly_price),
        months=months,
        days=days,
        period_days=period_days,
    )
    assert str(result) == expected


@pytest.mark.parametrize(
    ("quantity", "monthly_price", "months", "period_days", "expected"),
    [
        (10, "9.99", 1, 31, "99.90"),
        (10, "9.99", 1, 28, "99.90"),
        (3, "12.50", 6, 181, "225.00"),
        (1, "3.3333", 3, 92, "10.00"),  # 9.9999 rounds to the cent like any line
        (7, "0.0050", 1, 30, "0.04"),  # 0.035 rounds half-up
        (25, "120.00", 12, 366, "36000.00"),
    ],
)
def test_pro_rata_over_the_whole_period_is_the_full_price(
    quantity: int, monthly_price: str, months: int, period_days: int, expected: str
) -> None:
    result = pro_rata(
        quantity=quantity,
        monthly_price=Decimal(monthly_price),
        months=months,
        days=period_days,
        period_days=period_days,
    )
    assert str(result) == expected
    assert result == quantize(Decimal(quantity) * Decimal(monthly_price) * months)


def test_pro_rata_for_no_days_is_zero_to_the_cent() -> None:
    result = pro_rata(quantity=3, monthly_price=Decimal("12.50"), months=6, days=0, period_days=181)
    assert str(result) == "0.00"


@pytest.mark.parametrize(
    ("days", "period_days"),
    [(-1, 31), (32, 31), (1, 0), (0, 0), (0, -1), (-5, -1), (367, 366)],
)
def test_pro_rata_rejects_days_outside_the_period(days: int, period_days: int) -> None:
    with pytest.raises(ValueError, match="days must lie within the period"):
        pro_rata(
            quantity=1,
            monthly_price=Decimal("10.00"),
            months=1,
            days=days,
            period_days=period_days,
        )


def test_pro_rata_rejects_a_float_price() -> None:
    with pytest.raises(TypeError):
        pro_rata(
            quantity=1,
            monthly_price=12.5,  # type: ignore[arg-type]
            months=1,
            days=10,
            period_days=31,
        )


# --- pro_rata: properties -----------------------------------------------------------------


def oracle_pro_rata(
    quantity: int, monthly_price: Decimal, months: int, days: int, period_days: int
) -> Decimal:
    """Exact fraction, then half-up to the cent in integers (all inputs are non-negative)."""
    cents = Fraction(quantity) * Fraction(monthly_price) * months * days * 100 / period_days
    rounded = (cents.numerator * 2 + cents.denominator) // (cents.denominator * 2)
    return Decimal(rounded).scaleb(-2).quantize(CENT)


quantities = st.integers(min_value=0, max_value=10_000)
monthly_prices = st.decimals(
    min_value=Decimal("0"), max_value=Decimal("100000"), places=4, allow_nan=False
)
period_lengths = st.sampled_from(PERIOD_MONTHS)
period_day_counts = st.integers(min_value=28, max_value=366)


@st.composite
def day_pairs(draw: st.DrawFn) -> tuple[int, int, int]:
    period_days = draw(period_day_counts)
    first = draw(st.integers(min_value=0, max_value=period_days))
    second = draw(st.integers(min_value=0, max_value=period_days))
    return min(first, second), max(first, second), period_days


@settings(max_examples=500, deadline=None)
@given(
    quantity=quantities,
    monthly_price=monthly_prices,
    months=period_lengths,
    pair=day_pairs(),
)
def test_pro_rata_is_exact_bounded_and_monotonic(
    quantity: int, monthly_price: Decimal, months: int, pair: tuple[int, int, int]
) -> None:
    fewer_days, more_days, period_days = pair
    full = quantize(Decimal(quantity) * monthly_price * months)

    fewer = pro_rata(
        quantity=quantity,
        monthly_price=monthly_price,
        months=months,
        days=fewer_days,
        period_days=period_days,
    )
    more = pro_rata(
        quantity=quantity,
        monthly_price=monthly_price,
        months=months,
        days=more_days,
        period_days=period_days,
    )

    assert fewer == oracle_pro_rata(quantity, monthly_price, months, fewer_days, period_days)
    assert more == oracle_pro_rata(quantity, monthly_price, months, more_days, period_days)
    assert fewer.as_tuple().exponent == -2
    assert ZERO <= fewer <= more <= full


@settings(max_examples=300, deadline=None)
@given(
    quantity=quantities,
    monthly_price=monthly_prices,
    months=period_lengths,
    pair=day_pairs(),
)
def test_pro_rata_of_complementary_days_adds_up_to_the_full_price_within_a_cent(
    quantity: int, monthly_price: Decimal, months: int, pair: tuple[int, int, int]
) -> None:
    days, _, period_days = pair
    full = quantize(Decimal(quantity) * monthly_price * months)
    before = pro_rata(
        quantity=quantity,
        monthly_price=monthly_price,
        months=months,
        days=days,
        period_days=period_days,
    )
    after = pro_rata(
        quantity=quantity,
        monthly_price=monthly_price,
        months=months,
        days=period_days - days,
        period_days=period_days,
    )
    # each side rounds by at most half a cent, and so does the full price
    assert abs(before + after - full) <= CENT


@settings(max_examples=200, deadline=None)
@given(amount=st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False))
def test_quantize_is_within_half_a_cent_and_idempotent(amount: Decimal) -> None:
    result = quantize(amount)
    assert abs(result - amount) <= Decimal("0.005")
    assert quantize(result) == result
    assert format_amount(amount) == f"{result:.2f}"


@pytest.mark.parametrize(
    ("locale", "currency", "amount", "text"),
    [
        ("en_IE", "EUR", "2090", "€2,090.00"),
        ("en_IE", "SEK", "2090", "SEK\xa02,090.00"),
        ("en_IE", "SEK", "-119", "-SEK\xa0119.00"),
        ("fi_FI", "SEK", "2090", "2\xa0090,00\xa0SEK"),
        ("nl_NL", "EUR", "2090", "€\xa02.090,00"),
        ("nl_NL", "SEK", "2090", "SEK\xa02.090,00"),
    ],
)
def test_a_currency_written_as_its_code_is_spaced_from_the_amount(
    locale: str, currency: str, amount: str, text: str
) -> None:
    from abonnement.core.money import format_money

    assert format_money(Decimal(amount), currency, locale) == text
