"""Organisations (API.md "Organisations")."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from abonnement.accounts import permissions
from abonnement.config.api_auth import caller_of, organization_for, vendor_token
from abonnement.config.api_common import PageQuery, paginate, patched_fields
from abonnement.config.api_errors import created, responses
from abonnement.core.errors import FieldError, ValidationFailed
from abonnement.organizations import services
from abonnement.organizations.schemas import (
    OrganizationCreateIn,
    OrganizationList,
    OrganizationOut,
    OrganizationPatchIn,
    VatNumberTransferIn,
    VatNumberTransferOut,
    organization_out,
    vat_number_transfer_out,
)
from abonnement.organizations.selectors import all_organizations

router = Router(tags=["Organisations"])


@router.post(
    "/organizations",
    auth=[vendor_token],
    response=responses({201: OrganizationOut}, write=True),
    summary="Provision an organisation (vendor)",
)
def provision_organization(
    request: HttpRequest, response: HttpResponse, payload: OrganizationCreateIn
) -> Any:
    """The organisation, its administrator (active, both permissions, one licence), its
    subscription and the first period's order. Unless ``admin.invite`` is false, the
    administrator is e-mailed an invitation: a link to choose a password, valid 7 days."""
    caller = caller_of(request)
    channel = payload.purchase_channel.model_dump() if payload.purchase_channel else None
    organization = services.provision_organization(
        name=payload.name,
        vat_number=payload.vat_number,
        country=payload.country,
        currency=payload.currency,
        language=payload.language,
        edition=payload.edition,
        licenses=payload.licenses,
        period_months=payload.period_months,
        start_date=payload.start_date,
        purchase_channel=channel,
        admin_email=payload.admin.email,
        admin_name=payload.admin.name,
        admin_invite=payload.admin.invite,
        actor=caller.actor,
        now=caller.now,
    )
    return created(request, response, organization.pk, organization_out(organization))


@router.get(
    "/organizations",
    auth=[vendor_token],
    response=responses({200: OrganizationList}),
    summary="List organisations (vendor)",
)
def list_organizations(request: HttpRequest, page: Query[PageQuery]) -> Any:
    caller = caller_of(request)
    return paginate(
        all_organizations(actor=caller.actor),
        fields=("created_at", "id"),
        limit=page.limit,
        cursor=page.cursor,
        present=organization_out,
    )


@router.get(
    "/organizations/{org}",
    response=responses({200: OrganizationOut}),
    summary="Read an organisation",
)
def get_organization(request: HttpRequest, org: str) -> Any:
    _caller, organization = organization_for(request, org, permission="manage_subscription")
    return organization_out(organization)


@router.patch(
    "/organizations/{org}",
    response=responses({200: OrganizationOut}, write=True),
    summary="Rename an organisation or set its purchase channel",
)
def update_organization(request: HttpRequest, org: str, payload: OrganizationPatchIn) -> Any:
    """``name``: organisation administrators too. ``purchase_channel``: vendor only."""
    caller, organization = organization_for(request, org, permission="manage_subscription")
    changes = patched_fields(payload)
    updated = services.update_organization(
        organization=organization, actor=caller.actor, now=caller.now, **changes
    )
    return organization_out(updated)


@router.put(
    "/organizations/{org}/vat-number",
    response=responses({200: VatNumberTransferOut}, write=True),
    summary="Transfer the VAT number (vendor)",
)
def transfer_vat_number(request: HttpRequest, org: str, payload: VatNumberTransferIn) -> Any:
    """Records a VAT-number change with its contract-transfer document (a PDF)."""
    caller, organization = organization_for(request, org)
    # Vendor-only before the document is read: a refused caller learns nothing of the body.
    permissions.require_vendor_or_staff(caller.actor, billing_role=True)
    document, not_base64 = _document_of(payload.contract_transfer_document)
    try:
        change = services.transfer_vat_number(
            organization=organization,
            vat_number=payload.vat_number,
            effective_date=payload.effective_date,
            # Undecodable, the service gets no document: it always refuses that, after
            # collecting the errors of the other fields; ours then replaces its message.
            document=b"" if not_base64 else document,
            document_name=payload.document_name,
            actor=caller.actor,
            now=caller.now,
        )
    except ValidationFailed as refused:
        if not_base64:
            refused.errors = _with_document_error(refused.errors, not_base64)
        raise
    return vat_number_transfer_out(change)


def _document_of(encoded: str) -> tuple[bytes, FieldError | None]:
    try:
        return base64.b64decode("".join(encoded.split()), validate=True), None
    except (binascii.Error, ValueError):
        return b"", FieldError(
            "contract_transfer_document", _("Give the document as base64-encoded PDF.")
        )


def _with_document_error(errors: list[FieldError], document_error: FieldError) -> list[FieldError]:
    """The service's errors, with ``document_error`` in place of its own on the document."""
    merged: list[FieldError] = []
    for error in errors:
        if error.field != document_error.field:
            merged.append(error)
        elif document_error not in merged:
            merged.append(document_error)
    if document_error not in merged:
        merged.append(document_error)
    return merged
