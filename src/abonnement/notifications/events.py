"""The webhook event types of API.md. ``invoice.*`` are sent once invoices exist."""

from __future__ import annotations

EVENT_TYPES = (
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
)
