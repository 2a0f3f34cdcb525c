"""The e-invoice's payment means follow the invoice currency: SEPA only for euros."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from abonnement.invoicing.documents import Snapshot
from abonnement.invoicing.services import issue_invoice_for_order
from abonnement.invoicing.ubl import CBC, render_ubl
from abonnement.orders.models import Order
from tests.conftest import NOW, make_organization
from tests.invoicing.conftest import set_billing

pytestmark = pytest.mark.django_db


def payment_means_code(org: Any) -> tuple[str | None, str]:
    order = Order.objects.get(organization=org)
    invoice = issue_invoice_for_order(order_id=order.pk, now=NOW).invoice
    assert invoice is not None
    tree = etree.fromstring(render_ubl(Snapshot.from_json(invoice.snapshot)))
    [code] = tree.iter(f"{{{CBC}}}PaymentMeansCode")
    return code.get("name"), code.text or ""


def test_a_euro_invoice_is_paid_by_sepa_credit_transfer(catalog: None) -> None:
    org = make_organization()
    set_billing(org)
    assert payment_means_code(org) == ("SEPA credit transfer", "58")


def test_a_krona_invoice_is_paid_by_credit_transfer(catalog: None) -> None:
    org = make_organization(
        name="Fjällbyrån AB",
        vat_number="SE556677889901",
        country="SE",
        currency="SEK",
        admin_email="elsa@fjall.example",
    )
    set_billing(org)
    assert payment_means_code(org) == ("Credit transfer", "30")
