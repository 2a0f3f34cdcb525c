"""Back-office fixtures: staff of both roles, a customer, and the business clock at NOW."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from abonnement.accounts.models import User
from abonnement.core.actor import Actor
from tests.conftest import NOW


def make_staff(role: str, *, email: str | None = None, name: str | None = None) -> User:
    return User.objects.create_user(
        email or f"{role or 'norole'}@vendor.example",
        "staff-password-2026",
        name=name or f"{role.title() or 'Roleless'} Staffer",
        is_staff=True,
        staff_role=role,
    )


@pytest.fixture(autouse=True)
def business_clock(settings: Any, db: Any) -> None:
    """Views read ``clock.now()``: pin it to NOW so effects and history are exact."""
    from abonnement.core.models import SimulatedClock

    settings.SIMULATED_CLOCK = True
    SimulatedClock.objects.update_or_create(pk=1, defaults={"now": NOW})


@pytest.fixture
def support_user(db: Any) -> User:
    return make_staff("support", name="Sanna Support")


@pytest.fixture
def billing_user(db: Any) -> User:
    return make_staff("billing", name="Bert Billing")


@pytest.fixture
def support(support_user: User) -> Actor:
    return Actor.staff(support_user)


@pytest.fixture
def billing(billing_user: User) -> Actor:
    return Actor.staff(billing_user)


@pytest.fixture
def customer_user(org: Any) -> User:
    user = User.objects.filter(organization=org, manage_subscription=True).order_by("pk").first()
    assert user is not None
    return user


def signed_in(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def support_client(support_user: User) -> Client:
    return signed_in(support_user)


@pytest.fixture
def billing_client(billing_user: User) -> Client:
    return signed_in(billing_user)
