"""A paid add-on switched on or off changes the subscription (its add-ons, its monthly
price), so it tells the vendor's product with ``subscription.updated`` (API.md webhooks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from abonnement.core import events
from abonnement.features.services import set_feature_enabled
from tests.conftest import NOW, admin_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []

    def record(batch: Sequence[events.Event]) -> None:
        seen.extend(event.type for event in batch)

    monkeypatch.setattr(events, "_recorders", [*events._recorders, record])
    return seen


def switch(org: Any, code: str, enabled: bool) -> None:
    set_feature_enabled(organization=org, code=code, enabled=enabled, actor=admin_of(org), now=NOW)


def test_switching_a_paid_add_on_on_and_off_updates_the_subscription(
    org: Any, emitted: list[str]
) -> None:
    switch(org, "sso", True)
    assert emitted == ["order.created", "subscription.updated", "feature.enabled"]
    emitted.clear()
    switch(org, "sso", False)
    assert emitted == ["subscription.updated", "feature.disabled"]
    emitted.clear()
    # On again in the same period: paid already, but the next period pays for it again.
    switch(org, "sso", True)
    assert emitted == ["subscription.updated", "feature.enabled"]


def test_an_included_feature_does_not_touch_the_subscription(org: Any, emitted: list[str]) -> None:
    switch(org, "reports", False)
    switch(org, "reports", True)
    assert emitted == ["feature.disabled", "feature.enabled"]
