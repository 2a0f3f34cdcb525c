"""Organisations as the API shows them and accepts them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field, StrictBool, StrictInt

from abonnement.core.schemas import ApiInput, Omitted
from abonnement.organizations.models import Organization, VatNumberChange


class PurchaseChannelOut(Schema):
    type: Literal["direct", "marketplace"]
    name: str | None = Field(description="The marketplace's name (marketplace only).")
    url: str | None = Field(description="Where the subscription is changed (marketplace only).")


class OrganizationOut(Schema):
    id: str
    name: str
    vat_number: str
    country: str
    currency: str
    language: str
    purchase_channel: PurchaseChannelOut
    managed_by_marketplace: bool
    created_at: datetime


class OrganizationList(Schema):
    data: list[OrganizationOut]
    next_cursor: str | None


def purchase_channel_out(organization: Organization) -> dict[str, Any]:
    return {
        "type": organization.purchase_channel,
        "name": organization.marketplace_name or None,
        "url": organization.marketplace_url or None,
    }


def organization_out(organization: Organization) -> dict[str, Any]:
    return {
        "id": str(organization.pk),
        "name": organization.name,
        "vat_number": organization.vat_number,
        "country": organization.country,
        "currency": organization.currency,
        "language": organization.language,
        "purchase_channel": purchase_channel_out(organization),
        "managed_by_marketplace": organization.managed_by_marketplace,
        "created_at": organization.created_at,
    }


class PurchaseChannelIn(ApiInput):
    type: Literal["direct", "marketplace"]
    name: str | None = Field(default=None, description="Required for a marketplace.")
    url: str | None = Field(default=None, description="Required for a marketplace.")


class AdminIn(ApiInput):
    email: str
    name: str
    invite: StrictBool = Field(
        default=True,
        description="E-mail the administrator an invitation (a link to choose a password, "
        "valid 7 days).",
    )


class OrganizationCreateIn(ApiInput):
    name: str
    vat_number: str
    country: str = Field(examples=["FI"])
    currency: str = Field(examples=["EUR"])
    language: str = Field(examples=["en"])
    edition: str
    licenses: StrictInt
    period_months: Literal[1, 3, 6, 12]
    start_date: date | None = Field(default=None, description="Default: today.")
    purchase_channel: PurchaseChannelIn | None = Field(
        default=None, description='Default: {"type": "direct"}.'
    )
    admin: AdminIn


class OrganizationPatchIn(ApiInput):
    name: str | Omitted = Field(default=None, description="Organisation administrators too.")
    purchase_channel: PurchaseChannelIn | Omitted = Field(default=None, description="Vendor only.")


class VatNumberTransferIn(ApiInput):
    vat_number: str
    effective_date: date
    contract_transfer_document: str = Field(
        description="The signed contract-transfer document: a PDF of at most 10 MB, base64."
    )
    document_name: str = Field(examples=["contract-transfer.pdf"])


class VatNumberTransferOut(Schema):
    organization_id: str
    vat_number: str
    previous_vat_number: str
    effective_date: date
    document_name: str
    document_size: int
    recorded_at: datetime


def vat_number_transfer_out(change: VatNumberChange) -> dict[str, Any]:
    return {
        "organization_id": str(change.organization_id),
        "vat_number": change.new_vat_number,
        "previous_vat_number": change.old_vat_number,
        "effective_date": change.effective_date,
        "document_name": change.document_name,
        "document_size": len(change.document),
        "recorded_at": change.recorded_at,
    }
