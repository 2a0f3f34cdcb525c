"""Customer service in a real browser: find an organisation, schedule an edition change
with its price preview, answer a customer's edition-change request. Uses the browser
fixtures of ``tests/browser/conftest.py`` (one Chromium per session, a context per test)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

# serialized_rollback: the tables a data migration fills (e-invoice operators) are put back.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

STAFF_PASSWORD = "staff horse battery 8"


@pytest.fixture
def staff(world: Any, settings: Any) -> Any:
    from abonnement.accounts.models import User

    # The password alone signs in here (ABONNEMENT_STAFF_MFA=off, as in the demo); the second
    # factor has its own browser test (test_staff_mfa.py).
    settings.STAFF_MFA = False
    return User.objects.create_user(
        "bert@vendor.example",
        STAFF_PASSWORD,
        name="Bert Billing",
        is_staff=True,
        staff_role="billing",
    )


def staff_sign_in(b: Any, *, keyboard: bool = False) -> None:
    page = b.page
    page.goto("/backoffice/")
    expect(page).to_have_url(f"{b.base_url}/backoffice/sign-in/?next=/backoffice/")
    expect(page.get_by_role("heading", name="Customer service sign-in")).to_be_visible()
    if keyboard:
        # The e-mail field has the focus; Tab to the password, Enter submits.
        expect(page.get_by_label("E-mail address")).to_be_focused()
        page.keyboard.type("bert@vendor.example")
        page.keyboard.press("Tab")
        expect(page.get_by_label("Password")).to_be_focused()
        page.keyboard.type(STAFF_PASSWORD)
        b.shot("backoffice-sign-in")
        page.keyboard.press("Enter")
    else:
        page.get_by_label("E-mail address").fill("bert@vendor.example")
        page.get_by_label("Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Organisations", exact=True)).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_find_an_organisation_and_schedule_an_edition_change(
    browse: Any, world: Any, staff: Any, javascript: bool
) -> None:
    from abonnement.history.models import HistoryEntry
    from abonnement.subscriptions.models import Subscription

    b = browse(javascript=javascript)
    staff_sign_in(b, keyboard=javascript)
    page = b.page
    page.get_by_label("Find an organisation").fill("FI 2345 6780")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("table")
    expect(results).to_contain_text("Testi Oy")
    expect(results).to_contain_text("admin@testi.example")
    if javascript:
        b.shot("backoffice-search")
    page.get_by_role("link", name="Testi Oy").click()
    expect(page.get_by_role("heading", name="Testi Oy", exact=True)).to_be_visible()
    expect(page.locator("#overview")).to_contain_text("1 Jan 2027 – 30 Jun 2027")
    expect(page.locator("#overview")).to_contain_text("€1,260.00")
    if javascript:
        b.shot("backoffice-organization")

    page.get_by_role("link", name="Change the next period's edition").click()
    page.get_by_label("Edition for the next period").select_option("enterprise")
    page.get_by_role("button", name="Preview the price").click()
    preview = page.get_by_role("table")
    expect(preview).to_contain_text("Next period, 1 Jul 2027 – 31 Dec 2027")
    expect(preview).to_contain_text("€1,260.00")
    expect(preview).to_contain_text("€2,160.00")
    if javascript:
        b.shot("backoffice-edition-preview")
    assert Subscription.objects.get(organization=world).next_edition_id is None

    page.get_by_role("button", name="Schedule Enterprise from 1 Jul 2027").click()
    expect(page.locator(".notice-success")).to_have_text(
        "The next period will have the edition Enterprise."
    )
    expect(page.locator("#actions")).to_contain_text("Pro now; Enterprise from 1 Jul 2027.")
    subscription = Subscription.objects.select_related("edition", "next_edition").get(
        organization=world
    )
    assert (subscription.edition.code, subscription.next_edition.code) == ("pro", "enterprise")
    entry = HistoryEntry.objects.get(organization=world, action="edition_change_scheduled")
    assert (entry.actor_name, entry.channel) == ("Bert Billing", "back_office")
    if javascript:
        b.shot("backoffice-edition-scheduled")


def test_answer_an_edition_change_request(browse: Any, world: Any, staff: Any) -> None:
    from abonnement.subscriptions.models import EditionChangeRequest
    from abonnement.subscriptions.services import request_edition_change
    from tests.conftest import NOW, admin_of

    asked = request_edition_change(
        organization=world,
        edition="enterprise",
        message="We need single sign-on for the whole team.",
        actor=admin_of(world),
        now=NOW,
    )
    b = browse()
    staff_sign_in(b)
    page = b.page
    page.get_by_role("navigation", name="Back office").get_by_role(
        "link", name="Edition requests"
    ).click()
    inbox = page.get_by_role("table")
    expect(inbox).to_contain_text("Testi Oy")
    expect(inbox).to_contain_text("We need single sign-on for the whole team.")
    b.shot("backoffice-edition-requests")
    page.get_by_role("link", name="Answer the request of Testi Oy").click()
    expect(page.get_by_role("heading", name="Testi Oy asks for Enterprise")).to_be_visible()
    expect(page.locator("main")).to_contain_text("€2,160.00")

    # Declining needs a message for the customer: the error stands beside the field.
    page.get_by_role("button", name="Decline").click()
    message = page.get_by_label("Message to the customer")
    expect(message).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-error")).to_have_text(
        "Tell the customer why the request is declined."
    )
    assert EditionChangeRequest.objects.get(pk=asked.pk).status == "open"
    b.shot("backoffice-edition-request-error")

    message.fill("Scheduled from July; your administrators keep Pro until then.")
    page.get_by_role("button", name="Schedule Enterprise for the next period").click()
    expect(page.locator(".notice-success")).to_have_text(
        "Testi Oy will have Enterprise from the next period."
    )
    expect(page.locator("main")).to_contain_text("No open requests.")
    answered = EditionChangeRequest.objects.get(pk=asked.pk)
    assert (answered.status, answered.response, answered.decided_by) == (
        "scheduled",
        "Scheduled from July; your administrators keep Pro until then.",
        "Bert Billing",
    )
    b.shot("backoffice-edition-request-answered")


def test_keyboard_focus_is_visible(browse: Any, world: Any, staff: Any) -> None:
    b = browse()
    staff_sign_in(b)
    page = b.page
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
