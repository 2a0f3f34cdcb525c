"""Display texts for what the system stores in English: the names system processes act
under, the reasons it records, where a delivery went. They are stored in English because a
background worker has no reader, and translated here, when shown. Rows written before that
was so hold the text in the language of whoever triggered the change; the catalogues
recognise those too."""

from __future__ import annotations

import functools
import re

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
