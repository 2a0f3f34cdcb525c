"""From a fresh installation to the Overview through an invitation, in Chromium.

A database with the catalogue only (no demo organisations): the vendor provisions a
customer over the HTTP API with its token, the worker e-mails the invitation through a
real SMTP server (aiosmtpd on loopback), the administrator follows the e-mailed link,
chooses a password and lands on Overview; the link fails the second time. Then every page
of inviting and resetting in English, Dutch and Finnish, each kept as a screenshot.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from abonnement.accounts import passwords
from abonnement.accounts.models import User
from abonnement.accounts.services import create_user, create_vendor_token
from abonnement.core.actor import Actor
from tests.browser.conftest import PASSWORD, SCREENSHOTS
from tests.conftest import NOW, admin_of

pytestmark = pytest.mark.django_db(transaction=True)

CHOSEN = "amber falcon window 19"
LOCALES = {"en": "en-GB", "nl": "nl-NL", "fi": "fi-FI"}
PROVISION = {
    "name": "Kevät Oy",
    "vat_number": "FI23456780",
    "country": "FI",
    "currency": "EUR",
    "language": "en",
    "edition": "pro",
    "licenses": 5,
    "period_months": 12,
    "admin": {"email": "kaisa@kevat.example", "name": "Kaisa Kevät"},
}


def run_worker() -> None:
    """The database worker as ``abonnement worker --batch`` runs it: every ready task, each
    claimed in its own transaction, until none is left."""
    from django_tasks_db.management.commands.db_worker import Worker

    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


class Recorder:
    """An aiosmtpd handler keeping what it received."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[Recorder]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield recorder
    finally:
        controller.stop()


@pytest.fixture
def installation(transactional_db: Any, clock: None, live_server: Any, settings: Any) -> Any:
    """A fresh installation: the catalogue, no organisation; links point at the server."""
    from django.core.cache import cache

    from tests.browser.conftest import _restore_operator_table
    from tests.conftest import make_catalog

    cache.clear()
    _restore_operator_table()
    make_catalog()
    settings.PUBLIC_URL = live_server.url
    return live_server


class Tab:
    """A browser context in one language; requests anywhere but the live server fail."""

    def __init__(self, browser: Any, base_url: str, language: str = "en") -> None:
        self.base_url = base_url
        self.context = browser.new_context(
            base_url=base_url, viewport={"width": 1280, "height": 900}, locale=LOCALES[language]
        )
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.refused: list[str] = []
        self.page.on("request", self._watch)
        self.page.on(
            "console",
            lambda m: self.refused.append(m.text) if "Content Security Policy" in m.text else None,
        )

    def _watch(self, request: Any) -> None:
        if not request.url.startswith((self.base_url + "/", "data:")):
            self.outside.append(request.url)

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()
        assert self.outside == [], self.outside
        assert self.refused == [], self.refused


@pytest.fixture
def tabs(browser: Any, installation: Any) -> Iterator[Any]:
    opened: list[Tab] = []

    def open_tab(language: str = "en") -> Tab:
        tab = Tab(browser, installation.url, language)
        opened.append(tab)
        return tab

    yield open_tab
    for tab in opened:
        tab.close()


def test_a_provisioned_administrator_follows_the_invitation_to_the_overview(
    installation: Any, tabs: Any, smtp_server: Recorder
) -> None:
    token = create_vendor_token(name="Kevät CRM", actor=Actor.cli(), now=NOW).secret
    created = requests.post(
        f"{installation.url}/api/v1/organizations",
        json=PROVISION,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    assert smtp_server.messages == []  # the e-mail is the worker's job
    run_worker()
    received = [
        (sender, to, email.message_from_bytes(raw, policy=email.policy.default))
        for sender, to, raw in smtp_server.messages
    ]
    # (The first period's order confirmation goes to the administrator too.)
    invitations = [r for r in received if str(r[2]["Subject"]).endswith("choose your password")]
    ((sender, recipients, message),) = invitations
    assert (sender, recipients) == ("billing@abonnement.example", ["kaisa@kevat.example"])
    assert message["Subject"] == "You are invited to Kevät Oy: choose your password"
    body = message.get_content()
    assert "Abonnement Demo Oy has invited you to Kevät Oy in Abonnement" in body
    assert "The link works once and for 7 days." in body
    found = re.search(re.escape(installation.url) + r"/account/welcome/[^/\s]+/[^/\s]+/", body)
    assert found is not None, body
    link = found.group(0)

    tab = tabs()
    page = tab.page
    page.goto(link)
    expect(page).to_have_url(re.compile(r".*/account/welcome/[^/]+/set-password/$"))
    assert "/set-password/" in page.url and link.split("/")[-2] not in page.url
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Choose a password for your account at Kevät Oy")
    page.get_by_label("New password").fill("too short")
    page.get_by_label("The same password again").fill("too short")
    page.get_by_role("button", name="Save password and sign in").click()
    expect(page.locator("main")).to_contain_text("This password is too short.")
    tab.shot("invitation-set-password-refused-en")
    page.get_by_label("New password").fill(CHOSEN)
    page.get_by_label("The same password again").fill(CHOSEN)
    page.get_by_role("button", name="Save password and sign in").click()
    expect(page).to_have_url(f"{installation.url}/settings/subscription/")
    expect(page.locator("main")).to_contain_text("Your password has been saved. You are signed in.")
    expect(page.locator("main h1")).to_contain_text("Subscription")
    tab.shot("invitation-overview-en")
    kaisa = User.objects.get(email="kaisa@kevat.example")
    assert kaisa.check_password(CHOSEN)
    assert kaisa.last_login == NOW

    again = tabs()
    again.page.goto(link)
    expect(again.page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    expect(again.page.locator("main")).to_contain_text("has been used already")
    again.shot("invitation-used-en")

    # She signs in with the chosen password from now on.
    signed = tabs()
    signed.page.goto("/sign-in/")
    signed.page.get_by_label("E-mail address").fill("kaisa@kevat.example")
    signed.page.get_by_label("Password", exact=True).fill(CHOSEN)
    signed.page.get_by_role("button", name="Sign in", exact=True).click()
    expect(signed.page).to_have_url(f"{installation.url}/settings/subscription/")


@pytest.mark.parametrize("language", ["en", "nl", "fi"])
def test_the_invitation_and_reset_pages_in_each_language(
    installation: Any, tabs: Any, language: str
) -> None:
    from tests.conftest import make_organization

    org = make_organization(language=language, admin_password=PASSWORD)
    bea = create_user(
        organization=org,
        email="bea@testi.example",
        name="Bea Berg",
        actor=admin_of(org),
        now=NOW,
        invite=True,
    ).user

    visitor = tabs(language)
    page = visitor.page
    page.goto("/sign-in/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator("a[href='/account/forgot-password/']").click()
    expect(page).to_have_url(f"{installation.url}/account/forgot-password/")
    visitor.shot(f"password-reset-form-{language}")
    page.locator("#id_email").fill("not an address")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#id_email_error")).to_be_visible()
    page.locator("#id_email").fill("bea@testi.example")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{installation.url}/account/forgot-password/sent/")
    expect(page.locator("main")).to_contain_text("bea@testi.example")
    visitor.shot(f"password-reset-sent-{language}")
    page.goto("/account/reset/MQ/1-forged/")
    expect(page.locator("main .notice-error")).to_be_visible()
    visitor.shot(f"password-reset-expired-{language}")
    page.goto("/account/welcome/MQ/1-forged/")
    expect(page.locator("main .notice-error")).to_be_visible()
    visitor.shot(f"invitation-expired-{language}")

    invited = tabs(language)
    invited.page.goto(passwords.invitation_link(bea))
    expect(invited.page.locator("#id_password")).to_be_visible()
    # The page speaks the language the e-mail was written in (the organisation's here).
    expect(invited.page.locator("html")).to_have_attribute("lang", language)
    invited.shot(f"invitation-set-password-{language}")

    admin = tabs(language)
    page = admin.page
    page.goto("/sign-in/")
    page.locator("#id_username").fill("admin@testi.example")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/settings/**")
    page.goto("/settings/users/")
    row = page.locator("tr", has_text="bea@testi.example")
    expect(row.locator(".invited")).to_be_visible()
    if language == "en":
        expect(row).to_contain_text("Invited on 15 Jan 2027, not signed in yet")
    admin.shot(f"invitation-user-list-{language}")
    row.locator("form[action$='/invite/'] button").click()
    expect(page.locator(".notice-success")).to_contain_text("bea@testi.example")
    admin.shot(f"invitation-resent-{language}")
    page.goto("/settings/users/new/")
    expect(page.locator("#id_invite")).to_be_checked()
    admin.shot(f"invitation-add-user-{language}")
