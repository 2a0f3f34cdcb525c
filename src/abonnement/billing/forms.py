"""The billing-details form only parses; every rule is checked by the service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from abonnement.billing.models import BillingDetails
from abonnement.billing.validators import _country_codes
from abonnement.core.templatetags.portal import country_name

# The service's dotted field names → this form's fields.
FIELDS = {
    "contact.user_id": "contact_user",
    "contact.name": "contact_name",
    "contact.email": "contact_email",
    "address.street": "street",
    "address.postal_code": "postal_code",
    "address.city": "city",
    "address.country": "country",
    "e_invoicing.enabled": "einvoice_enabled",
    "e_invoicing.address": "einvoice_address",
    "e_invoicing.operator_code": "einvoice_operator",
}


def country_choices() -> list[tuple[str, str]]:
    return sorted(((code, country_name(code)) for code in _country_codes()), key=lambda c: c[1])


class BillingDetailsForm(forms.Form):
    contact_kind = forms.ChoiceField(
        label=_("Billing contact"),
        choices=[("user", _("One of our users")), ("other", _("Someone else"))],
        widget=forms.RadioSelect,
    )
    contact_user = forms.ChoiceField(label=_("User"), required=False)
    contact_name = forms.CharField(label=_("Name"), required=False)
    contact_email = forms.CharField(
        label=_("E-mail address"), required=False, widget=forms.EmailInput
    )
    cc = forms.CharField(
        label=_("Copies to"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Extra e-mail addresses that get a copy, one per line (at most 10)."),
    )
    street = forms.CharField(label=_("Street address"), required=False)
    postal_code = forms.CharField(label=_("Postal code"), required=False)
    city = forms.CharField(label=_("City"), required=False)
    country = forms.ChoiceField(label=_("Country"), required=False)
    reference = forms.CharField(
        label=_("Your reference"),
        required=False,
        help_text=_("Printed on every invoice, for example a cost centre or order number."),
    )
    invoice_language = forms.ChoiceField(
        label=_("Invoice language"),
        choices=[("en", "English"), ("nl", "Nederlands"), ("fi", "Suomi")],
    )
    einvoice_enabled = forms.BooleanField(label=_("Send invoices as e-invoices"), required=False)
    einvoice_address = forms.CharField(
        label=_("E-invoice address"),
        required=False,
        help_text=_("An OVT code (0037…) or a Peppol identifier such as 0216:…, 0106:… or 0208:…."),
    )
    einvoice_operator = forms.CharField(
        label=_("Operator code"),
        required=False,
        help_text=_(
            "The operator's (intermediator's) code, for example 003723327487 or a bank BIC."
        ),
    )

    def __init__(self, *args: Any, users: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_user"].choices = [("", _("Choose a user"))] + [  # type: ignore[attr-defined]
            (str(u.pk), f"{u.display_name} <{u.email}>") for u in users
        ]
        self.fields["country"].choices = [("", _("Choose a country")), *country_choices()]  # type: ignore[attr-defined]

    @staticmethod
    def initial_from(details: BillingDetails) -> dict[str, Any]:
        return {
            "contact_kind": "user" if details.contact_user_id else "other",
            "contact_user": str(details.contact_user_id or ""),
            "contact_name": details.contact_name,
            "contact_email": details.contact_email,
            "cc": "\n".join(details.cc),
            "street": details.street,
            "postal_code": details.postal_code,
            "city": details.city,
            "country": details.country,
            "reference": details.reference,
            "invoice_language": details.invoice_language,
            "einvoice_enabled": details.einvoice_enabled,
            "einvoice_address": details.einvoice_address,
            "einvoice_operator": details.einvoice_operator,
        }

    def service_data(self) -> dict[str, Any]:
        """The body ``update_billing_details`` takes (the API's PUT body)."""
        data = self.cleaned_data
        if data["contact_kind"] == "user":
            # No user picked: an id that matches nobody, so the service says "choose a user".
            contact: dict[str, Any] = {"user_id": data["contact_user"] or "0"}
        else:
            contact = {"name": data["contact_name"], "email": data["contact_email"]}
        return {
            "contact": contact,
            "cc": [line.strip() for line in data["cc"].splitlines() if line.strip()],
            "address": {
                "street": data["street"],
                "postal_code": data["postal_code"],
                "city": data["city"],
                "country": data["country"],
            },
            "reference": data["reference"],
            "invoice_language": data["invoice_language"],
            "e_invoicing": {
                "enabled": data["einvoice_enabled"],
                "address": data["einvoice_address"],
                "operator_code": data["einvoice_operator"],
            },
        }
