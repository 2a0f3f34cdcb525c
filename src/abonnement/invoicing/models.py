"""Documents: order confirmations, invoices and credit notes, their rendered files, their
deliveries, and the period reminders.

An issued document is a frozen snapshot (``snapshot``, JSON): the renderers (PDF, UBL) are
pure functions of it, so a document rendered today and in ten years is the same document.
Rows of ``OrderConfirmation``, ``Invoice`` and ``StoredDocument`` are never updated;
``Delivery`` rows carry the (changing) delivery status.

Exactly once by constraint: one confirmation per order (its primary key), one invoice per
order, one credit note per invoice, one number per seller, one automatic delivery per
document, one reminder per subscription and period end.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q


class DocumentType(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class _Immutable(models.Model):
    """Rows that are written once: ``save`` refuses updates, ``delete`` refuses always."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError(f"an issued {self._meta.verbose_name} never changes")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"an issued {self._meta.verbose_name} is never deleted")


class OrderConfirmation(_Immutable):
    """The confirmation of one order, as it was when the order was confirmed."""

    order = models.OneToOneField(
        "orders.Order", on_delete=models.PROTECT, primary_key=True, related_name="confirmation"
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    snapshot = models.JSONField()
    created_at = models.DateTimeField()


class Invoice(_Immutable):
    """An invoice or a credit note; numbered per seller from one gapless sequence."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seller = models.CharField(max_length=30)
    number = models.BigIntegerField()
    document_type = models.CharField(max_length=12, choices=DocumentType.choices)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="invoices"
    )
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    credited_invoice = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    issue_date = models.DateField()
    due_date = models.DateField()
    period_start = models.DateField()
    period_end = models.DateField()
    currency = models.CharField(max_length=3)
    language = models.CharField(max_length=5)
    net_total = models.DecimalField(max_digits=14, decimal_places=2)
    vat_total = models.DecimalField(max_digits=14, decimal_places=2)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    vat_category = models.CharField(max_length=2)
    payment_reference = models.CharField(max_length=35)
    snapshot = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-issue_date", "-number"]
        indexes = [
            models.Index(fields=["organization", "-issue_date", "-number"], name="invoice_org_date")
        ]
        constraints = [
            models.UniqueConstraint(fields=["seller", "number"], name="invoice_number_per_seller"),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(document_type="invoice"),
                name="one_invoice_per_order",
            ),
            models.UniqueConstraint(
                fields=["credited_invoice"],
                condition=Q(document_type="credit_note"),
                name="one_credit_note_per_invoice",
            ),
            models.CheckConstraint(
                condition=(Q(document_type="invoice") & Q(order__isnull=False))
                | (Q(document_type="credit_note") & Q(credited_invoice__isnull=False)),
                name="invoice_has_its_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()} {self.number}"

    @property
    def is_credit_note(self) -> bool:
        return self.document_type == DocumentType.CREDIT_NOTE


class DocumentFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    UBL = "ubl", "UBL (Peppol BIS 3.0)"


class StoredDocument(_Immutable):
    """A rendered file, kept in the database so what was sent can always be shown again.

    For UBL the validation outcome against the official rules is stored beside it.
    """

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    confirmation = models.ForeignKey(
        OrderConfirmation, null=True, blank=True, on_delete=models.PROTECT, related_name="files"
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="files"
    )
    format = models.CharField(max_length=3, choices=DocumentFormat.choices)
    filename = models.CharField(max_length=100)
    content_type = models.CharField(max_length=60)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    valid = models.BooleanField(null=True, blank=True)
    findings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["confirmation", "format"],
                condition=Q(confirmation__isnull=False),
                name="one_file_per_confirmation_format",
            ),
            models.UniqueConstraint(
                fields=["invoice", "format"],
                condition=Q(invoice__isnull=False),
                name="one_file_per_invoice_format",
            ),
            models.CheckConstraint(
                condition=Q(confirmation__isnull=True, invoice__isnull=False)
                | Q(confirmation__isnull=False, invoice__isnull=True),
                name="file_of_one_document",
            ),
        ]


class PeriodReminder(_Immutable):
    """The reminder of one period end; the unique constraint sends it once."""

    subscription = models.ForeignKey(
        "subscriptions.Subscription", on_delete=models.PROTECT, related_name="+"
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    period_end = models.DateField()
    snapshot = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_end"], name="one_reminder_per_period"
            )
        ]


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    EINVOICE = "einvoice", "E-invoice"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One delivery of one document (or reminder) through one channel.

    ``automatic`` marks the delivery made when the document was issued (one per document, by
    constraint); resends are further rows. A worker claims a delivery by moving it from
    ``pending`` to ``sending`` with one conditional UPDATE, so two workers never send it
    both.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="deliveries"
    )
    confirmation = models.ForeignKey(
        OrderConfirmation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    reminder = models.ForeignKey(
        PeriodReminder, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    channel = models.CharField(max_length=10, choices=DeliveryChannel.choices)
    automatic = models.BooleanField(default=True)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    destination = models.CharField(max_length=500, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    findings = models.JSONField(default=list, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="delivery_org_created"),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["confirmation"],
                condition=Q(automatic=True, confirmation__isnull=False),
                name="one_automatic_confirmation_delivery",
            ),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(automatic=True, invoice__isnull=False),
                name="one_automatic_invoice_delivery",
            ),
            models.UniqueConstraint(
                fields=["reminder"],
                condition=Q(automatic=True, reminder__isnull=False),
                name="one_automatic_reminder_delivery",
            ),
            models.CheckConstraint(
                condition=Q(confirmation__isnull=False, invoice__isnull=True, reminder__isnull=True)
                | Q(confirmation__isnull=True, invoice__isnull=False, reminder__isnull=True)
                | Q(confirmation__isnull=True, invoice__isnull=True, reminder__isnull=False),
                name="delivery_of_one_subject",
            ),
        ]

    @property
    def subject_kind(self) -> str:
        if self.invoice_id is not None:
            return "invoice"
        if self.confirmation_id is not None:
            return "order_confirmation"
        return "reminder"
