"""Properties over random orders (Rule 12) and random licence purchases (Rule 3)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abonnement.core.money import quantize
from abonnement.core.periods import Period
from abonnement.invoicing.documents import Snapshot
from abonnement.invoicing.models import Invoice
from abonnement.invoicing.services import issue_invoice_for_order, issue_invoices_for_orders
from abonnement.orders.models import Order
from abonnement.orders.services import LineSpec, place_order
from abonnement.subscriptions.models import Subscription
from abonnement.subscriptions.services import set_license_count
from tests.conftest import NOW, VENDOR, admin_of, make_organization

pytestmark = pytest.mark.django_db

_unique = itertools.count()

line_strategy = st.tuples(
    st.integers(min_value=1, max_value=5000),  # quantity
    st.decimals(min_value=0, max_value=5000, places=4, allow_nan=False),  # unit price
    st.one_of(st.none(), st.integers(min_value=1, max_value=181)),  # pro rata days
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(line_strategy, min_size=1, max_size=6),
    country=st.sampled_from(["FI", "NL", "NO"]),
)
def test_invoice_totals_are_rounded_lines_plus_vat_per_category(
    catalog: None, lines: list[tuple[int, Decimal, int | None]], country: str
) -> None:
    vat = {"FI": "FI23327487", "NL": "NL004495445B01", "NO": "NO987654325MVA"}[country]
    org = make_organization(
        name="Random Oy",
        vat_number=vat,
        country=country,
        admin_email=f"admin{next(_unique)}@random.example",
        invoice_address=True,
    )
    subscription = Subscription.objects.get(organization=org)
    period = subscription.current_period
    specs = []
    for quantity, price, days in lines:
        if days is None:
            amount = quantize(quantity * 6 * price)
            specs.append(
                LineSpec("license:pro", "Licences", Decimal(quantity * 6), price, amount, period)
            )
        else:
            amount = quantize(Decimal(quantity) * price * 6 * days / period.days)
            start = period.end - timedelta(days=days - 1)
            specs.append(
                LineSpec(
                    "license:pro", "Licences", Decimal(quantity), price, amount,
                    Period(start, period.end), days, period.days,
                )
            )  # fmt: skip
    with transaction.atomic():
        order = place_order(
            subscription_id=subscription.pk,
            organization_id=org.pk,
            currency="EUR",
            kind="licenses",
            period=period,
            lines=specs,
            actor=VENDOR,
            now=NOW,
        )
    invoice = issue_invoice_for_order(order_id=order.pk, now=NOW).invoice
    snapshot = Snapshot.from_json(invoice.snapshot)
    rounded = [quantize(spec.amount) for spec in specs]
    assert [line.amount for line in snapshot.lines] == rounded
    assert invoice.net_total == sum(rounded, Decimal("0.00"))
    rate = {"FI": Decimal("25.5"), "NL": Decimal("0"), "NO": Decimal("0")}[country]
    assert invoice.vat_total == quantize(invoice.net_total * rate / 100)
    assert invoice.total == invoice.net_total + invoice.vat_total
    assert sum((v.tax for v in snapshot.vat), Decimal("0.00")) == invoice.vat_total
    for line in snapshot.lines:
        # PEPPOL-EN16931-R120 within its 0.02 slack, without the validator's cost.
        base = line.ubl_base_quantity or Decimal(1)
        assert abs(line.ubl_quantity * line.ubl_price / base - line.amount) <= Decimal("0.02")


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(purchase_days=st.lists(st.integers(min_value=0, max_value=180), min_size=1, max_size=8))
def test_pro_rata_invoices_over_a_period_never_exceed_the_full_period_price(
    catalog: None, purchase_days: list[int]
) -> None:
    org = make_organization(
        licenses=1, admin_email=f"pro{next(_unique)}@rata.example", invoice_address=True
    )
    admin = admin_of(org)
    start = date(2027, 1, 1)
    licenses = 1
    for offset in sorted(purchase_days):
        licenses += 1
        day = start + timedelta(days=offset)
        at = datetime.combine(day, time(9, 0), tzinfo=UTC)
        set_license_count(organization=org, licenses=licenses, actor=admin, now=at)
    bought = list(
        Order.objects.filter(organization=org, kind="licenses").values_list("pk", flat=True)
    )
    issue_invoices_for_orders(order_ids=bought, now=NOW)
    invoices = Invoice.objects.filter(order__kind="licenses", organization=org)
    assert invoices.count() == len(purchase_days)
    charged = sum((i.net_total for i in invoices), Decimal("0.00"))
    # Each bought licence at most pays the whole 6-month period at 20.00 a month.
    assert charged <= len(purchase_days) * 6 * Decimal("20.00")
    for invoice in invoices:
        (line,) = Snapshot.from_json(invoice.snapshot).lines
        assert line.ubl_unit == "DAY"
        assert quantize(line.ubl_quantity * line.ubl_price / line.ubl_base_quantity) == line.amount
