from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CompanyNameForm(forms.Form):
    name = forms.CharField(
        label=_("Company name"),
        required=False,
        max_length=1000,
        help_text=_("Shown on order confirmations and invoices from now on."),
    )
