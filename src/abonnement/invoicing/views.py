"""Settings › Subscription › History: the documents' files and sending them again.

The lists are in ``abonnement.history.views``. Everything is scoped to the signed-in user's
organisation: another organisation's document, or none, is a 404 (the selectors say so).
"""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from abonnement.accounts.models import Permission
from abonnement.accounts.portal import Portal, portal_page
from abonnement.core import clock
from abonnement.invoicing import selectors, services
from abonnement.invoicing.models import Delivery, DeliveryChannel, DocumentType

SUBSCRIPTION = Permission.MANAGE_SUBSCRIPTION


def _download(document: selectors.DocumentFile) -> HttpResponse:
    response = HttpResponse(document.content, content_type=document.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=document.filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _back(request: HttpRequest, show: str) -> HttpResponseRedirect:
    """To the list the form was on (its page, when the form said which)."""
    query = {"show": show}
    page = request.POST.get("page", "")
    if page.isdigit() and page != "1":
        query["page"] = page
    return HttpResponseRedirect(f"{reverse('portal:history')}?{urlencode(query)}")


@require_GET
@portal_page(SUBSCRIPTION)
def confirmation_pdf(request: HttpRequest, portal: Portal, order_id: UUID) -> HttpResponse:
    return _download(
        selectors.order_confirmation_pdf(organization_id=portal.organization.pk, order_id=order_id)
    )


@require_GET
@portal_page(SUBSCRIPTION)
def invoice_pdf(request: HttpRequest, portal: Portal, invoice_id: UUID) -> HttpResponse:
    return _download(
        selectors.invoice_pdf(organization_id=portal.organization.pk, invoice_id=invoice_id)
    )


@require_GET
@portal_page(SUBSCRIPTION)
def invoice_xml(request: HttpRequest, portal: Portal, invoice_id: UUID) -> HttpResponse:
    """The e-invoice (Peppol BIS Billing 3.0 UBL)."""
    return _download(
        selectors.invoice_ubl(organization_id=portal.organization.pk, invoice_id=invoice_id)
    )


@require_POST
@portal_page(SUBSCRIPTION)
def resend_confirmation(request: HttpRequest, portal: Portal, order_id: UUID) -> HttpResponse:
    delivery = services.resend_document(
        organization=portal.organization, order_id=order_id, actor=portal.actor, now=clock.now()
    )
    messages.success(request, _sent_again(portal, delivery))
    return _back(request, "orders")


@require_POST
@portal_page(SUBSCRIPTION)
def resend_invoice(request: HttpRequest, portal: Portal, invoice_id: UUID) -> HttpResponse:
    delivery = services.resend_document(
        organization=portal.organization,
        invoice_id=invoice_id,
        actor=portal.actor,
        now=clock.now(),
    )
    messages.success(request, _sent_again(portal, delivery))
    return _back(request, "invoices")


def _sent_again(portal: Portal, delivery: Delivery) -> str:
    """Which document goes again, how and to whom (the billing details as they are now)."""
    values = {
        "to": selectors.delivery_destination(
            organization_id=portal.organization.pk, channel=delivery.channel
        )
        or "—"
    }
    if delivery.invoice is not None:
        values["number"] = str(delivery.invoice.number)
        einvoice = delivery.channel == DeliveryChannel.EINVOICE
        if delivery.invoice.document_type == DocumentType.CREDIT_NOTE:
            text = (
                _("Credit note %(number)s is being sent again as an e-invoice to %(to)s.")
                if einvoice
                else _("Credit note %(number)s is being sent again by e-mail to %(to)s.")
            )
        else:
            text = (
                _("Invoice %(number)s is being sent again as an e-invoice to %(to)s.")
                if einvoice
                else _("Invoice %(number)s is being sent again by e-mail to %(to)s.")
            )
        return text % values
    assert delivery.confirmation is not None
    values["number"] = str(delivery.confirmation.order.number)
    return _("Order confirmation %(number)s is being sent again by e-mail to %(to)s.") % values
