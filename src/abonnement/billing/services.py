"""Billing details: validated as a whole, saved as a whole (Rule 14), with history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from abonnement.accounts import permissions
from abonnement.accounts.models import Permission, User
from abonnement.billing import validators
from abonnement.billing.models import BillingDetails
from abonnement.core.actor import Actor
from abonnement.core.errors import FieldErrors, ValidationFailed
from abonnement.history.models import HistoryKind
from abonnement.history.services import record
from abonnement.organizations.models import Organization

# Lazy: translated into the language of the request that shows them, not at import.
READ_ONLY = {
    "company_name": gettext_lazy("The company name is changed in Settings › Company settings."),
    "vat_number": gettext_lazy(
        "A VAT-number change needs a contract transfer document; customer service makes it."
    ),
    "operator_name": gettext_lazy("The operator's name follows from the operator code."),
}
MAX_CC = 10


def _snapshot(details: BillingDetails) -> dict[str, Any]:
    return {
        "contact_user_id": details.contact_user_id,
        "contact_name": details.contact_name,
        "contact_email": details.contact_email,
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
        },
    }


def _run(errors: FieldErrors, func: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return func(*args, **kwargs)
    except ValidationFailed as error:
        errors.errors.extend(error.errors)
        return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@transaction.atomic(durable=True)
def update_billing_details(
    *, organization: Organization, data: dict[str, Any], actor: Actor, now: datetime
) -> BillingDetails:
    """Replace the billing details with ``data`` (the API's PUT body, the portal's form).

    Every field is checked before anything is saved; all errors are reported at once. A
    marketplace-managed organisation's details change only through the vendor (Rule 6):
    anyone else gets ``ManagedByMarketplace`` and nothing changes. Saved details always
    name the invoice address, so the orders whose invoices waited for it are invoiced
    after commit.
    """
    errors = FieldErrors()
    for field, message in READ_ONLY.items():
        if field in data:
            errors.add(field, str(message))
    if errors:
        raise ValidationFailed(errors.errors, _("These fields cannot be changed here."))
    permissions.require(actor, organization, Permission.MANAGE_SUBSCRIPTION)
    permissions.ensure_not_marketplace(actor, organization)

    contact = _object(data.get("contact"))
    contact_user = None
    contact_name = ""
    contact_email = ""
    user_id = contact.get("user_id")
    if user_id not in (None, ""):
        try:
            contact_user = User.objects.get(pk=int(str(user_id)), organization=organization)
        except (User.DoesNotExist, ValueError):
            errors.add("contact.user_id", _("Choose one of your organisation's users."))
        else:
            if not contact_user.is_active:
                errors.add("contact.user_id", _("This user is inactive; choose an active user."))
    else:
        contact_name = (
            _run(
                errors,
                validators.clean_text,
                _text(contact.get("name")),
                "contact.name",
                required=True,
                max_length=200,
            )
            or ""
        )
        contact_email = (
            _run(
                errors,
                validators.validate_email_address,
                _text(contact.get("email")),
                "contact.email",
            )
            or ""
        )

    cc_raw = data.get("cc", [])
    cc: list[str] = []
    if not isinstance(cc_raw, list):
        errors.add("cc", _("Give a list of e-mail addresses."))
    elif len(cc_raw) > MAX_CC:
        errors.add("cc", _("Give at most %(max)d copy recipients.") % {"max": MAX_CC})
    else:
        for index, address in enumerate(cc_raw):
            clean = _run(errors, validators.validate_email_address, _text(address), f"cc.{index}")
            if clean and clean.casefold() not in {a.casefold() for a in cc}:
                cc.append(clean)  # one copy per mailbox, however its address is spelt

    address = _object(data.get("address"))
    street = _run(
        errors,
        validators.clean_text,
        _text(address.get("street")),
        "address.street",
        required=True,
        max_length=200,
    )
    postal_code = _run(
        errors,
        validators.clean_text,
        _text(address.get("postal_code")),
        "address.postal_code",
        required=True,
        max_length=20,
    )
    city = _run(
        errors,
        validators.clean_text,
        _text(address.get("city")),
        "address.city",
        required=True,
        max_length=100,
    )
    country = _run(
        errors, validators.validate_country, _text(address.get("country")), "address.country"
    )
    if postal_code and country:
        postal_code = _run(
            errors, validators.validate_postal_code, postal_code, country, "address.postal_code"
        )
    reference = _run(
        errors,
        validators.clean_text,
        _text(data.get("reference")),
        "reference",
        required=False,
        max_length=100,
    )
    language = _run(
        errors,
        validators.validate_language,
        _text(data.get("invoice_language")),
        "invoice_language",
    )

    einvoicing = _object(data.get("e_invoicing"))
    enabled = einvoicing.get("enabled", False)
    if not isinstance(enabled, bool):
        errors.add("e_invoicing.enabled", _("Give true or false."))
        enabled = False
    raw_address = _text(einvoicing.get("address")).strip()
    raw_operator = _text(einvoicing.get("operator_code")).strip()
    einvoice_address = ""
    einvoice_operator = ""
    if raw_address:
        einvoice_address = (
            _run(errors, validators.validate_einvoice_address, raw_address, "e_invoicing.address")
            or ""
        )
    elif enabled:
        errors.add("e_invoicing.address", _("Give the e-invoice address to switch e-invoicing on."))
    if raw_operator:
        einvoice_operator = (
            _run(
                errors, validators.validate_operator_code, raw_operator, "e_invoicing.operator_code"
            )
            or ""
        )
    elif enabled:
        errors.add(
            "e_invoicing.operator_code", _("Give the operator code to switch e-invoicing on.")
        )
    errors.raise_if_any()

    details = BillingDetails.objects.select_for_update(no_key=True).get(organization=organization)
    before = _snapshot(details)
    details.contact_user = contact_user
    details.contact_name = contact_name
    details.contact_email = contact_email
    details.cc = cc
    details.street = street
    details.postal_code = postal_code
    details.city = city
    details.country = country
    details.reference = reference or ""
    details.invoice_language = language
    details.einvoice_enabled = enabled
    details.einvoice_address = einvoice_address
    details.einvoice_operator = einvoice_operator
    after = _snapshot(details)
    if after != before:
        details.updated_at = now
        details.save()
        changed = sorted(k for k in after if after[k] != before[k])
        record(
            organization_id=organization.pk,
            actor=actor,
            now=now,
            kind=HistoryKind.BILLING,
            action="billing_details_changed",
            subject=", ".join(changed),
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    if details.has_invoice_address:
        from abonnement.invoicing.services import invoice_held_orders_on_commit

        invoice_held_orders_on_commit(organization_id=organization.pk)
    return details
