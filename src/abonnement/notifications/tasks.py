"""Background work of webhooks (``services`` keeps the rules): publishing the outbox rows a
change committed, and one task per delivery attempt."""

from __future__ import annotations

from django_tasks import task

from abonnement.core import clock
from abonnement.notifications import services


@task()
def deliver_webhook(delivery_id: str, attempt: int) -> None:
    # Transport times are real: the receiver checks the signature's timestamp against its clock.
    services.attempt_delivery(delivery_id=delivery_id, attempt=attempt, now=clock.real_now())


@task()
def publish_webhook_events(outbox_ids: list[int]) -> None:
    # Safe to run twice: a published row is deleted in the transaction that publishes it.
    services.publish_recorded(outbox_ids)
