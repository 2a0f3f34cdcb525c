"""Domain events, published after the transaction that caused them commits.

Services call ``emit``; interested apps (webhooks, documents, e-mail) register a listener
with ``subscribe`` in their ``AppConfig.ready``. Listeners run on commit, never inside the
transaction, and never for a rolled-back change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction


@dataclass(frozen=True)
class Event:
    type: str
    organization_id: str
    data: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Sequence[Event]], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def has_listeners() -> bool:
    """Lets bulk paths skip building events nobody would receive."""
    return bool(_listeners)


def emit(*events: Event) -> None:
    emit_many(list(events))


def emit_many(events: Sequence[Event]) -> None:
    if not events or not _listeners:
        return
    batch = list(events)

    def publish() -> None:
        for listener in list(_listeners):
            listener(batch)

    transaction.on_commit(publish)
