"""Feedback from the help panels; customer service reads it (admin, later the back office)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from abonnement.core.actor import Actor
from abonnement.core.errors import FieldErrors
from abonnement.core.templatetags.portal import number
from abonnement.feedback.models import Feedback

MAX_TEXT = 2000
MAX_PAGE = 100


@transaction.atomic(durable=True)
def submit_feedback(
    *,
    page: object,
    helpful: object,
    text: object,
    language: str,
    actor: Actor,
    now: datetime,
) -> Feedback:
    """Store one answer. ``text`` is optional free text (line breaks allowed)."""
    errors = FieldErrors()
    if not isinstance(helpful, bool):
        errors.add("helpful", _("Choose Yes or No."))
    clean_page = page.strip() if isinstance(page, str) else ""
    if not clean_page or len(clean_page) > MAX_PAGE:
        errors.add("page", _("The page is missing."))
    clean_text = text.strip() if isinstance(text, str) else ""
    if len(clean_text) > MAX_TEXT:
        errors.add(
            "text", _("Keep the feedback under %(max)s characters.") % {"max": number(MAX_TEXT)}
        )
    # Line breaks are fine in free text; other control characters are not.
    if any(ord(c) < 32 and c not in "\n\r\t" for c in clean_text):
        errors.add("text", _("The text contains characters that cannot be stored."))
    errors.raise_if_any()
    user = actor.user
    return Feedback.objects.create(
        created_at=now,
        organization_id=user.organization_id if user is not None else None,
        user=user,
        user_name=actor.name[:200],
        page=clean_page,
        language=(language or "")[:5],
        helpful=bool(helpful),
        text=clean_text,
    )
