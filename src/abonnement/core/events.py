"""Domain events: what a change tells the apps that react to it.

Services call ``emit``; interested apps register a listener with ``subscribe`` in their
``AppConfig.ready``, of one of two kinds:

- after commit (the default): runs once the transaction that caused the events committed,
  never for a rolled-back change (documents tasks, e-mail);
- ``in_transaction=True``: runs at once, inside the caller's transaction, to write what must
  exist exactly when the change does (the webhook outbox): both commit or neither does. It
  only writes rows; work that talks to the outside world is left for after the commit.

An event is by default reported as things stand when it is emitted: the webhook outbox takes
a snapshot of its payload then, so a later change cannot show through. ``snapshot=False``
leaves the payload to be read when it is published; only a bulk path whose events are too
many to read in its transaction sets it, for events whose payload a later change does not
alter (see ``notifications/payloads.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction


@dataclass(frozen=True)
class Event:
    type: str
    organization_id: str
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(kw_only=True)  # the business time of the change
    # False: the webhook payload is read when published, not with the change (bulk paths).
    snapshot: bool = field(default=True, kw_only=True)


Listener = Callable[[Sequence[Event]], None]
_listeners: list[Listener] = []
_recorders: list[Listener] = []


def subscribe(listener: Listener, *, in_transaction: bool = False) -> None:
    listeners = _recorders if in_transaction else _listeners
    if listener not in listeners:
        listeners.append(listener)


def has_listeners() -> bool:
    """Lets bulk paths skip building events nobody would receive."""
    return bool(_listeners or _recorders)


def emit(*events: Event) -> None:
    emit_many(list(events))


def emit_many(events: Sequence[Event]) -> None:
    if not events or not has_listeners():
        return
    batch = list(events)
    for recorder in list(_recorders):
        recorder(batch)
    if not _listeners:
        return

    def publish() -> None:
        for listener in list(_listeners):
            listener(batch)

    transaction.on_commit(publish)
