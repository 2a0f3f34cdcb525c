from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class FeatureSwitchForm(forms.Form):
    enabled = forms.ChoiceField(choices=[("on", _("On")), ("off", _("Off"))])
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=500,
        help_text=_("Shown in the action history."),
    )

    @property
    def switch_on(self) -> bool:
        return self.cleaned_data["enabled"] == "on"
