"""Billing details (API.md "Billing details")."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from abonnement.billing import services
from abonnement.billing.schemas import (
    BillingDetailsIn,
    BillingDetailsOut,
    billing_details_out,
    read_only_fields_sent,
)
from abonnement.billing.selectors import billing_details_view
from abonnement.config.api_auth import organization_for
from abonnement.config.api_errors import responses
from abonnement.core.errors import FieldError, ValidationFailed

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
    """The whole details. ``company_name``, ``vat_number`` and ``operator_name`` (also in
    ``e_invoicing``) are read-only here: sending them is a 422 that says where they are
    changed. ``contact`` takes ``user_id`` or ``name`` + ``email``, not both."""
    caller, organization = organization_for(request, org)
    read_only = read_only_fields_sent(payload)
    if read_only:
        # All of them in one answer, nested ones too (the service sees the top level only).
        raise ValidationFailed(
            [FieldError(path, str(services.READ_ONLY[path.split(".")[-1]])) for path in read_only],
            _("These fields cannot be changed here."),
        )
    services.update_billing_details(
        organization=organization,
        data=payload.model_dump(exclude_unset=True),
        actor=caller.actor,
        now=caller.now,
    )
    return billing_details_out(billing_details_view(organization_id=organization.pk))
