"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

One browser per session, a new context per test. Every test keeps a screenshot under
``test-artifacts/screenshots/``. Any request to a host other than the live server fails
the test (the portal must never load anything from outside).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NOW

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery 7"


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright")


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def clock(settings: Any, transactional_db: Any) -> None:
    from abonnement.core.models import SimulatedClock

    settings.SIMULATED_CLOCK = True
    SimulatedClock.objects.update_or_create(pk=1, defaults={"now": NOW})


@pytest.fixture
def world(transactional_db: Any, clock: None) -> Any:
    """The test catalogue and Testi Oy, whose admin Anna can sign in."""
    from django.core.cache import cache

    from tests.conftest import make_catalog, make_organization

    cache.clear()
    _restore_operator_table()
    make_catalog()
    return make_organization(admin_password=PASSWORD)


def _restore_operator_table() -> None:
    """A transactional test empties every table when it ends, also the e-invoicing operator
    table that a data migration fills; put it back."""
    from abonnement.billing.models import EInvoiceOperator
    from abonnement.billing.operators import load_operator_table

    if not EInvoiceOperator.objects.exists():
        EInvoiceOperator.objects.bulk_create(
            EInvoiceOperator(code=row["code"], name=row["name"]) for row in load_operator_table()
        )


class Browse:
    """A page in its own context, with helpers that read like the steps of a person."""

    def __init__(self, browser: Any, base_url: str, *, width: int, javascript: bool) -> None:
        self.base_url = base_url
        self.context = browser.new_context(
            base_url=base_url,
            viewport={"width": width, "height": 900},
            locale="en-GB",
            java_script_enabled=javascript,
        )
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.outside: list[str] = []
        # Origins a test may visit besides the live server (the single sign-on provider).
        self.allowed_origins: list[str] = []
        self.page.on("request", self._watch)

    def _watch(self, request: Any) -> None:
        others = tuple(origin + "/" for origin in self.allowed_origins)
        if request.url.startswith((self.base_url + "/", "data:", *others)):
            return
        # What a page of an allowed other site loads (the provider's own stylesheet) is that
        # site's business; the portal's pages stay held to the live server.
        if others and not request.is_navigation_request() and request.frame.url.startswith(others):
            return
        self.outside.append(request.url)

    def sign_in(self, email: str = "admin@testi.example", password: str = PASSWORD) -> None:
        self.page.goto("/sign-in/")
        self.page.get_by_label("E-mail address").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url("**/settings/**")

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def browse(browser: Any, live_server: Any, world: Any) -> Iterator[Any]:
    opened: list[Browse] = []

    def open_page(*, width: int = 1280, javascript: bool = True) -> Browse:
        session = Browse(browser, live_server.url, width=width, javascript=javascript)
        opened.append(session)
        return session

    yield open_page
    for session in opened:
        session.close()
        assert session.outside == [], f"requests to other hosts: {session.outside}"
