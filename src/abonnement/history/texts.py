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
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from abonnement.core.templatetags.portal import country_name, language_name
from abonnement.history.selectors import StoredReferences
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
        return str(DELIVERY_CHANNELS["einvoice"])
    if delivery.to:
        return _("By e-mail to %(to)s") % {"to": delivery.to}
    return str(DELIVERY_CHANNELS["email"])


# Codes the entries store, named as the portal's own pages name them: the order list's
# products, the documents pages' credit-note badge and delivery channels.
ORDER_KINDS: dict[str, Promise] = {
    "licenses": gettext_lazy("User licences"),
    "storage": gettext_lazy("File storage"),
    "add_on": gettext_lazy("Add-on"),
    "renewal": gettext_lazy("Renewal"),
}
DOCUMENT_TYPES: dict[str, Promise] = {
    "invoice": gettext_lazy("Invoice"),
    "credit_note": gettext_lazy("Credit note"),
}
# By the stored value (``Delivery.channel``); ``DeliveryView`` names the e-invoice
# channel as the API does.
DELIVERY_CHANNELS: dict[str, Promise] = {
    "email": gettext_lazy("By e-mail"),
    "einvoice": gettext_lazy("As an e-invoice"),
}
# By ``Organization.purchase_channel`` (the "type" of a purchase-channel change).
PURCHASE_CHANNELS: dict[str, Promise] = {
    "direct": gettext_lazy("Direct"),
    "marketplace": gettext_lazy("Partner marketplace"),
}
_CODES: dict[str, dict[str, Promise]] = {
    "kind": ORDER_KINDS,
    "type": {**DOCUMENT_TYPES, **PURCHASE_CHANNELS},
    "channel": DELIVERY_CHANNELS,
}


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
# A field inside another that means something else there: the e-invoicing settings'
# "address" is the e-invoice address (the billing form's label), not the postal one.
NESTED_LABELS: dict[tuple[str, str], Promise] = {
    ("e_invoicing", "address"): gettext_lazy("E-invoice address"),
}
# The order fields are shown in, as a reader takes them in; fields not named here follow,
# by name. PostgreSQL keeps JSON objects with their keys sorted its own way (shortest
# first), so the order the services wrote them in is not kept.
_ORDER = (
    # who or what
    "number", "type", "kind", "email", "name", "prefix", "scopes", "active", "permissions",
    "language", "admin",
    # the period and the edition
    "period", "start", "end", "period_months", "period_end", "next_start", "deadline",
    "edition", "next_edition", "requested_edition", "request_id", "status", "response",
    # counts, this period and the next
    "current", "next", "licenses", "storage_packs", "license",
    # billing details (an e-invoicing object reads: switched on, address, operator)
    "contact_user_id", "contact_name", "contact_email", "cc", "enabled", "address", "street",
    "postal_code", "city", "country", "reference", "invoice_language", "e_invoicing",
    "operator_code",
    # documents and their deliveries
    "issue_date", "due_date", "lines", "net_total", "vat_category", "vat_total", "total",
    "period_price", "currency", "payment_reference", "order_number", "channel", "destination",
    "delivery_id",
    # the organisation
    "vat_number", "purchase_channel",
)  # fmt: skip
_RANK = {key: rank for rank, key in enumerate(_ORDER)}


def _in_order(value: dict[str, Any]) -> list[tuple[str, Any]]:
    return sorted(value.items(), key=lambda item: (_RANK.get(item[0], len(_RANK)), item[0]))


_AMOUNTS = frozenset({"total", "net_total", "vat_total", "period_price"})
_EDITIONS = frozenset({"edition", "next_edition", "requested_edition"})
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def change_fields(
    value: object,
    *,
    editions: dict[str, str] | None = None,
    references: StoredReferences | None = None,
) -> list[tuple[str, str]]:
    """A stored before/after value as (label, text) pairs in the reader's language: labels
    for the stored field names, days, counts and amounts formatted, edition codes named,
    stored codes (order kinds, document types, delivery channels) in words.
    A field without a label keeps its stored name, so nothing recorded is hidden.

    ``references`` (``history.selectors.stored_references``) names the users the entries
    refer to by id, the order lines' catalogue names in the reader's language, and the
    currency of amounts stored without one; without it those are shown as stored."""
    if value in (None, "", {}, []):
        return []
    shown = _Shown(editions or {}, references)
    if not isinstance(value, dict):
        return [("", shown.text(value, None, None))]
    currency = value.get("currency") or (references.currency if references else None)
    return [
        (str(FIELD_LABELS.get(key, key)), shown.text(item, key, currency))
        for key, item in _in_order(value)
    ]


class _Shown:
    def __init__(self, editions: dict[str, str], references: StoredReferences | None) -> None:
        self.editions = editions
        self.references = references

    def text(self, value: object, key: str | None, currency: object) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return str(_("Yes") if value else _("No"))
        if isinstance(value, int):
            if key == "contact_user_id" and self.references is not None:
                return _user_text(value, self.references)
            return stored_count(value)
        if isinstance(value, str):
            return self._string(value, key, currency)
        if isinstance(value, dict):
            if set(value) == {"start", "end"}:
                start = self.text(value["start"], "start", currency)
                end = self.text(value["end"], "end", currency)
                return f"{start} – {end}"
            return ", ".join(
                f"{NESTED_LABELS.get((key or '', k)) or FIELD_LABELS.get(k, k)} "
                f"{self.text(v, k, currency)}"
                for k, v in _in_order(value)
            )
        if isinstance(value, list):
            separator = "; " if key == "lines" else ", "
            return separator.join(self.text(item, key, currency) for item in value) or "—"
        return str(value)

    def _string(self, value: str, key: str | None, currency: object) -> str:
        if key in _EDITIONS:
            return self.editions.get(value, value)
        if key in _AMOUNTS and currency:
            return stored_money(value, currency)
        if key is not None and value in _CODES.get(key, {}):
            return str(_CODES[key][value])
        if key == "destination":
            return destination_text(value)
        if key == "country":
            return country_name(value)
        if key in ("invoice_language", "language"):
            return language_name(value)
        if key == "lines":
            return order_line_text(value, self.references)
        return stored_day(value) if _ISO_DAY.fullmatch(value) else value


def _user_text(user_id: int, references: StoredReferences) -> str:
    """A user the history refers to by id, named as the billing form names them."""
    found = references.users.get(user_id)
    if found is None:
        return _("Deleted user %(id)s") % {"id": user_id}
    name, email = found
    return f"{name} <{email}>" if name else email


# The order lines' descriptions as ``abonnement.subscriptions`` stores them (in English): a
# purchase during the period, charged pro rata, and the first period's licences. (The period
# rollover's renewal orders write no "order_created" entry.)
_PRODUCT = r"(?P<product>User licences|File storage|Add-on), (?P<name>.+)"
_PRO_RATA_LINE = re.compile(
    _PRODUCT + r" × (?P<quantity>\d+), (?P<start>\d{4}-\d{2}-\d{2})–(?P<end>\d{4}-\d{2}-\d{2})"
    r" \((?P<days>\d+)/(?P<period_days>\d+) days\)"
)
_PERIOD_LINE = re.compile(_PRODUCT + r" × (?P<quantity>\d+) × (?P<months>\d+) months?")


def order_line_text(stored: str, references: StoredReferences | None = None) -> str:
    """An order line the history stores as its English description, in the reader's
    language with the catalogue's names in it; a description in another form as stored."""
    if match := _PRO_RATA_LINE.fullmatch(stored):
        return _(
            "%(label)s × %(quantity)s, %(start)s – %(end)s (%(days)d of %(period_days)d days)"
        ) % {
            "label": _product_label(match["product"], match["name"], references),
            "quantity": stored_count(int(match["quantity"])),
            "start": stored_day(match["start"]),
            "end": stored_day(match["end"]),
            "days": int(match["days"]),
            "period_days": int(match["period_days"]),
        }
    if match := _PERIOD_LINE.fullmatch(stored):
        months = int(match["months"])
        return ngettext(
            "%(label)s × %(quantity)s × %(months)s month",
            "%(label)s × %(quantity)s × %(months)s months",
            months,
        ) % {
            "label": _product_label(match["product"], match["name"], references),
            "quantity": stored_count(int(match["quantity"])),
            "months": stored_count(months),
        }
    return stored


def _product_label(product: str, name: str, references: StoredReferences | None) -> str:
    """The order list's label of a product (``history.views``)."""
    if product == "User licences":  # editions have one name in every language
        return _("User licences, %(edition)s") % {"edition": name}
    if product == "File storage":
        packs = references.packs if references else {}
        return _("File storage, %(pack)s") % {"pack": packs.get(name, name)}
    features = references.features if references else {}
    return _("Add-on, %(name)s") % {"name": features.get(name, name)}


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
