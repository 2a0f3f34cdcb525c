"""Reads for the API, the portal's History and the back office: scoped, fixed queries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from abonnement.core.errors import NotFound
from abonnement.invoicing.models import Delivery
from abonnement.invoicing.selectors import (
    delivery_failures,
    get_invoice,
    invoice_pdf,
    invoice_ubl,
    invoice_views,
    order_confirmation_pdf,
)
from abonnement.invoicing.services import credit_invoice, issue_invoice_for_order, send_delivery
from abonnement.orders.models import Order
from abonnement.subscriptions.services import set_license_count
from tests.conftest import NOW, VENDOR, admin_of, make_organization
from tests.invoicing.conftest import dutch_customer, finnish_customer, requires_rules

pytestmark = pytest.mark.django_db


def issue_all(org: Any) -> None:
    for order in Order.objects.filter(organization=org).order_by("number"):
        issue_invoice_for_order(order_id=order.pk, now=NOW)


def test_invoice_views_for_the_api_and_portal(catalog: None) -> None:
    org = dutch_customer()
    issue_all(org)
    (view,) = invoice_views(organization_id=org.pk)
    assert (view.number, view.document_type, view.vat_treatment) == (1, "invoice", "reverse_charge")
    assert (view.net_total, view.vat_total, view.total, view.currency) == (
        Decimal("600.00"),
        Decimal("0.00"),
        Decimal("600.00"),
        "EUR",
    )
    assert view.order_number == 1
    assert view.delivery is not None
    assert (view.delivery.channel, view.delivery.status, view.delivery.to) == (
        "e_invoice",
        "pending",
        "",
    )


def test_listing_takes_a_fixed_number_of_queries(catalog: None) -> None:
    org = finnish_customer()
    admin = admin_of(org)
    issue_all(org)
    with CaptureQueriesContext(connection) as one:
        invoice_views(organization_id=org.pk)
    for count in (11, 12, 13):
        set_license_count(organization=org, licenses=count, actor=admin, now=NOW)
    issue_all(org)
    first = invoice_views(organization_id=org.pk)[-1]
    credit_invoice(invoice_id=first.id, reason="x", actor=VENDOR, now=NOW)
    with CaptureQueriesContext(connection) as five:
        views = invoice_views(organization_id=org.pk)
    assert len(views) == 5
    assert len(five) == len(one) == 2


def test_other_organisations_documents_are_not_found(catalog: None) -> None:
    org = finnish_customer()
    issue_all(org)
    invoice_id = invoice_views(organization_id=org.pk)[0].id
    other = make_organization(name="Muu Oy", admin_email="muu@muu.example")
    for call in (get_invoice, invoice_pdf, invoice_ubl):
        with pytest.raises(NotFound):
            call(organization_id=other.pk, invoice_id=invoice_id)
        with pytest.raises(NotFound):
            call(organization_id=org.pk, invoice_id="not-a-uuid")
    order = Order.objects.get(organization=org)
    with pytest.raises(NotFound):
        order_confirmation_pdf(organization_id=other.pk, order_id=order.pk)


@requires_rules
def test_files_to_serve(catalog: None) -> None:
    org = finnish_customer()
    issue_all(org)
    invoice_id = invoice_views(organization_id=org.pk)[0].id
    pdf = invoice_pdf(organization_id=org.pk, invoice_id=invoice_id)
    assert (pdf.filename, pdf.content_type, pdf.content[:5]) == (
        "invoice-1.pdf",
        "application/pdf",
        b"%PDF-",
    )
    ubl = invoice_ubl(organization_id=org.pk, invoice_id=invoice_id)
    assert (ubl.filename, ubl.content_type, ubl.valid) == ("invoice-1.xml", "application/xml", True)
    assert invoice_ubl(organization_id=org.pk, invoice_id=invoice_id).content == ubl.content
    order = Order.objects.get(organization=org)
    confirmation = order_confirmation_pdf(organization_id=org.pk, order_id=order.pk)
    assert confirmation.filename == "order-confirmation-1.pdf"


def test_delivery_failures_for_the_back_office(catalog: None) -> None:
    org = finnish_customer(einvoicing=False)
    issue_all(org)
    delivery = Delivery.objects.get(organization=org, invoice__isnull=False)

    def refuse(outgoing: object) -> str:
        raise ConnectionError("down")

    Delivery.objects.filter(pk=delivery.pk).update(attempts=7)
    send_delivery(delivery_id=delivery.pk, now=NOW, sender=refuse)
    assert [d.pk for d in delivery_failures()] == [delivery.pk]
    assert [d.pk for d in delivery_failures(organization_id=org.pk)] == [delivery.pk]
    (view,) = invoice_views(organization_id=org.pk)
    assert view.delivery is not None
    assert (view.delivery.status, view.delivery.error) == ("failed", "ConnectionError: down")


def test_a_resend_at_the_same_instant_is_the_latest_delivery(catalog: None) -> None:
    """Under a stopped (simulated) clock a resend has the automatic delivery's timestamp;
    the invoice still shows the resend as its latest delivery."""
    from abonnement.invoicing.services import resend_document

    org = finnish_customer(einvoicing=False)
    issue_all(org)
    (view,) = invoice_views(organization_id=org.pk)
    automatic = Delivery.objects.get(invoice_id=view.id, automatic=True)
    Delivery.objects.filter(pk=automatic.pk).update(status="sent", sent_at=NOW)
    resend = resend_document(organization=org, invoice_id=view.id, actor=admin_of(org), now=NOW)
    Delivery.objects.filter(pk=resend.pk).update(status="failed")
    (view,) = invoice_views(organization_id=org.pk)
    assert view.delivery is not None
    assert view.delivery.status == "failed"
    assert [d.status for d in view.deliveries] == ["failed", "sent"]
