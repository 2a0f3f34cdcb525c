"""Webhook endpoints and their delivery log as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field, StrictBool

from abonnement.core.schemas import ApiInput, Omitted
from abonnement.notifications.models import WebhookDelivery, WebhookEndpoint

EventType = Literal[
    "organization.created",
    "subscription.updated",
    "subscription.renewed",
    "order.created",
    "invoice.issued",
    "invoice.delivery_failed",
    "feature.enabled",
    "feature.disabled",
    "user.activated",
    "user.deactivated",
]


class WebhookEndpointIn(ApiInput):
    url: str = Field(examples=["https://example.com/webhooks/abonnement"])
    events: list[EventType]
    description: str = ""


class WebhookEndpointPatchIn(ApiInput):
    url: str | Omitted = None
    events: list[EventType] | Omitted = None
    description: str | Omitted = None
    enabled: StrictBool | Omitted = Field(
        default=None, description="true switches an endpoint that was switched off on again."
    )


class WebhookEndpointOut(Schema):
    id: str
    url: str
    description: str
    events: list[EventType]
    enabled: bool
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str
    created_at: datetime


class WebhookEndpointCreatedOut(WebhookEndpointOut):
    secret: str | None = Field(
        description="The signing secret (whsec_…). Shown only now; verify deliveries with it. "
        "An idempotent replay of this answer has null here (the secret is never kept in clear "
        "outside the endpoint's own row)."
    )


class WebhookEndpointList(Schema):
    data: list[WebhookEndpointOut]
    next_cursor: str | None


def endpoint_out(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": str(endpoint.pk),
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events),
        "enabled": endpoint.enabled,
        "consecutive_failures": endpoint.consecutive_failures,
        "disabled_at": endpoint.disabled_at,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at,
    }


class WebhookAttemptOut(Schema):
    number: int
    attempted_at: datetime
    succeeded: bool
    response_status: int | None
    error: str
    duration_ms: int


class WebhookDeliveryOut(Schema):
    id: str
    message_id: str = Field(description="The webhook-id header.")
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: list[WebhookAttemptOut]
    created_at: datetime
    next_attempt_at: datetime | None


class WebhookDeliveryList(Schema):
    data: list[WebhookDeliveryOut]
    next_cursor: str | None


def delivery_out(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": str(delivery.pk),
        "message_id": delivery.message_id,
        "event_type": delivery.message.event_type,
        "status": delivery.status,
        "attempts": [
            {
                "number": attempt.number,
                "attempted_at": attempt.attempted_at,
                "succeeded": attempt.succeeded,
                "response_status": attempt.response_status,
                "error": attempt.error,
                "duration_ms": attempt.duration_ms,
            }
            for attempt in delivery.log.all()
        ],
        "created_at": delivery.created_at,
        "next_attempt_at": delivery.next_attempt_at,
    }
