"""Documents over the API (API.md "Orders, invoices, history"): order confirmations,
invoices and credit notes, their files, and sending them again.

Reading needs the scope ``read``, resending ``write``; the acting user of an organisation
token needs ``manage_subscription``. A document of another organisation, or none, is 404.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from abonnement.config.api_auth import organization_for
from abonnement.config.api_common import PageQuery, paginate
from abonnement.config.api_errors import responses
from abonnement.core.errors import NotFound
from abonnement.invoicing import selectors
from abonnement.invoicing.models import Invoice
from abonnement.invoicing.schemas import (
    DeliveryOut,
    InvoiceList,
    InvoiceOut,
    delivery_out,
    invoice_out,
)
from abonnement.invoicing.services import resend_document

router = Router(tags=["Invoices"])

MANAGE = "manage_subscription"


def _document(media_type: str, description: str) -> dict[str, Any]:
    return {
        "responses": {
            "200": {
                "description": description,
                "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    }


def _file(document: selectors.DocumentFile) -> HttpResponse:
    response = HttpResponse(document.content, content_type=document.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=document.filename
    )
    return response


def _present(invoice: Invoice) -> dict[str, Any]:
    return invoice_out(selectors.invoice_view(invoice))


# --------------------------------------------------------------------------- orders


@router.get(
    "/organizations/{org}/orders/{id}/confirmation.pdf",
    response=responses({}),
    summary="Download the order confirmation",
    tags=["Orders"],
    openapi_extra=_document("application/pdf", "The order confirmation (PDF)"),
)
def get_order_confirmation(request: HttpRequest, org: str, id: str) -> Any:
    """404 while the order's documents are still being issued (moments after the order)."""
    _caller, organization = organization_for(request, org, permission=MANAGE)
    return _file(selectors.order_confirmation_pdf(organization_id=organization.pk, order_id=id))


@router.post(
    "/organizations/{org}/orders/{id}/resend",
    response=responses({202: DeliveryOut}, write=True),
    summary="Send the order confirmation again",
    tags=["Orders"],
)
def resend_order_confirmation(request: HttpRequest, org: str, id: str) -> Any:
    """By e-mail to the billing contact and the copy recipients; the answer is the new
    delivery, sent in the background."""
    caller, organization = organization_for(request, org, permission=MANAGE)
    delivery = resend_document(
        organization=organization, order_id=id, actor=caller.actor, now=caller.now
    )
    return Status(202, delivery_out(delivery))


# --------------------------------------------------------------------------- invoices


@router.get(
    "/organizations/{org}/invoices", response=responses({200: InvoiceList}), summary="List invoices"
)
def list_invoices(request: HttpRequest, org: str, page: Query[PageQuery]) -> Any:
    """Invoices and credit notes, newest first."""
    _caller, organization = organization_for(request, org, permission=MANAGE)
    return paginate(
        selectors.invoices_for(organization_id=organization.pk),
        fields=("issue_date", "number"),
        limit=page.limit,
        cursor=page.cursor,
        present=_present,
    )


# The documents come first: "{id}" alone would also match "….pdf".
@router.get(
    "/organizations/{org}/invoices/{id}.pdf",
    response=responses({}),
    summary="Download an invoice (PDF)",
    openapi_extra=_document("application/pdf", "The invoice or credit note (PDF)"),
)
def get_invoice_pdf(request: HttpRequest, org: str, id: str) -> Any:
    _caller, organization = organization_for(request, org, permission=MANAGE)
    return _file(selectors.invoice_pdf(organization_id=organization.pk, invoice_id=id))


@router.get(
    "/organizations/{org}/invoices/{id}",
    response=responses({200: InvoiceOut}),
    summary="Read an invoice",
)
def get_invoice(request: HttpRequest, org: str, id: str) -> Any:
    _caller, organization = organization_for(request, org, permission=MANAGE)
    return _present(selectors.get_invoice(organization_id=organization.pk, invoice_id=id))


@router.get(
    "/organizations/{org}/invoices/{id}/ubl.xml",
    response=responses({}),
    summary="Download an e-invoice (Peppol BIS Billing 3.0 UBL)",
    openapi_extra=_document("application/xml", "The UBL 2.1 Invoice or CreditNote"),
)
def get_invoice_ubl(request: HttpRequest, org: str, id: str) -> Any:
    _caller, organization = organization_for(request, org, permission=MANAGE)
    return _file(selectors.invoice_ubl(organization_id=organization.pk, invoice_id=id))


@router.get(
    "/organizations/{org}/invoices/{id}/finvoice.xml",
    response=responses({}),
    summary="Download an e-invoice (Finvoice 3.0; not offered yet)",
    openapi_extra=_document("application/xml", "The Finvoice 3.0 document"),
)
def get_invoice_finvoice(request: HttpRequest, org: str, id: str) -> Any:
    """Always 404: Finvoice is a later format option; use ``…/ubl.xml``."""
    _caller, organization = organization_for(request, org, permission=MANAGE)
    selectors.get_invoice(organization_id=organization.pk, invoice_id=id)
    raise NotFound(
        _("The Finvoice format is not offered; the e-invoice is available as UBL (…/ubl.xml).")
    )


@router.post(
    "/organizations/{org}/invoices/{id}/resend",
    response=responses({202: DeliveryOut}, write=True),
    summary="Deliver an invoice again",
)
def resend_invoice(request: HttpRequest, org: str, id: str) -> Any:
    """The way the billing details say now (e-mail, or e-invoice with e-invoicing on); the
    answer is the new delivery, sent in the background."""
    caller, organization = organization_for(request, org, permission=MANAGE)
    delivery = resend_document(
        organization=organization, invoice_id=id, actor=caller.actor, now=caller.now
    )
    return Status(202, delivery_out(delivery))
