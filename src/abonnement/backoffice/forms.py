"""Back-office forms. They only parse what people type; the services judge it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device

from abonnement.accounts import ratelimit
from abonnement.accounts.forms import SignInForm
from abonnement.accounts.models import User
from abonnement.backoffice import mfa
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


SECOND_FACTOR = "second-factor"


class SecondFactorForm(forms.Form):
    """The code of the sign-in's second step (or of the enrolment). Wrong codes are limited
    as passwords are (``accounts.ratelimit``, per account and per client address, the same
    numbers) on counters of their own, so a correct password does not clear them."""

    code = forms.CharField(label=_("Code"), max_length=40)

    error_messages = {
        "rate_limited": _("Too many wrong codes. Wait %(minutes)d minutes and try again."),
    }

    def __init__(self, request: HttpRequest, *, user: User, enrolment: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.request = request
        self.user = user
        self.is_enrolment = enrolment
        self.device: Device | None = None
        self.enrolment: mfa.Enrolment | None = None
        field = self.fields["code"]
        field.widget.attrs.update({"autocomplete": "one-time-code", "autofocus": True})
        if enrolment:
            field.label = _("Code from the app")
            field.help_text = _("The 6-digit code the app shows for this account.")
            field.widget.attrs.update({"inputmode": "numeric"})
        else:
            field.label = _("Code")
            field.help_text = _(
                "The 6-digit code from your authenticator app, or one of your recovery codes."
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        code = cleaned.get("code")
        if not code:
            return cleaned
        email, address = self.user.email, ratelimit.client_address(self.request)
        # Reserved before the code is checked, as a password is: over the limit, no check.
        if not ratelimit.reserve_attempt(email=email, address=address, purpose=SECOND_FACTOR):
            raise ValidationError(
                self.error_messages["rate_limited"],
                code="rate_limited",
                params={"minutes": ratelimit.window_minutes()},
            )
        try:
            if self.is_enrolment:
                self.enrolment = mfa.confirm_enrolment(user=self.user, code=code)
                self.device = self.enrolment.device
            else:
                self.device = mfa.verify_second_factor(user=self.user, code=code)
        except mfa.TooManyWrongCodes as error:
            self.add_error("code", ValidationError(error.message, code="rate_limited"))
        except mfa.WrongCode as error:
            # The reservation stays: it is the failure.
            self.add_error("code", ValidationError(error.message, code="wrong_code"))
        else:
            ratelimit.release_attempt(email=email, address=address, purpose=SECOND_FACTOR)
        return cleaned


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
