"""Portal view tests: a client signed in as a user of the test organisation, with the
simulated clock standing at NOW (2027-01-15, day 15 of the 181-day period)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tests.conftest import NOW, admin_of


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock_at_now(settings: Any, db: Any) -> None:
    from abonnement.core.models import SimulatedClock

    settings.SIMULATED_CLOCK = True
    SimulatedClock.objects.update_or_create(pk=1, defaults={"now": NOW})


def make_user(org: Any, email: str, *, permissions: list[str] | None = None) -> Any:
    from abonnement.accounts.services import create_user

    return create_user(
        organization=org,
        email=email,
        name=email.split("@")[0].title(),
        permissions_granted=permissions or [],
        actor=admin_of(org),
        now=NOW,
    ).user


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_user(org: Any, clock_at_now: None) -> Any:
    return admin_of(org).user


@pytest.fixture
def portal(admin_user: Any) -> Client:
    """Signed in as Anna Admin, who holds both permissions."""
    return client_for(admin_user)
