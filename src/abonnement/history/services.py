"""Writing history. Called by every service inside its own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from abonnement.core.actor import Actor
from abonnement.history.models import HistoryEntry, HistoryKind


def build_entry(
    *,
    organization_id: Any,
    actor: Actor,
    now: datetime,
    kind: HistoryKind,
    action: str,
    subject: str = "",
    before: Any = None,
    after: Any = None,
    reason: str = "",
) -> HistoryEntry:
    return HistoryEntry(
        organization_id=organization_id,
        at=now,
        actor_type=actor.type.value,
        actor_name=actor.name[:200],
        actor_user=actor.user,
        channel=actor.channel.value,
        kind=kind,
        action=action,
        subject=subject[:200],
        before=before,
        after=after,
        reason=reason[:500],
    )


def record(
    *,
    organization_id: Any,
    actor: Actor,
    now: datetime,
    kind: HistoryKind,
    action: str,
    subject: str = "",
    before: Any = None,
    after: Any = None,
    reason: str = "",
) -> HistoryEntry:
    entry = build_entry(
        organization_id=organization_id,
        actor=actor,
        now=now,
        kind=kind,
        action=action,
        subject=subject,
        before=before,
        after=after,
        reason=reason,
    )
    entry.save()
    return entry
