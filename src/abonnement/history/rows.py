"""A page of history entries in the reader's language: one sentence per entry, who did it,
through which channel and why, and its stored before/after values labelled and formatted.

The portal's change log and the back office's history both show entries through
:func:`entry_rows`, so a change reads the same to the customer and to customer service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from abonnement.history.models import HistoryEntry, HistoryKind
from abonnement.history.selectors import HistoryPage, StoredReferences
from abonnement.history.texts import (
    change_fields,
    destination_text,
    stored_count,
    stored_day,
    stored_money,
    system_actor_name,
    system_reason,
)

CHANNELS = {
    "portal": gettext_lazy("Portal"),
    "api": gettext_lazy("API"),
    "back_office": gettext_lazy("Back office"),
    "marketplace": gettext_lazy("Marketplace"),
    "scheduled_job": gettext_lazy("Scheduled job"),
    "cli": gettext_lazy("Command line"),
}
BILLING_FIELDS = {
    "contact_user_id": gettext_lazy("contact"),
    "contact_name": gettext_lazy("contact"),
    "contact_email": gettext_lazy("contact"),
    "cc": gettext_lazy("copies"),
    "address": gettext_lazy("invoice address"),
    "reference": gettext_lazy("reference"),
    "invoice_language": gettext_lazy("invoice language"),
    "e_invoicing": gettext_lazy("e-invoicing"),
}


@dataclass(frozen=True)
class EntryRow:
    entry: HistoryEntry
    text: str
    actor: str
    channel: str
    reason: str
    # The stored values as (label, text) pairs in the reader's language.
    before: list[tuple[str, str]]
    after: list[tuple[str, str]]


def _pair(entry: HistoryEntry, key: str) -> tuple[Any, Any]:
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    return before.get(key), after.get(key)


def entry_rows(page: HistoryPage, references: StoredReferences) -> list[EntryRow]:
    """The page's entries as the reader reads them: what happened in a sentence, who and
    through which channel, why, and the stored values labelled and formatted (the portal's
    change log and the back office's history show the same)."""
    return [_entry_row(entry, page, references) for entry in page.page]


def _entry_row(entry: HistoryEntry, page: HistoryPage, references: StoredReferences) -> EntryRow:
    return EntryRow(
        entry=entry,
        text=_describe(entry, page.feature_names, page.edition_names),
        # A person's name is shown as it is; the names the system acts under are translated.
        actor=entry.actor_name
        if entry.actor_type in ("user", "staff")
        else system_actor_name(entry.actor_name),
        channel=str(CHANNELS.get(entry.channel, entry.channel)),
        reason=_reason(entry.reason),
        before=change_fields(entry.before, editions=page.edition_names, references=references),
        after=change_fields(entry.after, editions=page.edition_names, references=references),
    )


def _describe(entry: HistoryEntry, features: dict[str, str], editions: dict[str, str]) -> str:
    action = entry.action
    subject = entry.subject
    old, new = _pair(entry, "current")
    old_next, new_next = _pair(entry, "next")
    if action == "order_created":
        after = entry.after or {}
        return _("Order %(number)s placed: %(amount)s") % {
            "number": after.get("number", ""),
            "amount": stored_money(after.get("total"), after.get("currency")),
        }
    next_licences = _("User licences for the next period: %(old)s → %(new)s")
    next_storage = _("Storage packs for the next period: %(old)s → %(new)s")
    texts = {
        "licenses_bought": _("User licences bought: %(old)s → %(new)s"),
        "licenses_removal_scheduled": next_licences,
        "licenses_removal_reduced": next_licences,
        "storage_packs_bought": _("Storage packs bought: %(old)s → %(new)s"),
        "storage_packs_removal_scheduled": next_storage,
        "storage_packs_removal_reduced": next_storage,
    }
    if action in texts:
        if action.endswith("_bought"):
            values = {"old": stored_count(old), "new": stored_count(new)}
        else:
            values = {"old": stored_count(old_next), "new": stored_count(new_next)}
        return texts[action] % values
    if action == "licenses_removal_cancelled":
        count = new_next if isinstance(new_next, int) else 0
        return ngettext(
            "Scheduled licence change cancelled: %(new)s licence",
            "Scheduled licence change cancelled: %(new)s licences",
            count,
        ) % {"new": stored_count(new_next)}
    if action == "storage_packs_removal_cancelled":
        count = new_next if isinstance(new_next, int) else 0
        return ngettext(
            "Scheduled storage change cancelled: %(new)s storage pack",
            "Scheduled storage change cancelled: %(new)s storage packs",
            count,
        ) % {"new": stored_count(new_next)}
    feature = features.get(subject, subject)
    edition_before, edition_after = _pair(entry, "edition")
    simple = {
        "enabled": _("%(name)s switched on") % {"name": feature},
        "disabled": _("%(name)s switched off") % {"name": feature},
        "edition_change_scheduled": _("Edition change scheduled for the next period: %(name)s")
        % {"name": subject},
        "edition_change_cancelled": _("Scheduled edition change cancelled"),
        "edition_change_requested": _("Edition change requested: %(name)s") % {"name": subject},
        "edition_request_scheduled": _("Edition-change request accepted: %(name)s")
        % {"name": subject},
        "edition_request_declined": _("Edition-change request declined: %(name)s")
        % {"name": subject},
        "edition_request_reopened": _("Edition-change request reopened: %(name)s")
        % {"name": subject},
        "edition_changed": _("Edition changed: %(old)s → %(new)s")
        % {
            "old": editions.get(str(edition_before), edition_before),
            "new": editions.get(str(edition_after), edition_after),
        },
        "user_created": _("User added: %(email)s") % {"email": subject},
        "user_deactivated": _("User deactivated: %(email)s") % {"email": subject},
        "user_reactivated": _("User reactivated: %(email)s") % {"email": subject},
        "user_updated": _("User changed: %(email)s") % {"email": subject},
        "invitation_sent": _("Invitation sent: %(email)s") % {"email": subject},
        "password_chosen": _("Password chosen from the invitation: %(email)s") % {"email": subject},
        "password_reset": _("Password reset through an e-mailed link: %(email)s")
        % {"email": subject},
        "password_changed": _("Password changed: %(email)s") % {"email": subject},
        "portal_session_created": _("Portal sign-in link made for %(email)s") % {"email": subject},
        "language_changed": _("Language changed: %(email)s") % {"email": subject},
        "organization_created": _("Organisation created: %(name)s") % {"name": subject},
        "name_changed": _("Company name changed: %(old)s → %(new)s")
        % {"old": _pair(entry, "name")[0], "new": _pair(entry, "name")[1]},
        "purchase_channel_changed": _("Purchase channel changed"),
        "api_token_created": _("API token created: %(name)s") % {"name": subject},
        "api_token_revoked": _("API token revoked: %(name)s") % {"name": subject},
        "vat_number_transferred": _("VAT number changed: %(old)s → %(new)s")
        % {"old": _pair(entry, "vat_number")[0], "new": _pair(entry, "vat_number")[1]},
    }
    if action in simple:
        return simple[action]
    if action == "billing_details_changed":
        fields = []
        for key in subject.split(", "):
            label = str(BILLING_FIELDS.get(key, key))
            if label not in fields:
                fields.append(label)
        return _("Billing details changed: %(fields)s") % {"fields": ", ".join(fields)}
    if action == "period_rolled_over":
        after = entry.after if isinstance(entry.after, dict) else {}
        period = after.get("period", {})
        return _("New billing period %(start)s – %(end)s: %(amount)s") % {
            "start": stored_day(period.get("start")),
            "end": stored_day(period.get("end")),
            "amount": stored_money(after.get("total"), after.get("currency")),
        }
    if action in DOCUMENT_ACTIONS:
        return _describe_document(entry)
    return f"{HistoryKind(entry.kind).label if entry.kind in HistoryKind else entry.kind}: {action}"


DOCUMENT_ACTIONS = {
    "invoice_issued",
    "credit_note_issued",
    "document_delivered",
    "delivery_failed",
    "einvoice_validation_failed",
    "document_resend_requested",
    "delivery_retry_requested",
    "period_reminder_created",
}
_INVOICE_SUBJECT = re.compile(r"Invoice (\d+)")
_CREDIT_NOTE_SUBJECT = re.compile(r"Credit note (\d+)")
_CONFIRMATION_SUBJECT = re.compile(r"Order confirmation (\d+)")


def _document_name(subject: str) -> str:
    """The documents' services name their subject in English ("Invoice 12"); in the user's
    language here."""
    if match := _INVOICE_SUBJECT.fullmatch(subject):
        return _("Invoice %(number)s") % {"number": match.group(1)}
    if match := _CREDIT_NOTE_SUBJECT.fullmatch(subject):
        return _("Credit note %(number)s") % {"number": match.group(1)}
    if match := _CONFIRMATION_SUBJECT.fullmatch(subject):
        return _("Order confirmation %(number)s") % {"number": match.group(1)}
    if subject == "Period reminder":
        return _("Period reminder")
    return subject


def _describe_document(entry: HistoryEntry) -> str:
    after = entry.after if isinstance(entry.after, dict) else {}
    action = entry.action
    if action == "invoice_issued":
        return _("Invoice %(number)s issued: %(amount)s") % {
            "number": after.get("number", ""),
            "amount": stored_money(after.get("total"), after.get("currency")),
        }
    if action == "credit_note_issued":
        return _("Credit note %(number)s issued for invoice %(invoice)s") % {
            "number": after.get("number", ""),
            "invoice": after.get("credits_invoice", ""),
        }
    if action == "period_reminder_created":
        return _("Reminder about the next period created: from %(start)s") % {
            "start": stored_day(after.get("next_start"))
        }
    document = _document_name(entry.subject)
    if action == "document_delivered":
        return _("%(document)s delivered: %(destination)s") % {
            "document": document,
            "destination": destination_text(str(after.get("destination", ""))),
        }
    if action == "delivery_failed":
        return _("%(document)s not delivered: %(error)s") % {
            "document": document,
            "error": after.get("error", ""),
        }
    if action == "einvoice_validation_failed":
        return _("%(document)s not sent: the e-invoice fails the rules %(rules)s") % {
            "document": document,
            "rules": ", ".join(str(rule) for rule in after.get("rule_ids", [])),
        }
    if action == "document_resend_requested":
        return _("%(document)s sent again on request") % {"document": document}
    return _("%(document)s: delivery tried again on request") % {"document": document}


_ORDER_REASON = re.compile(r"Order (\d+)")
_EDITION_REASON = re.compile(r"Edition change to (.+) at the period boundary")
_REQUEST_REASON = re.compile(r"Edition-change request (\d+)")


def _reason(reason: str) -> str:
    """Reasons the system writes (in English) are shown in the user's language."""
    if match := _ORDER_REASON.fullmatch(reason):
        return _("Order %(number)s") % {"number": match.group(1)}
    if match := _EDITION_REASON.fullmatch(reason):
        return _("Edition change to %(name)s at the period boundary") % {"name": match.group(1)}
    if match := _REQUEST_REASON.fullmatch(reason):
        return _("Edition-change request %(number)s") % {"number": match.group(1)}
    return system_reason(reason)
