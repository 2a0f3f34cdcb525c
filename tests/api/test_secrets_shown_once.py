"""A token or a signing secret is shown once: an idempotent replay answers without it, and
the stored answer never holds it (only the token's hash is kept)."""

from __future__ import annotations

from typing import Any

import pytest

from abonnement.accounts.models import ApiToken
from abonnement.idempotency.models import IdempotencyRecord
from abonnement.notifications.models import WebhookEndpoint
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db


def test_a_replayed_token_creation_answers_without_the_token(
    api: Api, org: Any, writer: str
) -> None:
    key = {"Idempotency-Key": "token-1"}
    path = f"/organizations/{org.pk}/tokens"
    first = api.post(path, writer, {"name": "CI", "scopes": ["read"]}, headers=key)
    assert first.status == 201
    secret = first.body["token"]
    assert secret.startswith(first.body["prefix"]) and len(secret) > 20
    assert first.headers["Cache-Control"] == "no-store"
    stored = IdempotencyRecord.objects.get(key="token-1")
    assert secret.encode() not in bytes(stored.response_body)

    again = api.post(path, writer, {"name": "CI", "scopes": ["read"]}, headers=key)
    assert (again.status, again.headers["Idempotent-Replayed"]) == (201, "true")
    assert again.headers["Cache-Control"] == "no-store"
    assert again.body == {**first.body, "token": None}
    assert ApiToken.objects.filter(name="CI").count() == 1
    # The token itself works: it was shown once, to the first answer.
    assert api.get(f"/organizations/{org.pk}/subscription", secret).status == 200


def test_a_replayed_webhook_endpoint_answers_without_its_secret(api: Api, vendor: str) -> None:
    key = {"Idempotency-Key": "endpoint-1"}
    body = {"url": "https://x.example/h", "events": ["order.created"]}
    first = api.post("/webhook-endpoints", vendor, body, headers=key)
    assert first.body["secret"].startswith("whsec_")
    stored = IdempotencyRecord.objects.get(key="endpoint-1")
    assert first.body["secret"].encode() not in bytes(stored.response_body)
    again = api.post("/webhook-endpoints", vendor, body, headers=key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.body == {**first.body, "secret": None}
    assert again.headers["Location"] == first.headers["Location"]
    assert WebhookEndpoint.objects.count() == 1
