"""A 201 names the new item's address in ``Location``, where the item has one to GET."""

from __future__ import annotations

from typing import Any

import pytest

from abonnement.organizations.models import Organization
from tests.api.conftest import Api
from tests.api.test_auth_matrix import PROVISION

pytestmark = pytest.mark.django_db


def test_a_provisioned_organisation_is_at_its_location(
    api: Api, catalog: None, vendor: str
) -> None:
    made = api.post("/organizations", vendor, PROVISION)
    assert made.status == 201
    assert made.headers["Location"] == f"/api/v1/organizations/{made.body['id']}"
    read = api.get(made.headers["Location"], vendor)
    assert (read.status, read.body) == (200, made.body)


def test_a_created_user_is_at_its_location(api: Api, org: Any, writer: str) -> None:
    made = api.post(
        f"/organizations/{org.pk}/users",
        writer,
        {"email": "new@testi.example", "name": "New User", "permissions": [], "buy_license": True},
    )
    assert made.status == 201
    user_id = made.body["user"]["id"]
    assert made.headers["Location"] == f"/api/v1/organizations/{org.pk}/users/{user_id}"
    read = api.get(made.headers["Location"], writer)
    assert (read.status, read.body) == (200, made.body["user"])


def test_a_webhook_endpoint_is_at_its_location(api: Api, vendor: str) -> None:
    made = api.post(
        "/webhook-endpoints", vendor, {"url": "https://x.example/h", "events": ["order.created"]}
    )
    assert made.status == 201
    assert made.headers["Location"] == f"/api/v1/webhook-endpoints/{made.body['id']}"
    read = api.get(made.headers["Location"], vendor)
    assert read.status == 200
    assert read.body == {k: v for k, v in made.body.items() if k != "secret"}


def test_a_replay_repeats_the_location_and_a_refusal_has_none(
    api: Api, catalog: None, vendor: str
) -> None:
    key = {"Idempotency-Key": "provision-1"}
    first = api.post("/organizations", vendor, PROVISION, headers=key)
    again = api.post("/organizations", vendor, PROVISION, headers=key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    refused = api.post("/organizations", vendor, PROVISION | {"licenses": -1})
    assert refused.status == 422
    assert "Location" not in refused.headers
    assert Organization.objects.count() == 1
