"""Reads of documents, always scoped to one organisation (missing and not-yours are the
same 404), in a fixed number of queries however many documents there are.

For the API (API.md "Orders, invoices, history"), the portal's History and the back office:
``invoices_for`` / ``invoice_views`` / ``invoice_page`` list, ``get_invoice`` reads one,
``invoice_pdf`` / ``invoice_ubl`` / ``order_confirmation_pdf`` return the file to serve,
``deliveries_of`` and ``delivery_failures`` show where documents went and what failed, and
``delivery_destination`` says where a delivery goes now. ``invoices_by_id`` reads the
invoices that webhook events name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from abonnement.core import clock
from abonnement.core.errors import NotFound
from abonnement.invoicing.documents import Line, Snapshot
from abonnement.invoicing.models import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    DocumentFormat,
    DocumentType,
    Invoice,
    OrderConfirmation,
)
from abonnement.invoicing.vat import OUTSIDE_SCOPE, REVERSE_CHARGE

VAT_TREATMENTS = {REVERSE_CHARGE: "reverse_charge", OUTSIDE_SCOPE: "outside_eu"}
API_CHANNELS = {DeliveryChannel.EMAIL: "email", DeliveryChannel.EINVOICE: "e_invoice"}
API_STATUSES = {
    DeliveryStatus.PENDING: "pending",
    DeliveryStatus.SENDING: "pending",
    DeliveryStatus.SENT: "sent",
    DeliveryStatus.FAILED: "failed",
}


def _uuid(value: object) -> UUID | None:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


# Newest first; at the same instant (a stopped simulated clock) a resend is newer than the
# automatic delivery it repeats.
NEWEST_DELIVERY_FIRST = ("-created_at", "automatic")


def _deliveries() -> Prefetch[Any]:
    return Prefetch("deliveries", queryset=Delivery.objects.order_by(*NEWEST_DELIVERY_FIRST))


def invoices_for(*, organization_id: UUID) -> QuerySet[Invoice]:
    """Invoices and credit notes, newest first, with their deliveries (two queries)."""
    return (
        Invoice.objects.filter(organization_id=organization_id)
        .select_related("order", "credited_invoice")
        .prefetch_related(_deliveries())
        .order_by("-issue_date", "-number")
    )


def invoices_by_id(invoice_ids: Iterable[object]) -> dict[str, Invoice]:
    """The named invoices with their deliveries, whatever their organisation (for the
    webhooks, whose events name them): three queries however many."""
    keys = [pk for pk in map(_uuid, invoice_ids) if pk is not None]
    if not keys:
        return {}
    return {
        str(invoice.pk): invoice
        for invoice in Invoice.objects.filter(pk__in=keys)
        .select_related("order", "credited_invoice")
        .prefetch_related(_deliveries())
    }


def get_invoice(*, organization_id: UUID, invoice_id: object) -> Invoice:
    pk = _uuid(invoice_id)
    try:
        if pk is None:
            raise Invoice.DoesNotExist
        return invoices_for(organization_id=organization_id).get(pk=pk)
    except (Invoice.DoesNotExist, ValidationError):
        raise NotFound(_("Invoice not found.")) from None


def get_confirmation(*, organization_id: UUID, order_id: object) -> OrderConfirmation:
    pk = _uuid(order_id)
    try:
        if pk is None:
            raise OrderConfirmation.DoesNotExist
        return (
            OrderConfirmation.objects.select_related("order")
            .prefetch_related(_deliveries())
            .get(order_id=pk, organization_id=organization_id)
        )
    except (OrderConfirmation.DoesNotExist, ValidationError):
        raise NotFound(_("Order confirmation not found.")) from None


def confirmations_for(
    *, organization_id: UUID, order_ids: Iterable[object] | None = None
) -> dict[str, OrderConfirmation]:
    """The confirmations of an organisation's orders by order id (for the orders list),
    with their deliveries; ``order_ids`` limits them to those orders (one page of a list).
    Two queries however many (none for an empty ``order_ids``)."""
    confirmations = OrderConfirmation.objects.filter(organization_id=organization_id)
    if order_ids is not None:
        keys = [pk for pk in map(_uuid, order_ids) if pk is not None]
        if not keys:
            return {}
        confirmations = confirmations.filter(order_id__in=keys)
    return {str(c.order_id): c for c in confirmations.prefetch_related(_deliveries())}


@dataclass(frozen=True)
class DocumentFile:
    filename: str
    content_type: str
    content: bytes
    valid: bool | None = None
    findings: tuple[dict[str, str], ...] = ()


def _file(subject: Invoice | OrderConfirmation, fmt: str) -> DocumentFile:
    from abonnement.invoicing.services import stored_file

    stored = stored_file(subject, fmt, now=clock.now())
    return DocumentFile(
        stored.filename,
        stored.content_type,
        bytes(stored.content),
        stored.valid,
        tuple(stored.findings),
    )


def invoice_pdf(*, organization_id: UUID, invoice_id: object) -> DocumentFile:
    return _file(get_invoice(organization_id=organization_id, invoice_id=invoice_id), "pdf")


def invoice_ubl(*, organization_id: UUID, invoice_id: object) -> DocumentFile:
    """The Peppol BIS 3.0 UBL document; ``valid`` says whether it passed the rules."""
    invoice = get_invoice(organization_id=organization_id, invoice_id=invoice_id)
    return _file(invoice, DocumentFormat.UBL)


def order_confirmation_pdf(*, organization_id: UUID, order_id: object) -> DocumentFile:
    confirmation = get_confirmation(organization_id=organization_id, order_id=order_id)
    return _file(confirmation, DocumentFormat.PDF)


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class DeliveryView:
    id: str
    channel: str  # "email" | "e_invoice"
    to: str
    status: str  # "pending" | "sent" | "failed"
    sent_at: datetime | None
    attempts: int
    error: str
    rule_ids: tuple[str, ...]
    created_at: datetime
    automatic: bool


def delivery_view(delivery: Delivery) -> DeliveryView:
    return DeliveryView(
        id=str(delivery.pk),
        channel=API_CHANNELS.get(DeliveryChannel(delivery.channel), delivery.channel),
        to=delivery.destination,
        status=API_STATUSES.get(DeliveryStatus(delivery.status), delivery.status),
        sent_at=delivery.sent_at,
        attempts=delivery.attempts,
        error=delivery.last_error,
        rule_ids=tuple(delivery.findings or ()),
        created_at=delivery.created_at,
        automatic=delivery.automatic,
    )


@dataclass(frozen=True)
class InvoiceView:
    """An invoice or credit note as the API and the portal show it."""

    id: str
    number: int
    document_type: str  # "invoice" | "credit_note"
    issue_date: date
    due_date: date
    period_start: date
    period_end: date
    lines: tuple[Line, ...]
    net_total: Decimal
    vat_total: Decimal
    total: Decimal
    currency: str
    vat_treatment: str  # "domestic" | "reverse_charge" | "outside_eu"
    payment_reference: str
    order_id: str | None
    order_number: int | None
    credits_invoice_number: int | None
    delivery: DeliveryView | None  # the latest
    deliveries: tuple[DeliveryView, ...]


def invoice_view(invoice: Invoice) -> InvoiceView:
    snapshot = Snapshot.from_json(invoice.snapshot)
    deliveries = tuple(delivery_view(d) for d in invoice.deliveries.all())
    return InvoiceView(
        id=str(invoice.pk),
        number=invoice.number,
        document_type=invoice.document_type,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        lines=snapshot.lines,
        net_total=invoice.net_total,
        vat_total=invoice.vat_total,
        total=invoice.total,
        currency=invoice.currency,
        vat_treatment=VAT_TREATMENTS.get(invoice.vat_category, "domestic"),
        payment_reference=invoice.payment_reference,
        order_id=str(invoice.order_id) if invoice.order_id else None,
        order_number=invoice.order.number if invoice.order_id and invoice.order else None,
        credits_invoice_number=(
            invoice.credited_invoice.number if invoice.credited_invoice is not None else None
        ),
        delivery=deliveries[0] if deliveries else None,
        deliveries=deliveries,
    )


def invoice_views(*, organization_id: UUID) -> list[InvoiceView]:
    return [invoice_view(i) for i in invoices_for(organization_id=organization_id)]


def invoice_page(
    *, organization_id: UUID, page: int | str | None = 1, per_page: int = 20
) -> Page[InvoiceView]:
    """One page of invoices and credit notes, newest first, with their deliveries: three
    queries (count, the page, its deliveries) however many there are."""
    found = Paginator(invoices_for(organization_id=organization_id), per_page).get_page(page)
    # The same page (number, count, neighbours), its invoices as the portal shows them.
    paginator = cast("Paginator[InvoiceView]", found.paginator)
    return Page([invoice_view(i) for i in found.object_list], found.number, paginator)


def delivery_destination(*, organization_id: UUID, channel: str) -> str:
    """Where a delivery through ``channel`` goes by the billing details as they are now: the
    e-mail recipients (contact, or the administrators in its place, and the copies), or the
    e-invoice address with the operator code. For saying where a resent document goes."""
    from abonnement.billing.selectors import get_billing_details, mail_recipients

    if channel == DeliveryChannel.EINVOICE:
        details = get_billing_details(organization_id)
        if details.einvoice_operator:
            return f"{details.einvoice_address} ({details.einvoice_operator})"
        return details.einvoice_address
    return ", ".join(mail_recipients(organization_id=organization_id))


def deliveries_of(*, organization_id: UUID) -> QuerySet[Delivery]:
    """Every delivery of the organisation, newest first, with what it delivered."""
    return (
        Delivery.objects.filter(organization_id=organization_id)
        .select_related("invoice", "confirmation__order", "reminder")
        .order_by(*NEWEST_DELIVERY_FIRST)
    )


def delivery_failures(*, organization_id: UUID | None = None) -> QuerySet[Delivery]:
    """Failed deliveries (back office: all organisations; portal: one), newest first."""
    failures = Delivery.objects.filter(status=DeliveryStatus.FAILED)
    if organization_id is not None:
        failures = failures.filter(organization_id=organization_id)
    return failures.select_related(
        "organization", "invoice", "confirmation__order", "reminder"
    ).order_by("-updated_at")


def invoice_numbers_issued_since(*, organization_id: UUID, day: date) -> list[int]:
    """The numbers of the organisation's invoices (not credit notes) issued on or after
    ``day``, in order."""
    return list(
        Invoice.objects.filter(
            organization_id=organization_id,
            document_type=DocumentType.INVOICE,
            issue_date__gte=day,
        )
        .order_by("number")
        .values_list("number", flat=True)
    )
