from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
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
        """The client's address: the peer's, or behind ``TRUSTED_PROXIES`` reverse proxies
        the one the outermost of them saw (the last entries of X-Forwarded-For are the
        proxies' own additions; anything before them the client could have written)."""
        if self.request is None:
            return ""
        meta = self.request.META
        proxies = settings.TRUSTED_PROXIES
        if proxies:
            forwarded = [a.strip() for a in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            forwarded = [a for a in forwarded if a]
            if len(forwarded) >= proxies:
                return forwarded[-proxies]
        return str(meta.get("REMOTE_ADDR", ""))

    def clean(self) -> dict[str, Any]:
        email = str(self.cleaned_data.get("username") or "")
        address = self._address()
        if ratelimit.is_limited(email=email, address=address):
            raise ValidationError(
                self.error_messages["rate_limited"],
                code="rate_limited",
                params={"minutes": ratelimit.window_minutes()},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            ratelimit.record_failure(email=email, address=address)
            raise
        ratelimit.clear_account(email=email)
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
