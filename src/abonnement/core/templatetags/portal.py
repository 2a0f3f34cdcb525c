"""Formatting for the portal: money, dates, numbers in the user's language (Babel)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from django import forms, template
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from abonnement.core import clock
from abonnement.core.money import format_money

register = template.Library()

# English in Europe: day-month-year dates and € before the amount.
BABEL_LOCALES = {"en": "en_GB", "nl": "nl_NL", "fi": "fi_FI"}


def babel_locale() -> str:
    language = (get_language() or "en").split("-")[0]
    return BABEL_LOCALES.get(language, "en_GB")


def country_name(code: str) -> str:
    """An ISO 3166 country code as the reader's language names the country ("Alankomaat")."""
    return str(Locale.parse(babel_locale()).territories.get(code.upper(), code))


def language_name(code: str) -> str:
    """A language code as the reader's language names the language ("Finnish", "fins")."""
    return str(Locale.parse(babel_locale()).languages.get(code.lower(), code))


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return ""
    return format_money(amount, currency, babel_locale())


@register.filter
def number(value: Any) -> str:
    if value is None or value == "":
        return ""
    return format_decimal(value, locale=babel_locale())


@register.filter
def day(value: date | datetime | None, style: str = "medium") -> str:
    """A calendar day; an instant is shown as its day in the business time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = clock.business_date(value)
    return format_date(value, format=style, locale=babel_locale())


@register.filter
def moment(value: datetime | None) -> str:
    """An instant as date and time in the business time zone."""
    if value is None:
        return ""
    local = value.astimezone(clock.business_zone())
    locale = babel_locale()
    return f"{format_date(local.date(), 'medium', locale=locale)} " + format_time(
        local.time(), "short", locale=locale
    )


@register.filter
def iso(value: date | datetime | None) -> str:
    return "" if value is None else value.isoformat()


@register.simple_tag
def field(bound: forms.BoundField, **attrs: Any) -> SafeString:
    """The widget with its error and help text wired up for assistive technology."""
    described = []
    if bound.help_text:
        described.append(f"{bound.auto_id}_help")
    if bound.errors:
        described.append(f"{bound.auto_id}_error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return SafeString(bound.as_widget(attrs=attrs))
