"""Background work of webhooks: one task per delivery attempt (``services`` keeps the rules)."""

from __future__ import annotations

from django_tasks import task

from abonnement.core import clock
from abonnement.notifications import services


@task()
def deliver_webhook(delivery_id: str, attempt: int) -> None:
    # Transport times are real: the receiver checks the signature's timestamp against its clock.
    services.attempt_delivery(delivery_id=delivery_id, attempt=attempt, now=clock.real_now())
