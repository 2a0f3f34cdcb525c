"""Formatting for the back office: money, days and instants in the staff member's language."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from django import forms, template
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from abonnement.core import clock
from abonnement.core.money import format_money

register = template.Library()

# English in Europe: day-month-year dates and € before the amount.
LOCALES = {"en": "en_GB", "nl": "nl_NL", "fi": "fi_FI"}


def _locale() -> str:
    return LOCALES.get((get_language() or "en").split("-")[0], "en_GB")


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    return "" if amount is None else format_money(amount, currency, _locale())


@register.filter
def number(value: Any) -> str:
    return "" if value is None or value == "" else format_decimal(value, locale=_locale())


@register.filter
def day(value: date | datetime | None) -> str:
    """A calendar day; an instant is shown as its day in the business time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = clock.business_date(value)
    return format_date(value, format="medium", locale=_locale())


@register.filter
def moment(value: datetime | None) -> str:
    """An instant as date and time in the business time zone."""
    if value is None:
        return ""
    local = value.astimezone(clock.business_zone())
    return (
        f"{format_date(local.date(), 'medium', locale=_locale())} "
        f"{format_time(local.time(), 'short', locale=_locale())}"
    )


@register.simple_tag
def control(bound: forms.BoundField, **attrs: Any) -> SafeString:
    """The widget with its help text and error wired up for assistive technology."""
    described = []
    if bound.help_text:
        described.append(f"{bound.auto_id}_help")
    if bound.errors:
        described.append(f"{bound.auto_id}_error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return SafeString(bound.as_widget(attrs=attrs))


@register.simple_tag(takes_context=True)
def query(context: Any, *pairs: Any, **changes: Any) -> str:
    """The current query string with changes applied (for pagination and filters).

    Changes come as keywords or as ``name value`` pairs (for a name held in a variable);
    an empty value removes the parameter.
    """
    params = context["request"].GET.copy()
    updates = dict(zip(pairs[::2], pairs[1::2], strict=True))
    updates.update(changes)
    for key, value in updates.items():
        if value in (None, ""):
            params.pop(str(key), None)
        else:
            params[str(key)] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
