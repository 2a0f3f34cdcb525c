"""Billing details (API.md "Billing details")."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from abonnement.billing import services
from abonnement.billing.schemas import BillingDetailsIn, BillingDetailsOut, billing_details_out
from abonnement.billing.selectors import billing_details_view
from abonnement.config.api_auth import organization_for
from abonnement.config.api_errors import responses

router = Router(tags=["Billing details"])


@router.get(
    "/organizations/{org}/billing-details",
    response=responses({200: BillingDetailsOut}),
    summary="Read the billing details",
)
def get_billing_details(request: HttpRequest, org: str) -> Any:
    _caller, organization = organization_for(request, org, permission="manage_subscription")
    return billing_details_out(billing_details_view(organization_id=organization.pk))


@router.put(
    "/organizations/{org}/billing-details",
    response=responses({200: BillingDetailsOut}, write=True),
    summary="Replace the billing details",
)
def put_billing_details(request: HttpRequest, org: str, payload: BillingDetailsIn) -> Any:
    """The whole details. ``company_name`` and ``vat_number`` are read-only here: sending
    them is a 422 that says where they are changed. ``contact`` takes ``user_id`` or
    ``name`` + ``email``."""
    caller, organization = organization_for(request, org)
    services.update_billing_details(
        organization=organization,
        data=payload.model_dump(exclude_unset=True),
        actor=caller.actor,
        now=caller.now,
    )
    return billing_details_out(billing_details_view(organization_id=organization.pk))
