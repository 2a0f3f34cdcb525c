"""Reads of webhook endpoints and their delivery log (vendor only)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from abonnement.accounts import permissions
from abonnement.core.actor import Actor
from abonnement.core.errors import NotFound
from abonnement.notifications.models import WebhookDelivery, WebhookEndpoint


def webhook_endpoints(*, actor: Actor) -> QuerySet[WebhookEndpoint]:
    permissions.require_vendor_or_staff(actor)
    return WebhookEndpoint.objects.order_by("-created_at", "-id")


def get_endpoint(*, endpoint_id: object, actor: Actor, lock: bool = False) -> WebhookEndpoint:
    permissions.require_vendor_or_staff(actor)
    endpoints = WebhookEndpoint.objects.all()
    if lock:
        endpoints = endpoints.select_for_update(no_key=True)
    try:
        return endpoints.get(pk=str(endpoint_id))
    except (WebhookEndpoint.DoesNotExist, ValueError, ValidationError):
        raise NotFound(_("Webhook endpoint not found.")) from None


def deliveries_of(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """Newest first, each with its message and its attempts (three queries per page)."""
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("message")
        .prefetch_related("log")
        .order_by("-created_at", "-id")
    )
