"""Webhooks: endpoints registered by the vendor, the outbox of events not yet published,
messages (one per event) and deliveries (one per message and endpoint) with the log of every
attempt.

Times of the transport (attempts, retries, switching off) are wall-clock times; a message's
``created_at`` is the business time of the event that caused it.
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from abonnement.core.ids import uuid7


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True, default="")
    events = models.JSONField(default=list)
    # Kept readable: every delivery is signed with it. Shown to the vendor once.
    secret = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url


class OutboxEvent(models.Model):
    """A domain event an endpoint wants, written in the transaction of the change it reports.

    It exists exactly when the change does; publishing it (messages, deliveries) deletes it
    in the same transaction, so each becomes messages once, whoever publishes it.
    """

    id = models.BigAutoField(primary_key=True)
    event_type = models.CharField(max_length=60)
    organization_id = models.UUIDField()
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)  # the event's own data
    occurred_at = models.DateTimeField()
    # The payload's ``data`` read in the transaction of the change, as the JSON text that is
    # sent (text, not jsonb, which would reorder its keys). Null: read when published (the
    # rollover's events, and rows written before snapshots existed); see payloads.py.
    data_snapshot = models.TextField(null=True, blank=True)


class WebhookMessage(models.Model):
    """One event as sent: ``id`` is the ``webhook-id`` header, the same on every retry."""

    id = models.CharField(max_length=40, primary_key=True)
    event_type = models.CharField(max_length=60)
    organization_id = models.UUIDField(db_index=True)
    body = models.TextField()
    created_at = models.DateTimeField()


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "message"], name="one_delivery_per_endpoint"
            )
        ]
        indexes = [
            models.Index(
                fields=["endpoint", "-created_at", "-id"], name="delivery_endpoint_created"
            ),
            # The few deliveries still pending, for the stranded-delivery sweep.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_pending",
            ),
        ]


class WebhookAttempt(models.Model):
    """The delivery log: one row per HTTP attempt, its status or error and timing, never
    what the receiver answered in its body."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    succeeded = models.BooleanField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    duration_ms = models.PositiveIntegerField()

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="one_attempt_number")
        ]
