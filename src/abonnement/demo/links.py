"""The demo's portal-session link, made the way a vendor's product makes one: a vendor token
and ``POST /api/v1/organizations/{org}/portal-sessions``, through the real HTTP handler."""

from __future__ import annotations

import json

from django.conf import settings
from django.test import Client

from abonnement.accounts.models import User
from abonnement.accounts.services import create_vendor_token
from abonnement.core import clock
from abonnement.core.actor import Actor


def portal_session_link(*, email: str, section: str = "overview") -> str:
    """A single-use link that signs ``email`` in to the portal, or raises ``RuntimeError``
    with the API's answer when it refuses."""
    user = User.objects.select_related("organization").get(email=email)
    assert user.organization is not None
    issued = create_vendor_token(name="Demo: portal links", actor=Actor.cli(), now=clock.now())
    host = next((h for h in settings.ALLOWED_HOSTS if h not in {"*", ""}), "localhost")
    response = Client(SERVER_NAME=host.lstrip(".")).post(
        f"/api/v1/organizations/{user.organization.pk}/portal-sessions",
        data=json.dumps({"user": str(user.pk), "section": section}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {issued.secret}",
    )
    if response.status_code != 201:
        raise RuntimeError(f"portal-sessions answered {response.status_code}: {response.content!r}")
    return str(response.json()["url"])
