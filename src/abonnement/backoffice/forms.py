"""Back-office forms. They only parse what people type; the services judge it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from abonnement.accounts.forms import SignInForm
from abonnement.catalog.models import Edition
from abonnement.organizations.models import PurchaseChannel


class StaffSignInForm(SignInForm):
    """The portal's sign-in (same rate limits) for staff accounts; customers are sent away."""

    error_messages = {
        **SignInForm.error_messages,
        "not_staff": _(
            "This sign-in is for the vendor's customer service. Customers sign in to the portal."
        ),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        from abonnement.backoffice.access import staff_of

        super().confirm_login_allowed(user)
        if staff_of(user) is None:
            raise ValidationError(self.error_messages["not_staff"], code="not_staff")


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find an organisation"),
        required=False,
        max_length=200,
        help_text=_("Name, VAT number, organisation id or a user's e-mail address."),
    )


def edition_choices() -> list[tuple[str, str]]:
    return [(e.code, e.name) for e in Edition.objects.order_by("position", "code")]


class EditionForm(forms.Form):
    # Any code is passed on (a select, not a choice field): the service says whether the
    # edition exists, so the refusal reads the same here as in the API.
    edition = forms.CharField(label=_("Edition for the next period"), widget=forms.Select)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["edition"].widget.choices = edition_choices()


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("schedule", _("Schedule")), ("decline", _("Decline"))],
        error_messages={"required": _("Choose Schedule or Decline.")},
    )
    response = forms.CharField(
        label=_("Message to the customer"),
        help_text=_("Shown with the request in the customer's portal. Required when declining."),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class PurchaseChannelForm(forms.Form):
    type = forms.ChoiceField(
        label=_("Purchase channel"),
        choices=[
            (PurchaseChannel.DIRECT.value, _("Direct")),
            (PurchaseChannel.MARKETPLACE.value, _("Partner marketplace")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose direct or a partner marketplace.")},
    )
    name = forms.CharField(label=_("Marketplace name"), required=False, strip=False)
    url = forms.CharField(
        label=_("Marketplace link"),
        required=False,
        strip=False,
        help_text=_("Where the customer manages the subscription, e.g. https://…"),
        widget=forms.URLInput(attrs={"inputmode": "url"}),
    )

    FIELDS = {
        "purchase_channel": "type",
        "purchase_channel.type": "type",
        "purchase_channel.name": "name",
        "purchase_channel.url": "url",
    }

    def channel(self) -> dict[str, str]:
        data = self.cleaned_data
        if data["type"] == PurchaseChannel.DIRECT:
            return {"type": PurchaseChannel.DIRECT.value}
        return {"type": data["type"], "name": data["name"], "url": data["url"]}


class VatTransferForm(forms.Form):
    vat_number = forms.CharField(label=_("New VAT number"), required=False, strip=False)
    effective_date = forms.DateField(
        label=_("Effective date"),
        required=False,
        help_text=_("Invoices dated from this day carry the new number."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date such as 2027-03-01.")},
    )
    document = forms.FileField(
        label=_("Contract transfer document (PDF, at most 10 MB)"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    FIELDS = {"contract_transfer_document": "document", "document_name": "document"}


class CreditForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        help_text=_("Printed on the credit note and kept in the history."),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class NextForm(forms.Form):
    """Where to go back to after a button on a list (only this site's own paths)."""

    next = forms.CharField(required=False)
