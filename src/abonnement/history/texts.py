"""Display texts for what the system stores in English: the names system processes act
under, the reasons it records, where a delivery went. They are stored in English because a
background worker has no reader, and translated here, when shown. Rows written before that
was so hold the text in the language of whoever triggered the change; the catalogues
recognise those too."""

from __future__ import annotations

import functools
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from abonnement.invoicing.selectors import DeliveryView

# The English text as stored → its translation.
SYSTEM_REASONS: dict[str, Promise] = {
    "Scheduled edition change at the period boundary": gettext_lazy(
        "Scheduled edition change at the period boundary"
    ),
    "Licence kept": gettext_lazy("Licence kept"),
    "Licence removed from the next period": gettext_lazy("Licence removed from the next period"),
}
SYSTEM_ACTORS: dict[str, Promise] = {
    "Period rollover": pgettext_lazy("system actor", "Period rollover"),
    "Documents": pgettext_lazy("system actor", "Documents"),
    "Demo provisioning": pgettext_lazy("system actor", "Demo provisioning"),
    "Scheduled job": pgettext_lazy("system actor", "Scheduled job"),
    "Operator (command line)": pgettext_lazy("system actor", "Operator (command line)"),
}


@functools.cache
def _originals(kind: str) -> dict[str, str]:
    """Every language's wording of the texts of ``kind`` (also without a context, as they
    were once stored) → the English."""
    texts = SYSTEM_ACTORS if kind == "actors" else SYSTEM_REASONS
    found = {text: text for text in texts}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for text, translated in texts.items():
                found.setdefault(str(translated), text)
                found.setdefault(translation.gettext(text), text)
    return found


def _known(value: str, kind: str) -> str | None:
    original = _originals(kind).get(value.strip())
    if original is None:
        return None
    texts = SYSTEM_ACTORS if kind == "actors" else SYSTEM_REASONS
    return str(texts[original])


def system_actor_name(name: str) -> str:
    """The name a system process acts under, in the reader's language; any other name (a
    person, an API token) as it is."""
    return _known(name, "actors") or name


_OUTBOX = re.compile(r"(?P<address>.+) via (?P<operator>.+) \(outbox\)")
_OUTBOX_AGAIN = re.compile(r"outbox .+ \(already there\)")


def destination_text(destination: str) -> str:
    """Where a delivery went, in the reader's language. The outbox adapter
    (``abonnement.invoicing.delivery``) records it in English; an e-mail delivery records
    the addresses alone."""
    if match := _OUTBOX.fullmatch(destination):
        return _("%(address)s through operator %(operator)s (outbox)") % match.groupdict()
    if _OUTBOX_AGAIN.fullmatch(destination):
        return _("already in the outbox")
    return destination


def system_reason(reason: str) -> str:
    """A reason the system records, in the reader's language; a person's reason as it is."""
    return _known(reason, "reasons") or reason


def delivery_text(delivery: DeliveryView) -> str:
    """How and where a document was sent, in the reader's language."""
    if delivery.channel == "e_invoice":
        if _OUTBOX_AGAIN.fullmatch(delivery.to):
            return _("As an e-invoice, already in the outbox")
        if delivery.to:
            return _("As an e-invoice to %(to)s") % {"to": destination_text(delivery.to)}
        return _("As an e-invoice")
    if delivery.to:
        return _("By e-mail to %(to)s") % {"to": delivery.to}
    return _("By e-mail")


# --------------------------------------------------------------------------- stored values

# The fields history entries store before and after a change, as the reader sees them.
FIELD_LABELS: dict[str, Promise] = {
    "active": gettext_lazy("Active"),
    "address": gettext_lazy("Invoice address"),
    "admin": gettext_lazy("Administrator"),
    "cc": gettext_lazy("Copy recipients"),
    "channel": gettext_lazy("Channel"),
    "city": gettext_lazy("City"),
    "contact_email": gettext_lazy("Contact e-mail"),
    "contact_name": gettext_lazy("Contact name"),
    "contact_user_id": gettext_lazy("Contact user"),
    "country": gettext_lazy("Country"),
    "currency": gettext_lazy("Currency"),
    "current": gettext_lazy("Current period"),
    "deadline": gettext_lazy("Deadline"),
    "delivery_id": gettext_lazy("Delivery"),
    "destination": gettext_lazy("Destination"),
    "due_date": gettext_lazy("Due date"),
    "e_invoicing": gettext_lazy("E-invoicing"),
    "edition": gettext_lazy("Edition"),
    "email": gettext_lazy("E-mail address"),
    "enabled": gettext_lazy("Switched on"),
    "end": gettext_lazy("End"),
    "invoice_language": gettext_lazy("Invoice language"),
    "issue_date": gettext_lazy("Issue date"),
    "kind": gettext_lazy("Kind"),
    "language": gettext_lazy("Language"),
    "license": gettext_lazy("Licence"),
    "licenses": gettext_lazy("User licences"),
    "lines": gettext_lazy("Lines"),
    "name": gettext_lazy("Name"),
    "net_total": gettext_lazy("Net total"),
    "next": gettext_lazy("Next period"),
    "next_edition": gettext_lazy("Edition of the next period"),
    "next_start": gettext_lazy("Next period starts"),
    "number": gettext_lazy("Number"),
    "operator_code": gettext_lazy("Operator code"),
    "order_number": gettext_lazy("Order number"),
    "payment_reference": gettext_lazy("Payment reference"),
    "period": gettext_lazy("Period"),
    "period_end": gettext_lazy("Period end"),
    "period_months": gettext_lazy("Period length in months"),
    "period_price": gettext_lazy("Period price"),
    "permissions": gettext_lazy("Permissions"),
    "postal_code": gettext_lazy("Postal code"),
    "prefix": gettext_lazy("Token prefix"),
    "purchase_channel": gettext_lazy("Purchase channel"),
    "reference": gettext_lazy("Your reference"),
    "request_id": gettext_lazy("Request"),
    "requested_edition": gettext_lazy("Requested edition"),
    "response": gettext_lazy("Response"),
    "scopes": gettext_lazy("Scopes"),
    "start": gettext_lazy("Start"),
    "status": gettext_lazy("Status"),
    "storage_packs": gettext_lazy("Storage packs"),
    "street": gettext_lazy("Street"),
    "total": gettext_lazy("Total"),
    "type": gettext_lazy("Type"),
    "vat_category": gettext_lazy("VAT category"),
    "vat_number": gettext_lazy("VAT number"),
    "vat_total": gettext_lazy("VAT"),
}
_AMOUNTS = frozenset({"total", "net_total", "vat_total", "period_price"})
_EDITIONS = frozenset({"edition", "next_edition", "requested_edition"})
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def change_fields(
    value: object, *, editions: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """A stored before/after value as (label, text) pairs in the reader's language: labels
    for the stored field names, days, counts and amounts formatted, edition codes named.
    A field without a label keeps its stored name, so nothing recorded is hidden."""
    if value in (None, "", {}, []):
        return []
    if not isinstance(value, dict):
        return [("", _stored_text(value, None, editions or {}, ""))]
    currency = value.get("currency")
    return [
        (str(FIELD_LABELS.get(key, key)), _stored_text(item, key, editions or {}, currency))
        for key, item in value.items()
    ]


def change_text(value: object, *, editions: dict[str, str] | None = None) -> str:
    """:func:`change_fields` on one line: "User licences: 12; Edition: Pro"."""
    return "; ".join(
        f"{label}: {text}" if label else text
        for label, text in change_fields(value, editions=editions)
    )


def _stored_text(value: object, key: str | None, editions: dict[str, str], currency: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, int):
        return stored_count(value)
    if isinstance(value, str):
        if key in _EDITIONS:
            return editions.get(value, value)
        if key in _AMOUNTS and currency:
            return stored_money(value, currency)
        return stored_day(value) if _ISO_DAY.fullmatch(value) else value
    if isinstance(value, dict):
        if set(value) == {"start", "end"}:
            start = _stored_text(value["start"], "start", editions, currency)
            end = _stored_text(value["end"], "end", editions, currency)
            return f"{start} – {end}"
        return ", ".join(
            f"{FIELD_LABELS.get(k, k)} {_stored_text(v, k, editions, currency)}"
            for k, v in value.items()
        )
    if isinstance(value, list):
        return ", ".join(_stored_text(item, key, editions, currency) for item in value) or "—"
    return str(value)


def stored_money(amount: Any, currency: Any) -> str:
    """An amount the history stores as text ("45.00", the API's format) with its currency,
    formatted for the reader like every other amount in the portal."""
    from abonnement.core.templatetags.portal import money, number

    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return f"{amount or ''} {currency or ''}".strip()
    if not value.is_finite():
        return f"{amount} {currency or ''}".strip()
    return money(value, str(currency)) if currency else number(value)


def stored_day(value: Any) -> str:
    """A day the history stores in ISO form, formatted for the reader."""
    from abonnement.core.templatetags.portal import day

    try:
        return day(date.fromisoformat(str(value)))
    except ValueError:
        return str(value or "")


def stored_count(value: Any) -> str:
    from abonnement.core.templatetags.portal import number

    return number(value) if isinstance(value, int) and not isinstance(value, bool) else str(value)
