"""A real OpenID Connect provider for the single sign-on tests: ``oidc-provider-mock``
(Authlib's provider code behind a small Flask app) on a loopback port, started once per
test session.

Any client id and secret are accepted; a user's claims are preset with ``PUT /users/<sub>``,
and its authorisation page is a form where the person types (or the test posts) the
subject to sign in as, or denies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

CLIENT_ID = "abonnement-portal"
CLIENT_SECRET = "portal-client-secret"
PROVIDER_NAME = "Testi ID"


@dataclass(frozen=True)
class Provider:
    url: str

    def set_user(self, sub: str, **claims: object) -> None:
        """The claims the provider gives for ``sub`` from now on."""
        response = requests.put(f"{self.url}/users/{sub}", json=claims, timeout=10)
        assert response.status_code == 204, response.text


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Provider]:
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread() as server:
        yield Provider(f"http://localhost:{server.server_port}")


@pytest.fixture
def sso_settings(settings: Any, oidc_provider: Provider) -> Provider:
    """Single sign-on configured against the test provider."""
    settings.OIDC_ISSUER = oidc_provider.url
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_NAME = PROVIDER_NAME
    settings.OIDC_ENABLED = True
    return oidc_provider
