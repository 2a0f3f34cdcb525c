"""Billing details as the API shows them and accepts them."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field, StrictBool, model_validator
from pydantic_core import PydanticCustomError

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
    """Either ``user_id`` or ``name`` + ``email`` (API.md): both is a 422 on ``contact``,
    never a silent choice of one. ``null`` counts as not given."""

    user_id: str | None = Field(default=None, description="One of the organisation's users…")
    name: str | None = Field(default=None, description="…or a name and an e-mail address.")
    email: str | None = None

    @model_validator(mode="after")
    def _either_user_or_name_and_email(self) -> ContactIn:
        if self.user_id not in (None, "") and (self.name is not None or self.email is not None):
            raise PydanticCustomError(
                "contact_user_or_address",
                _("Give either user_id, or name and email; not both."),
            )
        return self


class AddressIn(ApiInput):
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""


class EInvoicingIn(ApiInput):
    enabled: StrictBool = False
    address: str = ""
    operator_code: str = ""
    operator_name: str | None = Field(
        default=None,
        description="Read-only: follows from the operator code. Sending it is a 422.",
        json_schema_extra={"readOnly": True},
    )


class BillingDetailsIn(ApiInput):
    """The whole billing details (PUT). ``company_name``, ``vat_number`` and
    ``operator_name`` (top level or in ``e_invoicing``, where GET shows it) are read-only:
    sending them is a 422 that says where they change."""

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


def read_only_fields_sent(payload: BillingDetailsIn) -> list[str]:
    """The read-only fields the body gives, as field paths, in the order of the GET shape."""
    sent: list[str] = [
        name
        for name in ("company_name", "vat_number", "operator_name")
        if name in payload.model_fields_set
    ]
    if payload.e_invoicing is not None and "operator_name" in payload.e_invoicing.model_fields_set:
        sent.append("e_invoicing.operator_name")
    return sent
