"""History entries as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema

from abonnement.history.models import HistoryEntry


class HistoryActorOut(Schema):
    type: Literal["user", "staff", "token", "system"]
    name: str


class HistoryEntryOut(Schema):
    id: str
    at: datetime
    actor: HistoryActorOut
    channel: str
    kind: str
    action: str
    subject: str
    before: Any
    after: Any
    reason: str


class HistoryList(Schema):
    data: list[HistoryEntryOut]
    next_cursor: str | None


def history_entry_out(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "id": str(entry.pk),
        "at": entry.at,
        "actor": {"type": entry.actor_type, "name": entry.actor_name},
        "channel": entry.channel,
        "kind": entry.kind,
        "action": entry.action,
        "subject": entry.subject,
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
    }
