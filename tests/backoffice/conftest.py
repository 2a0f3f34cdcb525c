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


def verify_session(client: Client, user: User) -> None:
    """Mark the client's session as past the second factor, as a correct code does
    (``django_otp.login`` keeps the verifying device's persistent id in the session)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def signed_in(user: User | None, *, verified: bool = True) -> Client:
    """A client signed in as ``user``; staff also past the second factor unless
    ``verified=False`` (a session signed in with the password alone)."""
    client = Client()
    if user is not None:
        client.force_login(user)
        if verified and user.is_staff:
            verify_session(client, user)
    return client


@pytest.fixture
def support_client(support_user: User) -> Client:
    return signed_in(support_user)


@pytest.fixture
def billing_client(billing_user: User) -> Client:
    return signed_in(billing_user)
