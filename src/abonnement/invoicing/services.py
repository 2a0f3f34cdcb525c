"""Issuing documents and delivering them.

Contract:
- ``issue_invoice_for_order`` confirms an order and invoices it, exactly once whatever
  retries or parallel workers happen: it locks the order row, finds what exists, and the
  unique constraints (one confirmation per order, one invoice per order, one number per
  seller) make a duplicate impossible. The invoice number comes from the seller's gapless
  counter inside the same transaction, taken last so the counter's row lock is held only
  for a few inserts.
- An invoice names the buyer's postal address: an order of an organisation without an
  invoice address is confirmed but not invoiced (held, see ``holds``) until its billing
  details are saved, which enqueues the issuing again (``invoice_held_orders_on_commit``).
- An issued document never changes; ``credit_invoice`` reverses one with a credit note
  from the same number sequence.
- Deliveries are rows; the work happens in tasks enqueued after commit. ``send_delivery``
  claims a delivery with one conditional UPDATE (pending → sending), so two workers never
  send the same delivery; failures are retried with exponential backoff, and an e-invoice
  that fails the official rules is never sent: it is marked failed with the rule ids and
  the history says so.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils.module_loading import import_string

from abonnement.accounts import permissions
from abonnement.accounts.models import Permission, User
from abonnement.billing.models import BillingDetails
from abonnement.billing.selectors import mail_recipients
from abonnement.core import clock
from abonnement.core.actor import Actor
from abonnement.core.counters import take_numbers
from abonnement.core.events import Event, emit, emit_many
from abonnement.core.money import format_amount
from abonnement.history.models import HistoryEntry, HistoryKind
from abonnement.history.services import build_entry, record
from abonnement.invoicing import texts
from abonnement.invoicing.documents import (
    KIND_CONFIRMATION,
    KIND_INVOICE,
    Snapshot,
    build_snapshot,
    credit_note_snapshot,
    einvoice_endpoint,
    order_contexts,
    seller_party,
)
from abonnement.invoicing.errors import AlreadyCredited, DeliveryNotFailed, NotAnInvoice
from abonnement.invoicing.holds import has_invoice, has_invoice_address
from abonnement.invoicing.models import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    DocumentFormat,
    DocumentType,
    Invoice,
    OrderConfirmation,
    PeriodReminder,
    StoredDocument,
)
from abonnement.invoicing.pdf import pdf_filename, render_pdf
from abonnement.invoicing.reference import grouped, payment_reference
from abonnement.invoicing.ubl import render_ubl, ubl_filename
from abonnement.orders.models import Order
from abonnement.organizations.models import Organization

logger = logging.getLogger(__name__)

DOCUMENTS_ACTOR_NAME = "Documents"
# A worker that claimed a delivery and vanished (killed, machine lost) leaves it "sending";
# after this long another worker may take it over.
CLAIM_LEASE = timedelta(minutes=15)
# Documents and deliveries younger than this still have the task enqueued with them.
WORK_GRACE = timedelta(hours=1)


def system_actor() -> Actor:
    return Actor.system(DOCUMENTS_ACTOR_NAME)


def invoice_counter(seller_vat_number: str) -> str:
    """Invoices and credit notes share one gapless sequence per seller (Rule 10)."""
    return f"invoice:{seller_vat_number}"


def _enqueue_deliveries_on_commit(delivery_ids: list[UUID]) -> None:
    if not delivery_ids:
        return
    ids = [str(i) for i in delivery_ids]

    def enqueue() -> None:
        from abonnement.invoicing.tasks import enqueue_deliveries

        enqueue_deliveries(ids)

    transaction.on_commit(enqueue)


def _addressed(details: BillingDetails | None) -> bool:
    return details is not None and details.has_invoice_address


def _channel_for(details: BillingDetails | None) -> str:
    if details is not None and details.einvoice_enabled:
        return DeliveryChannel.EINVOICE
    return DeliveryChannel.EMAIL


# --------------------------------------------------------------------------- issuing


@dataclass(frozen=True)
class OrderDocuments:
    confirmation: OrderConfirmation
    invoice: Invoice | None  # None while the order is held for an invoice address
    created: bool  # this call issued the invoice


@transaction.atomic(durable=True)
def issue_invoice_for_order(*, order_id: UUID | str, now: datetime) -> OrderDocuments:
    """Confirm the order and issue its invoice; a second call returns what exists.

    The confirmation is dated the order's day, the invoice ``now``'s business day, due
    ``PAYMENT_TERMS_DAYS`` later. Both are delivered after commit: the confirmation by
    e-mail, the invoice by e-mail or, with e-invoicing on, through the operator adapter.
    Without an invoice address in the billing details the order is only confirmed and its
    invoice held (``invoice`` is None) until the billing details are saved.
    """
    created = _issue_locked([order_id], now=now)
    return OrderDocuments(
        confirmation=OrderConfirmation.objects.get(order_id=order_id),
        invoice=Invoice.objects.filter(
            order_id=order_id, document_type=DocumentType.INVOICE
        ).first(),
        created=created > 0,
    )


@transaction.atomic(durable=True)
def issue_invoices_for_orders(*, order_ids: Sequence[UUID | str], now: datetime) -> int:
    """The same for many orders at once (a rollover batch): a handful of queries and bulk
    inserts whatever their number. Returns how many invoices were issued now (a held
    order is confirmed but not counted)."""
    return _issue_locked(order_ids, now=now)


def invoice_held_orders_on_commit(*, organization_id: UUID | str) -> None:
    """After the caller's transaction commits, enqueue the issuing task for the
    organisation's orders that have no invoice (those held for its invoice address).

    Called when billing details are saved. The orders are looked up after the commit, so an
    order whose issuing task read the billing details just before they were saved is found
    too; the task locks each order and the unique constraints keep its invoice exactly
    once, whatever other task or sweep reaches the same order.
    """

    def enqueue() -> None:
        from abonnement.invoicing.tasks import enqueue_order_documents

        waiting = (
            Order.objects.filter(organization_id=organization_id)
            .filter(~has_invoice(), has_invoice_address())
            .order_by("number")
            .values_list("pk", flat=True)
        )
        enqueue_order_documents([str(pk) for pk in waiting])

    transaction.on_commit(enqueue)


def _issue_locked(order_ids: Sequence[UUID | str], *, now: datetime) -> int:
    # Lock the orders (in key order, so two batches never deadlock) before looking for
    # their documents: a second worker waits here and then finds them issued.
    orders = list(
        Order.objects.select_for_update(of=("self",))
        .select_related("organization")
        .filter(pk__in=list(order_ids))
        .order_by("pk")
    )
    if not orders:
        return 0
    keys = [order.pk for order in orders]
    confirmed = set(
        OrderConfirmation.objects.filter(order_id__in=keys).values_list("order_id", flat=True)
    )
    invoiced = set(
        Invoice.objects.filter(order_id__in=keys, document_type=DocumentType.INVOICE).values_list(
            "order_id", flat=True
        )
    )
    todo = [o for o in orders if o.pk not in confirmed or o.pk not in invoiced]
    if not todo:
        return 0

    issue_date = clock.business_date(now)
    contexts = order_contexts(todo, issue_date)
    confirmations: list[OrderConfirmation] = []
    deliveries: list[Delivery] = []
    for order in todo:
        if order.pk in confirmed:
            continue
        snapshot = build_snapshot(
            kind=KIND_CONFIRMATION,
            order=order,
            context=contexts[order.pk],
            number=str(order.number),
            issue_date=clock.business_date(order.created_at),
            due_date=None,
            payment_reference="",
        )
        confirmation = OrderConfirmation(
            order=order,
            organization_id=order.organization_id,
            snapshot=snapshot.to_json(),
            created_at=now,
        )
        confirmations.append(confirmation)
        deliveries.append(
            Delivery(
                organization_id=order.organization_id,
                confirmation=confirmation,
                channel=DeliveryChannel.EMAIL,
                created_at=now,
                updated_at=now,
            )
        )

    # No invoice without the buyer's postal address (VAT Directive art. 226(5)): such an
    # order is only confirmed, and held until the billing details name the address.
    to_invoice = sorted(
        (o for o in todo if o.pk not in invoiced and _addressed(contexts[o.pk].details)),
        key=lambda o: o.number,
    )
    seller, _, _ = seller_party()
    due_date = issue_date + timedelta(days=settings.PAYMENT_TERMS_DAYS)
    drafts = [
        build_snapshot(
            kind=KIND_INVOICE,
            order=order,
            context=contexts[order.pk],
            number="",
            issue_date=issue_date,
            due_date=due_date,
            payment_reference="",
        )
        for order in to_invoice
    ]
    invoices: list[Invoice] = []
    history: list[HistoryEntry] = []
    events: list[Event] = []
    actor = system_actor()
    # Everything is computed; the counter's row lock is taken last and held briefly.
    first = take_numbers(invoice_counter(seller.vat_number), len(to_invoice)) if drafts else 0
    for offset, (order, draft) in enumerate(zip(to_invoice, drafts, strict=True)):
        number = first + offset
        snapshot = replace(
            draft,
            number=str(number),
            payment_reference=payment_reference(number, buyer_country=draft.buyer.country),
        )
        invoice = _invoice_row(
            snapshot,
            seller=seller.vat_number,
            number=number,
            organization_id=order.organization_id,
            order=order,
            credited=None,
            now=now,
        )
        invoices.append(invoice)
        deliveries.append(
            Delivery(
                organization_id=order.organization_id,
                invoice=invoice,
                channel=_channel_for(contexts[order.pk].details),
                created_at=now,
                updated_at=now,
            )
        )
        history.append(
            build_entry(
                organization_id=order.organization_id,
                actor=actor,
                now=now,
                kind=HistoryKind.ORDERS,
                action="invoice_issued",
                subject=f"Invoice {number}",
                after=_invoice_summary(invoice, order_number=order.number),
            )
        )
        events.append(
            Event(
                "invoice.issued",
                str(order.organization_id),
                {"invoice_id": str(invoice.pk), "number": number, "order_id": str(order.pk)},
                at=now,
            )
        )
    OrderConfirmation.objects.bulk_create(confirmations)
    Invoice.objects.bulk_create(invoices)
    Delivery.objects.bulk_create(deliveries)
    HistoryEntry.objects.bulk_create(history)
    emit_many(events)
    _enqueue_deliveries_on_commit([d.pk for d in deliveries])
    return len(invoices)


def _invoice_row(
    snapshot: Snapshot,
    *,
    seller: str,
    number: int,
    organization_id: Any,
    order: Order | None,
    credited: Invoice | None,
    now: datetime,
) -> Invoice:
    return Invoice(
        seller=seller,
        number=number,
        document_type=DocumentType.CREDIT_NOTE if credited else DocumentType.INVOICE,
        organization_id=organization_id,
        order=order,
        credited_invoice=credited,
        issue_date=snapshot.issue_date,
        due_date=snapshot.due_date or snapshot.issue_date,
        period_start=snapshot.period_start,
        period_end=snapshot.period_end,
        currency=snapshot.currency,
        language=snapshot.language,
        net_total=snapshot.net_total,
        vat_total=snapshot.vat_total,
        total=snapshot.total,
        vat_category=snapshot.vat_category,
        payment_reference=snapshot.payment_reference,
        snapshot=snapshot.to_json(),
        created_at=now,
    )


def _invoice_summary(invoice: Invoice, *, order_number: int | None = None) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "number": invoice.number,
        "type": invoice.document_type,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "net_total": format_amount(invoice.net_total),
        "vat_total": format_amount(invoice.vat_total),
        "total": format_amount(invoice.total),
        "currency": invoice.currency,
        "vat_category": invoice.vat_category,
        "payment_reference": invoice.payment_reference,
    }
    if order_number is not None:
        summary["order_number"] = order_number
    return summary


@transaction.atomic(durable=True)
def credit_invoice(*, invoice_id: UUID | str, reason: str, actor: Actor, now: datetime) -> Invoice:
    """Reverse an invoice in full with a credit note (customer service, billing role)."""
    permissions.require_vendor_or_staff(actor, billing_role=True)
    original = Invoice.objects.select_for_update().select_related("organization").get(pk=invoice_id)
    if original.document_type != DocumentType.INVOICE:
        raise NotAnInvoice()
    if Invoice.objects.filter(credited_invoice=original).exists():
        raise AlreadyCredited(original.number)
    issue_date = clock.business_date(now)
    number = take_numbers(invoice_counter(original.seller))
    snapshot = credit_note_snapshot(
        Snapshot.from_json(original.snapshot),
        number=str(number),
        issue_date=issue_date,
        payment_reference=payment_reference(
            number, buyer_country=original.snapshot["buyer"]["country"]
        ),
        reason=reason.strip()[:300],
    )
    credit_note = _invoice_row(
        snapshot,
        seller=original.seller,
        number=number,
        organization_id=original.organization_id,
        order=None,
        credited=original,
        now=now,
    )
    credit_note.save()
    details = BillingDetails.objects.filter(organization_id=original.organization_id).first()
    delivery = Delivery.objects.create(
        organization_id=original.organization_id,
        invoice=credit_note,
        channel=_channel_for(details),
        created_at=now,
        updated_at=now,
    )
    record(
        organization_id=original.organization_id,
        actor=actor,
        now=now,
        kind=HistoryKind.ORDERS,
        action="credit_note_issued",
        subject=f"Credit note {number}",
        after={**_invoice_summary(credit_note), "credits_invoice": original.number},
        reason=reason,
    )
    emit(
        Event(
            "invoice.issued",
            str(original.organization_id),
            {
                "invoice_id": str(credit_note.pk),
                "number": number,
                "credits_invoice_id": str(original.pk),
            },
            at=now,
        )
    )
    _enqueue_deliveries_on_commit([delivery.pk])
    return credit_note


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class File:
    filename: str
    content_type: str
    content: bytes


def _snapshot_of(subject: OrderConfirmation | Invoice) -> Snapshot:
    return Snapshot.from_json(subject.snapshot)


def stored_file(subject: OrderConfirmation | Invoice, fmt: str, *, now: datetime) -> StoredDocument:
    """The rendered file of a document, rendered and kept on first use.

    Rendering is a pure function of the snapshot, so two workers racing here produce the
    same bytes; the unique constraint keeps one row.
    """
    lookup: dict[str, Any] = (
        {"invoice": subject} if isinstance(subject, Invoice) else {"confirmation": subject}
    )
    existing = StoredDocument.objects.filter(format=fmt, **lookup).first()
    if existing is not None:
        return existing
    snapshot = _snapshot_of(subject)
    valid: bool | None = None
    findings: list[dict[str, str]] = []
    if fmt == DocumentFormat.UBL:
        content = render_ubl(snapshot)
        filename, content_type = ubl_filename(snapshot), "application/xml"
        from abonnement.invoicing.validation import RulesUnavailable, validate_ubl

        try:
            report = validate_ubl(content)
        except RulesUnavailable as error:
            logger.warning("UBL not validated: %s", error)
        else:
            valid, findings = report.valid, report.as_json()
    else:
        content = render_pdf(snapshot)
        filename, content_type = pdf_filename(snapshot), "application/pdf"
    try:
        with transaction.atomic():
            return StoredDocument.objects.create(
                organization_id=subject.organization_id,
                format=fmt,
                filename=filename,
                content_type=content_type,
                content=content,
                sha256=hashlib.sha256(content).hexdigest(),
                valid=valid,
                findings=findings,
                created_at=now,
                **lookup,
            )
    except IntegrityError:
        return StoredDocument.objects.get(format=fmt, **lookup)


def file_of(stored: StoredDocument) -> File:
    return File(stored.filename, stored.content_type, bytes(stored.content))


# --------------------------------------------------------------------------- delivery


@dataclass(frozen=True)
class Outgoing:
    """What an adapter sends: a message with attachments, or an e-invoice with routing."""

    delivery_id: str
    channel: str
    subject: str
    body: str
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    attachments: list[File] = field(default_factory=list)
    document: File | None = None
    routing: dict[str, Any] = field(default_factory=dict)


class DeliveryRefused(Exception):
    """A delivery that cannot succeed by retrying (no recipient, invalid document)."""

    def __init__(self, message: str, findings: list[str] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


def adapter_for(channel: str) -> Any:
    return import_string(settings.DELIVERY_ADAPTERS[channel])()


def _recipients(organization_id: Any, *, admins_only: bool = False) -> tuple[list[str], list[str]]:
    if admins_only:
        admins = list(
            User.objects.filter(
                organization_id=organization_id, is_active=True, manage_subscription=True
            )
            .order_by("pk")
            .values_list("email", flat=True)
        )
        return admins, []
    everyone = mail_recipients(organization_id=organization_id)
    details = BillingDetails.objects.filter(organization_id=organization_id).first()
    copies = [a for a in (details.cc if details else []) if a in everyone]
    to = [a for a in everyone if a not in copies]
    if not to:
        return copies, []
    return to, copies


def _document_message(snapshot: Snapshot) -> tuple[str, str]:
    language = snapshot.language
    seller = snapshot.seller.name
    subject_key = {
        KIND_CONFIRMATION: "confirmation_subject",
        KIND_INVOICE: "invoice_subject",
    }.get(snapshot.kind, "credit_note_subject")
    subject = texts.text(language, subject_key).format(number=snapshot.number, seller=seller)
    due = ""
    if snapshot.kind == KIND_INVOICE and snapshot.due_date is not None:
        due = texts.text(language, "due_line").format(
            due_date=texts.day(snapshot.due_date, language),
            reference=grouped(snapshot.payment_reference),
        )
    body = texts.text(language, "document_body").format(
        document=texts.text(language, snapshot.kind).lower(),
        number=snapshot.number,
        seller=seller,
        total=texts.money(snapshot.total, snapshot.currency, language),
        due=due,
    )
    return subject, body


def _reminder_message(reminder: PeriodReminder) -> tuple[str, str]:
    data = reminder.snapshot
    language = data["language"]
    seller = settings.SELLER["name"]

    def day(value: str) -> str:
        return texts.day(datetime.fromisoformat(value).date(), language)

    def money(value: str) -> str:
        return texts.money(Decimal(value), data["currency"], language)

    add_ons = ""
    if data["add_ons"]:
        add_ons = texts.text(language, "add_ons_line").format(names=", ".join(data["add_ons"]))
    marketplace = ""
    if data.get("marketplace"):  # reminders stored before it was recorded have no key
        marketplace = texts.text(language, "marketplace_line").format(**data["marketplace"])
    subject = texts.text(language, "reminder_subject").format(start=day(data["next_start"]))
    body = texts.text(language, "reminder_body").format(
        organization=data["organization"],
        end=day(data["period_end"]),
        start=day(data["next_start"]),
        next_end=day(data["next_end"]),
        edition=data["edition"],
        licenses=data["licenses"],
        packs=data["storage_packs"],
        add_ons=add_ons,
        monthly=money(data["monthly_price"]),
        period_total=money(data["period_price"]),
        deadline=day(data["deadline"]),
        marketplace=marketplace,
        seller=seller,
    )
    return subject, body


def build_outgoing(delivery: Delivery, *, now: datetime) -> Outgoing:
    """Render (or fetch) the files and address the message or e-invoice."""
    if delivery.reminder_id is not None:
        reminder = delivery.reminder
        assert reminder is not None
        to, cc = _recipients(delivery.organization_id, admins_only=True)
        subject, body = _reminder_message(reminder)
        return Outgoing(str(delivery.pk), delivery.channel, subject, body, to=to, cc=cc)

    subject_row: OrderConfirmation | Invoice | None = delivery.invoice or delivery.confirmation
    assert subject_row is not None
    snapshot = _snapshot_of(subject_row)
    if delivery.channel == DeliveryChannel.EINVOICE:
        assert isinstance(subject_row, Invoice)
        stored = stored_file(subject_row, DocumentFormat.UBL, now=now)
        valid, findings = stored.valid, list(stored.findings)
        if valid is None:
            # Rendered while the rules were missing: validate now (the row stays as it is).
            valid, findings = _validated(bytes(stored.content))
        details = BillingDetails.objects.filter(organization_id=delivery.organization_id).first()
        document, sha256 = file_of(stored), stored.sha256
        if details is not None and details.einvoice_address:
            # A resend goes where the billing details say now; the document must name the
            # same receiver as its routing, so one issued to an older address is re-addressed
            # (only the buyer's electronic address changes) and validated again.
            scheme, identifier = einvoice_endpoint(details.einvoice_address)
            if identifier and (scheme, identifier) != (
                snapshot.buyer.endpoint_scheme,
                snapshot.buyer.endpoint_id,
            ):
                snapshot = replace(
                    snapshot,
                    buyer=replace(snapshot.buyer, endpoint_scheme=scheme, endpoint_id=identifier),
                )
                content = render_ubl(snapshot)
                document = File(document.filename, document.content_type, content)
                sha256 = hashlib.sha256(content).hexdigest()
                valid, findings = _validated(content)
        if not valid:
            rule_ids = sorted({f["rule_id"] for f in findings if f["flag"] == "fatal"})
            raise DeliveryRefused(
                "the e-invoice fails the official rules: " + ", ".join(rule_ids), rule_ids
            )
        routing: dict[str, Any] = {
            "document_id": str(subject_row.pk),
            "document_number": snapshot.number,
            "document_type": subject_row.document_type,
            "format": "peppol-bis-billing-3.0-ubl",
            "file": document.filename,
            "sha256": sha256,
            "size": len(document.content),
            "receiver": {
                "name": snapshot.buyer.name,
                "einvoice_address": details.einvoice_address if details else "",
                "operator": details.einvoice_operator if details else "",
                "endpoint": {
                    "scheme": snapshot.buyer.endpoint_scheme,
                    "id": snapshot.buyer.endpoint_id,
                },
            },
            "sender": {
                "name": snapshot.seller.name,
                "vat_number": settings.SELLER["vat_number"],
                "business_id": snapshot.seller.business_id,
                "endpoint": {
                    "scheme": snapshot.seller.endpoint_scheme,
                    "id": snapshot.seller.endpoint_id,
                },
            },
        }
        if not details or not details.einvoice_address:
            raise DeliveryRefused("no e-invoice address in the billing details")
        return Outgoing(
            str(delivery.pk), delivery.channel, "", "", document=document, routing=routing
        )

    to, cc = _recipients(delivery.organization_id)
    pdf = file_of(stored_file(subject_row, DocumentFormat.PDF, now=now))
    subject, body = _document_message(snapshot)
    return Outgoing(
        str(delivery.pk), delivery.channel, subject, body, to=to, cc=cc, attachments=[pdf]
    )


def _validated(content: bytes) -> tuple[bool, list[dict[str, str]]]:
    """An e-invoice checked against the official rules just before it is sent."""
    from abonnement.invoicing.validation import RulesUnavailable, validate_ubl

    try:
        report = validate_ubl(content)
    except RulesUnavailable as error:
        raise DeliveryRefused(f"the e-invoice could not be validated: {error}", ["RULES"]) from None
    return report.valid, report.as_json()


def _subject_name(delivery: Delivery) -> str:
    if delivery.invoice is not None:
        return str(delivery.invoice)
    if delivery.confirmation is not None:
        return f"Order confirmation {delivery.confirmation.order.number}"
    return "Period reminder"


def claim_delivery(delivery_id: UUID | str, *, at: datetime) -> bool:
    """Move a due delivery from pending (or an expired claim) to sending; True if ours."""
    due = Q(status=DeliveryStatus.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=at)
    )
    abandoned = Q(status=DeliveryStatus.SENDING, claimed_at__lt=at - CLAIM_LEASE)
    claimed = (
        Delivery.objects.filter(pk=delivery_id)
        .filter(due | abandoned)
        .update(
            status=DeliveryStatus.SENDING,
            claimed_at=at,
            attempts=F("attempts") + 1,
            updated_at=at,
        )
    )
    return claimed == 1


def retry_delay(attempt: int) -> timedelta:
    """Exponential backoff: base, 2 × base, 4 × base … capped at six hours."""
    seconds = settings.DELIVERY_RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1))
    return timedelta(seconds=min(seconds, 6 * 3600))


@dataclass(frozen=True)
class DeliveryResult:
    delivery_id: str
    status: str
    retry_at: datetime | None = None


def send_delivery(
    *, delivery_id: UUID | str, now: datetime, sender: Callable[[Outgoing], str] | None = None
) -> DeliveryResult:
    """Send one delivery if it is due and no other worker has it; safe to call twice.

    Deliberately not one transaction: the claim commits before anything is sent, the
    message leaves outside any transaction (an SMTP server or an outbox cannot be rolled
    back), and the outcome is recorded in a second, short one. Returns the status after
    this call; with ``retry_at`` set the caller re-enqueues.
    """
    at = clock.real_now()
    if not claim_delivery(delivery_id, at=at):
        current = Delivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
        return DeliveryResult(str(delivery_id), current or "missing")
    delivery = Delivery.objects.select_related(
        "invoice", "confirmation__order", "reminder", "organization"
    ).get(pk=delivery_id)
    try:
        outgoing = build_outgoing(delivery, now=now)
        if delivery.channel == DeliveryChannel.EMAIL and not outgoing.to:
            raise DeliveryRefused("no recipient: the billing details name no e-mail address")
        send = sender or adapter_for(delivery.channel).send
        destination = send(outgoing)
    except DeliveryRefused as refusal:
        _finish(
            delivery,
            now=now,
            status=DeliveryStatus.FAILED,
            error=str(refusal),
            findings=refusal.findings,
            final=True,
        )
        return DeliveryResult(str(delivery.pk), DeliveryStatus.FAILED)
    except Exception as error:
        logger.warning("delivery %s failed: %s", delivery.pk, error)
        if delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            _finish(
                delivery,
                now=now,
                status=DeliveryStatus.FAILED,
                error=f"{type(error).__name__}: {error}",
                final=True,
            )
            return DeliveryResult(str(delivery.pk), DeliveryStatus.FAILED)
        retry_at = at + retry_delay(delivery.attempts)
        _finish(
            delivery,
            now=now,
            status=DeliveryStatus.PENDING,
            error=f"{type(error).__name__}: {error}",
            retry_at=retry_at,
        )
        return DeliveryResult(str(delivery.pk), DeliveryStatus.PENDING, retry_at)
    _finish(delivery, now=now, status=DeliveryStatus.SENT, destination=destination)
    return DeliveryResult(str(delivery.pk), DeliveryStatus.SENT)


@transaction.atomic
def _finish(
    delivery: Delivery,
    *,
    now: datetime,
    status: str,
    error: str = "",
    findings: list[str] | None = None,
    destination: str = "",
    retry_at: datetime | None = None,
    final: bool = False,
) -> None:
    at = clock.real_now()
    fields: dict[str, Any] = {
        "status": status,
        "last_error": error[:2000],
        "updated_at": at,
        "next_attempt_at": retry_at,
        "claimed_at": None,
    }
    if findings is not None:
        fields["findings"] = findings
    if destination:
        fields["destination"] = destination[:500]
    if status == DeliveryStatus.SENT:
        fields["sent_at"] = now
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    subject = _subject_name(delivery)
    if status == DeliveryStatus.SENT:
        record(
            organization_id=delivery.organization_id,
            actor=system_actor(),
            now=now,
            kind=HistoryKind.ORDERS,
            action="document_delivered",
            subject=subject,
            after={
                "channel": delivery.channel,
                "destination": destination[:300],
                "delivery_id": str(delivery.pk),
            },
        )
    elif final:
        action = "einvoice_validation_failed" if findings else "delivery_failed"
        if delivery.invoice_id is not None:
            emit(
                Event(
                    "invoice.delivery_failed",
                    str(delivery.organization_id),
                    {
                        "invoice_id": str(delivery.invoice_id),
                        "delivery_id": str(delivery.pk),
                        "channel": delivery.channel,
                        "error": error[:300],
                        "rule_ids": findings or [],
                    },
                    at=now,
                )
            )
        record(
            organization_id=delivery.organization_id,
            actor=system_actor(),
            now=now,
            kind=HistoryKind.ORDERS,
            action=action,
            subject=subject,
            after={
                "channel": delivery.channel,
                "error": error[:300],
                "rule_ids": findings or [],
                "delivery_id": str(delivery.pk),
            },
        )


# --------------------------------------------------------------------------- on demand


@transaction.atomic(durable=True)
def resend_document(
    *,
    organization: Organization,
    invoice_id: UUID | str | None = None,
    order_id: UUID | str | None = None,
    actor: Actor,
    now: datetime,
) -> Delivery:
    """Deliver an issued document again: an order confirmation by e-mail, an invoice the
    way the billing details say now. The administrator (portal, API) or customer service."""
    permissions.require(actor, organization, Permission.MANAGE_SUBSCRIPTION)
    from abonnement.invoicing.selectors import get_confirmation, get_invoice

    details = BillingDetails.objects.filter(organization_id=organization.pk).first()
    if invoice_id is not None:
        invoice = get_invoice(organization_id=organization.pk, invoice_id=invoice_id)
        delivery = Delivery.objects.create(
            organization=organization,
            invoice=invoice,
            channel=_channel_for(details),
            automatic=False,
            created_at=now,
            updated_at=now,
        )
        subject = str(invoice)
    else:
        confirmation = get_confirmation(organization_id=organization.pk, order_id=order_id)
        delivery = Delivery.objects.create(
            organization=organization,
            confirmation=confirmation,
            channel=DeliveryChannel.EMAIL,
            automatic=False,
            created_at=now,
            updated_at=now,
        )
        subject = f"Order confirmation {confirmation.order.number}"
    record(
        organization_id=organization.pk,
        actor=actor,
        now=now,
        kind=HistoryKind.ORDERS,
        action="document_resend_requested",
        subject=subject,
        after={"channel": delivery.channel, "delivery_id": str(delivery.pk)},
    )
    _enqueue_deliveries_on_commit([delivery.pk])
    return delivery


@transaction.atomic(durable=True)
def retry_delivery(*, delivery_id: UUID | str, actor: Actor, now: datetime) -> Delivery:
    """Try a failed delivery again now (customer service, or the organisation's admin)."""
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("organization", "invoice", "confirmation__order")
        .get(pk=delivery_id)
    )
    permissions.require(actor, delivery.organization, Permission.MANAGE_SUBSCRIPTION)
    if delivery.status != DeliveryStatus.FAILED:
        raise DeliveryNotFailed()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=None,
        updated_at=clock.real_now(),
    )
    record(
        organization_id=delivery.organization_id,
        actor=actor,
        now=now,
        kind=HistoryKind.ORDERS,
        action="delivery_retry_requested",
        subject=_subject_name(delivery),
        before={"status": DeliveryStatus.FAILED, "error": delivery.last_error[:300]},
        after={"status": DeliveryStatus.PENDING, "delivery_id": str(delivery.pk)},
    )
    _enqueue_deliveries_on_commit([delivery.pk])
    delivery.refresh_from_db()
    return delivery


# --------------------------------------------------------------------------- housekeeping


@dataclass(frozen=True)
class Requeued:
    orders: int
    deliveries: int


def requeue_missing_work(*, now: datetime) -> Requeued:
    """Give tasks again to work whose task was lost.

    Documents and deliveries are enqueued after commit; a process that dies between the
    commit and the enqueue (or a task table that was cleared) would leave an order without
    its documents, or a delivery pending for ever. This finds orders without an invoice
    (except those held for an invoice address once confirmed: saving the billing details
    enqueues them), deliveries that are due, and deliveries claimed by a worker that
    vanished (older than the lease), and enqueues them. Work younger than ``WORK_GRACE``
    (business time) is left to the task that was enqueued with it, so a run during a big
    rollover's backlog does not enqueue every order twice; tasks are safe to run twice
    anyway.
    """
    from abonnement.invoicing.tasks import enqueue_deliveries, enqueue_order_batches

    at = clock.real_now()
    settled = now - WORK_GRACE
    confirmed = Exists(OrderConfirmation.objects.filter(order_id=OuterRef("pk")))
    orders = list(
        Order.objects.filter(
            ~has_invoice(),
            has_invoice_address() | ~confirmed,
            created_at__lte=settled,
        ).values_list("pk", flat=True)
    )
    stranded = list(
        Delivery.objects.filter(
            (
                Q(status=DeliveryStatus.PENDING, created_at__lte=settled)
                & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=at))
            )
            | Q(status=DeliveryStatus.SENDING, claimed_at__lt=at - CLAIM_LEASE)
        ).values_list("pk", flat=True)
    )
    enqueue_order_batches([str(pk) for pk in orders])
    enqueue_deliveries([str(pk) for pk in stranded])
    return Requeued(orders=len(orders), deliveries=len(stranded))


# --------------------------------------------------------------------------- reminders


def send_period_reminders(*, now: datetime, days: int | None = None) -> int:
    """Remind the administrators of every subscription whose period ends within ``days``
    (``REMINDER_DAYS``) of today; once per period, by the unique constraint. Returns how
    many reminders were created now."""
    from abonnement.subscriptions.models import Subscription

    lead = settings.REMINDER_DAYS if days is None else days
    today = clock.business_date(now)
    due = (
        Subscription.objects.filter(
            current_period_end__gte=today, current_period_end__lte=today + timedelta(days=lead)
        )
        .exclude(
            pk__in=PeriodReminder.objects.filter(period_end__gte=today).values("subscription_id")
        )
        .values_list("pk", flat=True)
    )
    created = 0
    for subscription_id in list(due):
        if _remind(subscription_id=subscription_id, now=now):
            created += 1
    return created


@transaction.atomic(durable=True)
def _remind(*, subscription_id: int, now: datetime) -> bool:
    from abonnement.subscriptions.models import Subscription
    from abonnement.subscriptions.selectors import subscription_overview

    subscription = Subscription.objects.select_related("organization").get(pk=subscription_id)
    if PeriodReminder.objects.filter(
        subscription=subscription, period_end=subscription.current_period_end
    ).exists():
        return False
    overview = subscription_overview(organization_id=subscription.organization_id)
    following = overview.next
    details = BillingDetails.objects.filter(organization_id=subscription.organization_id).first()
    language = texts.language_of(
        details.invoice_language if details else subscription.organization.language
    )
    snapshot = {
        "language": language,
        "organization": subscription.organization.name,
        "currency": overview.currency,
        "period_end": subscription.current_period_end.isoformat(),
        "next_start": following.period.start.isoformat(),
        "next_end": following.period.end.isoformat(),
        "edition": following.edition.name,
        "licenses": following.licenses,
        "storage_packs": following.storage_packs,
        "add_ons": [a.name_in(language) for a in following.add_ons],
        "monthly_price": format_amount(following.monthly_price),
        "period_price": format_amount(following.total_price),
        "deadline": clock.business_date(overview.change_deadline).isoformat(),
        # Rule 6: a marketplace customer changes the subscription there, not here.
        "marketplace": (
            {
                "name": subscription.organization.marketplace_name,
                "url": subscription.organization.marketplace_url,
            }
            if subscription.organization.managed_by_marketplace
            else None
        ),
    }
    try:
        with transaction.atomic():
            reminder = PeriodReminder.objects.create(
                subscription=subscription,
                organization_id=subscription.organization_id,
                period_end=subscription.current_period_end,
                snapshot=snapshot,
                created_at=now,
            )
    except IntegrityError:
        return False
    delivery = Delivery.objects.create(
        organization_id=subscription.organization_id,
        reminder=reminder,
        channel=DeliveryChannel.EMAIL,
        created_at=now,
        updated_at=now,
    )
    record(
        organization_id=subscription.organization_id,
        actor=system_actor(),
        now=now,
        kind=HistoryKind.PERIOD,
        action="period_reminder_created",
        subject=f"{following.period.start.isoformat()}–{following.period.end.isoformat()}",
        after={
            k: snapshot[k]
            for k in ("period_end", "next_start", "edition", "licenses", "period_price", "deadline")
        },
    )
    _enqueue_deliveries_on_commit([delivery.pk])
    return True
