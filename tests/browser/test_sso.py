"""Single sign-on in Chromium: the portal's button, the provider's authorisation page (the
real test provider of ``tests/sso_provider.py``) and back, in English, Dutch and Finnish.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from abonnement.accounts.models import User
from tests import sso_provider
from tests.conftest import NOW
from tests.sso_provider import PROVIDER_NAME, Provider

# The test provider's fixtures, used here by name.
oidc_provider = sso_provider.oidc_provider
sso_settings = sso_provider.sso_settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provider(sso_settings: Provider, settings: Any, live_server: Any) -> Provider:
    # The callback must come back to the address the browser uses (its session cookie).
    settings.PUBLIC_URL = live_server.url
    return sso_settings


def open_in(browse: Any, provider: Provider, language: str) -> Any:
    b = browse()
    b.allowed_origins.append(provider.url)
    # Nobody is signed in yet: the language comes from Django's language cookie.
    b.context.add_cookies([{"name": "django_language", "value": language, "url": b.base_url}])
    # The provider's page asks a CDN for its stylesheet; nothing may leave this machine.
    b.page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    return b


def through_provider(b: Any, sub: str) -> None:
    """On the portal's sign-in page: the single sign-on button, then the provider's form."""
    b.page.locator("a[href='/sign-in/sso/']").click()
    b.page.wait_for_url(b.allowed_origins[0] + "/oauth2/authorize?**")
    b.page.get_by_placeholder("sub").fill(sub)
    b.page.get_by_role("button", name="Authorize").click()


def test_signing_in_with_the_provider_lands_on_the_overview(
    browse: Any, provider: Provider, world: Any
) -> None:
    provider.set_user("anna", email="admin@testi.example", email_verified=True)
    b = open_in(browse, provider, "en")
    b.page.goto("/sign-in/")
    expect(b.page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}")).to_be_visible()
    through_provider(b, "anna")
    b.page.wait_for_url("**/settings/subscription/")
    expect(b.page.get_by_role("heading", name="Current billing period")).to_be_visible()
    b.shot("sso-signed-in")
    anna = User.objects.get(email="admin@testi.example")
    assert anna.last_login == NOW


@pytest.mark.parametrize("language", ["en", "nl", "fi"])
def test_the_button_and_a_refusal(
    browse: Any, provider: Provider, world: Any, language: str
) -> None:
    provider.set_user("stranger", email="stranger@elsewhere.example", email_verified=True)
    users = User.objects.count()
    b = open_in(browse, provider, language)
    b.page.goto("/sign-in/")
    expect(b.page.locator("html")).to_have_attribute("lang", language)
    expect(b.page.locator("a[href='/sign-in/sso/']")).to_contain_text(PROVIDER_NAME)
    b.shot(f"sso-sign-in-{language}")
    through_provider(b, "stranger")
    b.page.wait_for_url("**/sign-in/")
    notice = b.page.locator(".notice-error")
    expect(notice).to_contain_text("stranger@elsewhere.example")
    if language == "en":
        expect(notice).to_have_text(
            "No user of the portal has the e-mail address stranger@elsewhere.example. Ask an "
            "administrator of your organisation to add you; signing in does not create users."
        )
    b.shot(f"sso-refused-{language}")
    assert User.objects.count() == users
    assert User.objects.filter(last_login__isnull=False).count() == 0
