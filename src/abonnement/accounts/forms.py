from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from abonnement.accounts import ratelimit
from abonnement.accounts.models import Permission
from abonnement.accounts.permissions import PERMISSION_LABELS


def permission_choices() -> list[tuple[str, Any]]:
    return [(p.value, PERMISSION_LABELS[p]) for p in Permission]


class SignInForm(AuthenticationForm):
    """E-mail and password, with failed attempts limited per account and per address."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "The e-mail address or password is not right. Check both and try again."
        ),
        "rate_limited": _(
            "Too many failed sign-in attempts. Wait %(minutes)d minutes and try again."
        ),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("E-mail address")
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "type": "email", "autofocus": True}
        )
        self.fields["password"].label = _("Password")

    def _address(self) -> str:
        return "" if self.request is None else ratelimit.client_address(self.request)

    def clean(self) -> dict[str, Any]:
        email = str(self.cleaned_data.get("username") or "")
        if not email or not self.cleaned_data.get("password"):
            return super().clean()  # a missing field is reported by the field; no check
        address = self._address()
        # Reserve the attempt before the password is checked: over the limit, no check at
        # all, however many guesses arrive at once.
        if not ratelimit.reserve_attempt(email=email, address=address):
            raise ValidationError(
                self.error_messages["rate_limited"],
                code="rate_limited",
                params={"minutes": ratelimit.window_minutes()},
            )
        cleaned = super().clean()  # a failure keeps the reservation: it is the failure
        if self.user_cache is not None:
            ratelimit.release_attempt(email=email, address=address)
        return cleaned


class ProfileForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[
            ("", _("Same as my browser")),
            ("en", "English"),
            ("nl", "Nederlands"),
            ("fi", "Suomi"),
        ],
        help_text=_("The language of the portal's texts, dates and amounts."),
    )


class UserForm(forms.Form):
    # Only parsing here: the service checks name and e-mail and reports both at once.
    name = forms.CharField(label=_("Name"), required=False, max_length=1000)
    email = forms.CharField(
        label=_("E-mail address"), required=False, max_length=1000, widget=forms.EmailInput
    )
    permissions = forms.MultipleChoiceField(
        label=_("Permissions"),
        required=False,
        choices=permission_choices,
        widget=forms.CheckboxSelectMultiple,
    )
    buy_license = forms.BooleanField(label=_("Buy one user licence"), required=False)
    invite = forms.BooleanField(
        label=_("Send an invitation by e-mail"),
        required=False,
        initial=True,
        help_text=_("A link to choose a password, valid for 7 days."),
    )


class UserEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), required=False, max_length=1000)
    permissions = forms.MultipleChoiceField(
        label=_("Permissions"),
        required=False,
        choices=permission_choices,
        widget=forms.CheckboxSelectMultiple,
    )


class DeactivateForm(forms.Form):
    license = forms.ChoiceField(
        label=_("The user's licence"),
        choices=[("keep", _("Keep")), ("remove", _("Remove"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what happens to the licence.")},
    )


class ReactivateForm(forms.Form):
    buy_license = forms.BooleanField(label=_("Buy one user licence"), required=False)


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("Say where the token is used, for example “Payroll sync”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Access"),
        choices=[("read", _("Read")), ("write", _("Write"))],
        widget=forms.CheckboxSelectMultiple,
        initial=["read"],
        error_messages={"required": _("Choose read, write or both.")},
    )


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        error_messages={
            "required": _("Enter your e-mail address."),
            "invalid": _("Enter an e-mail address such as name@example.com."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class ChoosePasswordForm(forms.Form):
    """Only parsing: the service applies the password validators and compares the two."""

    password = forms.CharField(
        label=_("New password"),
        required=False,
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
        help_text=_("At least 10 characters, not only digits, and not a common password."),
    )
    password_again = forms.CharField(
        label=_("The same password again"),
        required=False,
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
