"""PostgreSQL: publishers of the webhook outbox running at once publish each event once.
Skipped on SQLite, whose single writer serialises them anyway."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from abonnement.core.events import Event, emit_many
from abonnement.notifications import services
from abonnement.notifications.models import OutboxEvent, WebhookDelivery, WebhookMessage
from abonnement.notifications.services import create_endpoint, publish_outbox
from tests.conftest import NOW, VENDOR, make_catalog, make_organization
from tests.invoicing.test_concurrency import run_together

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks (DATABASE_URL)"
    ),
]


def test_two_publishers_sweeping_the_outbox_at_once_publish_each_event_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_catalog()
    org = make_organization()
    create_endpoint(
        url="https://hooks.example/in", events=["feature.enabled"], actor=VENDOR, now=NOW
    )
    # 2,500 events whose after-commit publisher never ran (the process died after the commit).
    monkeypatch.setattr(services, "publish_recorded", lambda ids: None)
    with transaction.atomic():
        emit_many([Event("feature.enabled", str(org.pk), {"feature": "sso"}, at=NOW)] * 2500)
    assert OutboxEvent.objects.count() == 2500

    results = run_together(lambda: publish_outbox(now=NOW), lambda: publish_outbox(now=NOW))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 2500
    assert OutboxEvent.objects.count() == 0
    assert WebhookMessage.objects.count() == 2500
    assert WebhookDelivery.objects.count() == 2500
