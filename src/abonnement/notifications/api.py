"""Webhook endpoints (API.md "Webhooks", vendor only)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.responses import Status

from abonnement.config.api_auth import caller_of, vendor_token
from abonnement.config.api_common import PageQuery, paginate, patched_fields
from abonnement.config.api_errors import created, responses, reveal_once
from abonnement.notifications import services
from abonnement.notifications.schemas import (
    WebhookDeliveryList,
    WebhookEndpointCreatedOut,
    WebhookEndpointIn,
    WebhookEndpointList,
    WebhookEndpointOut,
    WebhookEndpointPatchIn,
    delivery_out,
    endpoint_out,
)
from abonnement.notifications.selectors import deliveries_of, get_endpoint, webhook_endpoints

router = Router(tags=["Webhooks"], auth=[vendor_token])  # every call here is the vendor's


@router.post(
    "/webhook-endpoints",
    response=responses({201: WebhookEndpointCreatedOut}, write=True),
    summary="Register a webhook endpoint",
)
def create_webhook_endpoint(
    request: HttpRequest, response: HttpResponse, payload: WebhookEndpointIn
) -> Any:
    """Deliveries are signed (Standard Webhooks) with the secret shown only in this answer."""
    caller = caller_of(request)
    issued = services.create_endpoint(
        url=payload.url,
        events=list(payload.events),
        description=payload.description,
        actor=caller.actor,
        now=caller.now,
    )
    body = {**endpoint_out(issued.endpoint), "secret": issued.secret}
    reveal_once(response, "secret")
    return created(request, response, issued.endpoint.pk, body)


@router.get(
    "/webhook-endpoints",
    response=responses({200: WebhookEndpointList}),
    summary="List webhook endpoints",
)
def list_webhook_endpoints(request: HttpRequest, page: Query[PageQuery]) -> Any:
    caller = caller_of(request)
    return paginate(
        webhook_endpoints(actor=caller.actor),
        fields=("created_at", "id"),
        limit=page.limit,
        cursor=page.cursor,
        present=endpoint_out,
    )


@router.get(
    "/webhook-endpoints/{id}",
    response=responses({200: WebhookEndpointOut}),
    summary="Read a webhook endpoint",
)
def get_webhook_endpoint(request: HttpRequest, id: str) -> Any:
    """``enabled: false`` with ``disabled_reason`` once it was switched off."""
    caller = caller_of(request)
    return endpoint_out(get_endpoint(endpoint_id=id, actor=caller.actor))


@router.patch(
    "/webhook-endpoints/{id}",
    response=responses({200: WebhookEndpointOut}, write=True),
    summary="Change a webhook endpoint or switch it on again",
)
def update_webhook_endpoint(request: HttpRequest, id: str, payload: WebhookEndpointPatchIn) -> Any:
    caller = caller_of(request)
    endpoint = services.update_endpoint(
        endpoint_id=id, actor=caller.actor, now=caller.now, **patched_fields(payload)
    )
    return endpoint_out(endpoint)


@router.delete(
    "/webhook-endpoints/{id}",
    response=responses({204: None}, write=True),
    summary="Remove a webhook endpoint",
)
def delete_webhook_endpoint(request: HttpRequest, id: str) -> Any:
    caller = caller_of(request)
    services.delete_endpoint(endpoint_id=id, actor=caller.actor, now=caller.now)
    return Status(204, None)


@router.get(
    "/webhook-endpoints/{id}/deliveries",
    response=responses({200: WebhookDeliveryList}),
    summary="The delivery log of a webhook endpoint",
)
def list_webhook_deliveries(request: HttpRequest, id: str, page: Query[PageQuery]) -> Any:
    """Newest first, each with every attempt: when, the answer's status, or the error."""
    caller = caller_of(request)
    endpoint = get_endpoint(endpoint_id=id, actor=caller.actor)
    return paginate(
        deliveries_of(endpoint=endpoint),
        fields=("created_at", "id"),
        limit=page.limit,
        cursor=page.cursor,
        present=delivery_out,
    )
