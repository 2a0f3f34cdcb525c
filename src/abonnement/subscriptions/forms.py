from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

NUMBER_ERRORS = {"invalid": _("Enter a whole number."), "required": _("Enter a whole number.")}


class LicenseForm(forms.Form):
    licenses = forms.IntegerField(
        label=_("Total number of user licences"),
        error_messages=NUMBER_ERRORS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
    )


class StorageForm(forms.Form):
    extra_packs = forms.IntegerField(
        label=_("Bought storage packs"),
        error_messages=NUMBER_ERRORS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
    )


class EditionRequestForm(forms.Form):
    edition = forms.ChoiceField(label=_("Edition you would like"))
    message = forms.CharField(
        label=_("Message to customer service"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example why you need it, or from when."),
    )

    def __init__(self, *args: object, editions: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["edition"].choices = editions  # type: ignore[attr-defined]
