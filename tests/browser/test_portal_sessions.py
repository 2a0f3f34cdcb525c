"""A portal-session link in Chromium, made through the API over HTTP as the vendor's product
makes it: the browser lands signed in on the section, in the language asked for, with
"Back to <product>" in the top bar; opening the link again fails with a page that leads
back. No page breaks the Content-Security-Policy."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from abonnement.accounts.models import User
from abonnement.accounts.services import create_vendor_token
from abonnement.core.actor import Actor
from tests.conftest import NOW

pytestmark = pytest.mark.django_db(transaction=True)

RETURN_URL = "https://app.vendor.example/settings"
LICENCES = {"en": "User licences", "nl": "Gebruikerslicenties", "fi": "Käyttäjälisenssit"}


@pytest.fixture
def vendor_product(settings: Any, live_server: Any, world: Any) -> Any:
    """The vendor's product: its token, and the installation configured for it."""
    settings.PUBLIC_URL = live_server.url
    settings.RETURN_URL_HOSTS = ["app.vendor.example"]
    settings.PRODUCT_NAME = "Acme Books"
    token = create_vendor_token(name="Acme Books backend", actor=Actor.cli(), now=NOW).secret

    def portal_link(**body: Any) -> str:
        anna = User.objects.get(email="admin@testi.example")
        response = requests.post(
            f"{live_server.url}/api/v1/organizations/{world.pk}/portal-sessions",
            json={"user": str(anna.pk), "return_url": RETURN_URL, **body},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        url: str = response.json()["url"]
        assert url.startswith(f"{live_server.url}/portal-session/")
        return url

    return portal_link


def watch_policy(page: Any) -> list[str]:
    """Console messages about anything the Content-Security-Policy refused."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return refused


@pytest.mark.parametrize("language", ["en", "nl", "fi"])
def test_a_link_lands_on_the_section_in_its_language_and_works_once(
    browse: Any, vendor_product: Any, language: str
) -> None:
    url = vendor_product(section="licenses", language=language)
    b = browse()
    page = b.page
    refused = watch_policy(page)
    page.goto(url)
    expect(page).to_have_url(f"{b.base_url}/settings/subscription/licences/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("main")).to_contain_text(LICENCES[language])
    back = page.locator("header a.back-to-product")
    expect(back).to_contain_text("Acme Books")
    expect(back).to_have_attribute("href", RETURN_URL)
    expect(back).to_have_attribute("target", "_top")
    # The session stays in the link's language on the next page too.
    page.goto("/settings/subscription/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("header a.back-to-product")).to_be_visible()
    page.goto("/settings/subscription/licences/")
    b.shot(f"portal-session-landing-{language}")

    again = browse()
    refused_again = watch_policy(again.page)
    response = again.page.goto(url)
    assert response is not None and response.status == 410
    expect(again.page.locator("html")).to_have_attribute("lang", language)
    way_back = again.page.locator("main a.button")
    expect(way_back).to_contain_text("Acme Books")
    expect(way_back).to_have_attribute("href", RETURN_URL)
    expect(again.page.get_by_role("button", name="Sign out")).to_have_count(0)
    again.shot(f"portal-session-used-{language}")
    assert refused == [] and refused_again == []


def test_a_forged_link_leads_to_sign_in(browse: Any, vendor_product: Any) -> None:
    b = browse()
    response = b.page.goto("/portal-session/not-a-real-link/")
    assert response is not None and response.status == 404
    b.page.locator("main a.button").click()
    expect(b.page).to_have_url(f"{b.base_url}/sign-in/")
    b.page.goto("/portal-session/not-a-real-link/")
    b.shot("portal-session-forged-en")


def test_a_link_replaces_whoever_was_signed_in(browse: Any, vendor_product: Any) -> None:
    from abonnement.accounts.services import create_user
    from tests.browser.conftest import PASSWORD
    from tests.conftest import admin_of

    anna = User.objects.get(email="admin@testi.example")
    create_user(
        organization=anna.organization,
        email="olga@testi.example",
        name="Olga Operator",
        permissions_granted=["manage_users"],
        actor=admin_of(anna.organization),
        now=NOW,
        password=PASSWORD,
    )
    b = browse()
    b.sign_in("olga@testi.example")
    b.page.goto(vendor_product(section="overview"))
    expect(b.page).to_have_url(f"{b.base_url}/settings/subscription/")
    expect(b.page.get_by_role("heading", name="Current billing period")).to_be_visible()
    b.page.goto("/account/profile/")
    expect(b.page.locator("main")).to_contain_text("admin@testi.example")


def test_the_pages_and_their_scripts_work_under_the_policy(
    browse: Any, vendor_product: Any
) -> None:
    """htmx and the portal's script are the installation's own files: the settings menu and
    the dialogs work, and the console reports nothing the policy refused."""
    b = browse()
    page = b.page
    refused = watch_policy(page)
    page.goto(vendor_product(section="overview"))
    gear = page.locator("summary", has_text="Settings")
    gear.click()
    expect(page.get_by_role("navigation", name="Settings")).to_be_visible()
    page.keyboard.press("Escape")
    page.goto("/settings/subscription/licences/")
    page.get_by_label("Total number of user licences").fill("11")
    page.get_by_role("button", name="Continue").first.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    for address in ("/settings/users/", "/settings/subscription/history/", "/api/v1/docs"):
        page.goto(address)
    expect(page.locator(".swagger-ui")).to_be_visible()
    assert refused == []
