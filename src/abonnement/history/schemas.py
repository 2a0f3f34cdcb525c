"""History entries as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from abonnement.history.models import HistoryEntry

# Channel's values (abonnement.core.actor); "marketplace" is a vendor call on an organisation
# that bought through a marketplace, that marketplace's own call (PRODUCT.md rule 6).
ChannelName = Literal["portal", "api", "back_office", "marketplace", "scheduled_job", "cli"]


class HistoryActorOut(Schema):
    type: Literal["user", "staff", "token", "system"]
    name: str


class HistoryEntryOut(Schema):
    id: str
    at: datetime
    actor: HistoryActorOut
    channel: ChannelName = Field(description="Through which channel the change was made.")
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
