"""VAT (Rule 11) and payment references: pure functions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iso11649

from abonnement.core.money import quantize
from abonnement.invoicing.reference import (
    finnish_check_digit,
    finnish_reference,
    grouped,
    is_valid_finnish_reference,
    payment_reference,
    rf_reference,
)
from abonnement.invoicing.vat import (
    UnknownVatRate,
    VatTreatment,
    compute_totals,
    standard_rate,
    treatment_for,
)


class TestStandardRate:
    @pytest.mark.parametrize(
        ("day", "rate"),
        [
            (date(2024, 8, 31), Decimal("24")),
            (date(2024, 9, 1), Decimal("25.5")),
            (date(2027, 1, 15), Decimal("25.5")),
        ],
    )
    def test_finland_raised_its_rate_on_1_september_2024(self, day: date, rate: Decimal) -> None:
        assert standard_rate("FI", day) == rate

    def test_unknown_country_or_date_is_refused(self) -> None:
        with pytest.raises(UnknownVatRate):
            standard_rate("US", date(2027, 1, 1))
        with pytest.raises(UnknownVatRate):
            standard_rate("FI", date(2000, 1, 1))


class TestTreatmentFor:
    DAY = date(2027, 1, 15)

    def test_domestic_sale_carries_the_seller_rate(self) -> None:
        assert treatment_for(
            seller_country="FI", buyer_country="FI", buyer_vat_number="FI23327487", on=self.DAY
        ) == VatTreatment("S", Decimal("25.5"))

    def test_eu_business_with_a_valid_vat_number_is_reverse_charged(self) -> None:
        treatment = treatment_for(
            seller_country="FI", buyer_country="NL", buyer_vat_number="NL004495445B01", on=self.DAY
        )
        assert treatment == VatTreatment("AE", Decimal("0.00"), "VATEX-EU-AE")
        assert treatment.reverse_charge

    @pytest.mark.parametrize("vat_number", ["", "NL004495446B01", "DE129273398"])
    def test_eu_buyer_without_a_valid_own_vat_number_pays_seller_vat(self, vat_number: str) -> None:
        assert treatment_for(
            seller_country="FI", buyer_country="NL", buyer_vat_number=vat_number, on=self.DAY
        ) == VatTreatment("S", Decimal("25.5"))

    def test_buyer_outside_the_eu_pays_no_vat(self) -> None:
        assert treatment_for(
            seller_country="FI", buyer_country="NO", buyer_vat_number="NO987654325MVA", on=self.DAY
        ) == VatTreatment("O", Decimal("0.00"), "VATEX-EU-O")


class TestComputeTotals:
    def test_vat_is_computed_per_category_and_rounded_half_up(self) -> None:
        standard = VatTreatment("S", Decimal("25.5"))
        totals = compute_totals(
            [(Decimal("0.10"), standard), (Decimal("0.10"), standard), (Decimal("1.00"), standard)]
        )
        # 1.20 × 25.5 % = 0.306 → 0.31 (three lines rounded one by one would give 0.33).
        assert (totals.net, totals.vat, totals.total) == (
            Decimal("1.20"),
            Decimal("0.31"),
            Decimal("1.51"),
        )

    def test_unrounded_lines_are_refused(self) -> None:
        with pytest.raises(ValueError, match="rounded"):
            compute_totals([(Decimal("0.105"), VatTreatment("S", Decimal("24")))])

    @given(
        st.lists(
            st.tuples(
                st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False),
                st.sampled_from(
                    [
                        VatTreatment("S", Decimal("25.5")),
                        VatTreatment("S", Decimal("24")),
                        VatTreatment("AE", Decimal("0"), "VATEX-EU-AE"),
                        VatTreatment("O", Decimal("0"), "VATEX-EU-O"),
                    ]
                ),
            ),
            min_size=1,
            max_size=30,
        )
    )
    def test_totals_are_sums_of_rounded_lines_and_vat_per_category(
        self, lines: list[tuple[Decimal, VatTreatment]]
    ) -> None:
        totals = compute_totals(lines)
        assert totals.net == sum((amount for amount, _ in lines), Decimal("0.00"))
        expected: dict[tuple[str, Decimal], Decimal] = {}
        for amount, treatment in lines:
            key = (treatment.category, treatment.rate)
            expected[key] = expected.get(key, Decimal("0")) + amount
        assert {(s.category, s.rate): s.taxable for s in totals.subtotals} == expected
        for subtotal in totals.subtotals:
            assert subtotal.tax == quantize(subtotal.taxable * subtotal.rate / 100)
        assert totals.vat == sum((s.tax for s in totals.subtotals), Decimal("0.00"))
        assert totals.total == totals.net + totals.vat
        assert all(isinstance(v, Decimal) for v in (totals.net, totals.vat, totals.total))


class TestPaymentReference:
    @pytest.mark.parametrize(
        ("base", "check"), [("123", "2"), ("1234567", "2"), ("101", "2"), ("1000", "3")]
    )
    def test_finnish_7_3_1_check_digit(self, base: str, check: str) -> None:
        assert finnish_check_digit(base) == check

    def test_finnish_reference_of_an_invoice_number(self) -> None:
        assert finnish_reference(1) == "1012"
        assert finnish_reference(12345) == "10123456"
        assert is_valid_finnish_reference("1012")
        assert not is_valid_finnish_reference("1013")

    def test_rf_reference_wraps_the_finnish_one(self) -> None:
        reference = rf_reference(12345)
        assert reference == "RF8210123456"
        assert iso11649.is_valid(reference)

    def test_finnish_buyers_get_the_national_reference(self) -> None:
        assert payment_reference(7, buyer_country="FI") == "1070"
        assert payment_reference(7, buyer_country="NL").startswith("RF")

    def test_grouping_for_people(self) -> None:
        assert grouped("10123456") == "101 23456"
        assert grouped("RF8210123456") == "RF82 1012 3456"

    @given(st.integers(min_value=1, max_value=10**15))
    def test_every_reference_is_valid(self, number: int) -> None:
        assert is_valid_finnish_reference(finnish_reference(number))
        assert iso11649.is_valid(rf_reference(number))
