"""Billing details as the API shows them and accepts them."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field, StrictBool

from abonnement.billing.selectors import BillingDetailsView
from abonnement.core.schemas import ApiInput


class ContactOut(Schema):
    user_id: str | None
    name: str
    email: str
    inactive: bool = Field(
        description="The contact user is deactivated: mail goes to the subscription "
        "administrators until a new contact is chosen."
    )


class AddressOut(Schema):
    street: str
    postal_code: str
    city: str
    country: str


class EInvoicingOut(Schema):
    enabled: bool
    address: str
    operator_code: str
    operator_name: str | None


class BillingDetailsOut(Schema):
    company_name: str
    vat_number: str
    contact: ContactOut
    cc: list[str]
    address: AddressOut
    reference: str
    invoice_language: str
    e_invoicing: EInvoicingOut


def billing_details_out(view: BillingDetailsView) -> dict[str, Any]:
    details = view.details
    return {
        "company_name": view.company_name,
        "vat_number": view.vat_number,
        "contact": {
            "user_id": None if details.contact_user_id is None else str(details.contact_user_id),
            "name": view.contact_name,
            "email": view.contact_email,
            "inactive": view.contact_inactive,
        },
        "cc": list(details.cc),
        "address": {
            "street": details.street,
            "postal_code": details.postal_code,
            "city": details.city,
            "country": details.country,
        },
        "reference": details.reference,
        "invoice_language": details.invoice_language,
        "e_invoicing": {
            "enabled": details.einvoice_enabled,
            "address": details.einvoice_address,
            "operator_code": details.einvoice_operator,
            "operator_name": view.operator_name,
        },
    }


class ContactIn(ApiInput):
    user_id: str | None = Field(default=None, description="One of the organisation's users…")
    name: str | None = Field(default=None, description="…or a name and an e-mail address.")
    email: str | None = None


class AddressIn(ApiInput):
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""


class EInvoicingIn(ApiInput):
    enabled: StrictBool = False
    address: str = ""
    operator_code: str = ""


class BillingDetailsIn(ApiInput):
    """The whole billing details (PUT). ``company_name``, ``vat_number`` and
    ``operator_name`` are read-only: sending them is a 422 that says where they change."""

    company_name: str | None = Field(
        default=None,
        description="Read-only: changed in the company settings. Sending it is a 422.",
        json_schema_extra={"readOnly": True},
    )
    vat_number: str | None = Field(
        default=None,
        description="Read-only: changed by customer service (PUT …/vat-number). Sending it is "
        "a 422.",
        json_schema_extra={"readOnly": True},
    )
    operator_name: str | None = Field(
        default=None,
        description="Read-only: follows from the operator code. Sending it is a 422.",
        json_schema_extra={"readOnly": True},
    )
    contact: ContactIn | None = None
    cc: list[str] = Field(default_factory=list)
    address: AddressIn | None = None
    reference: str = ""
    invoice_language: str = Field(default="", examples=["en"])
    e_invoicing: EInvoicingIn | None = None
