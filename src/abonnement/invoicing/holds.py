"""Invoices held until the organisation has an invoice address.

An invoice names the buyer's postal address (VAT Directive art. 226(5); PRODUCT.md, Billing
details). An organisation provisioned over the API has only its country in its billing
details, so an order of an organisation without a complete invoice address gets its order
confirmation at once but no invoice: the order is *held*. Saving the billing details
(``update_billing_details``, from any channel) enqueues the issuing task for the held orders
after commit; the invoice is dated the day it is issued. The sweep that re-queues lost work
(``requeue_missing_work``) leaves held orders alone, so they do not go round every day.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef

from abonnement.billing.models import WITH_INVOICE_ADDRESS, BillingDetails
from abonnement.invoicing.models import DocumentType, Invoice
from abonnement.orders.models import Order


def has_invoice(order_field: str = "pk") -> Exists:
    """The order at ``order_field`` of the outer query has its invoice."""
    return Exists(
        Invoice.objects.filter(order_id=OuterRef(order_field), document_type=DocumentType.INVOICE)
    )


def has_invoice_address(organization_field: str = "organization_id") -> Exists:
    """The organisation at ``organization_field`` of the outer query has an invoice address."""
    return Exists(
        BillingDetails.objects.filter(
            WITH_INVOICE_ADDRESS, organization_id=OuterRef(organization_field)
        )
    )


def held_order_numbers(*, organization_id: Any) -> list[int]:
    """The numbers of the organisation's orders whose invoices wait for its invoice address,
    oldest first; empty once it has one (one query)."""
    return list(
        Order.objects.filter(organization_id=organization_id)
        .filter(~has_invoice(), ~has_invoice_address())
        .order_by("number")
        .values_list("number", flat=True)
    )
