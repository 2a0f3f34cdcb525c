"""A new staff member in Chromium: the operator's link → choose a password → scan the QR
code (the test reads the key off the page, as a person types it into an app) → the code →
recovery codes → the back office; then a later sign-in with the code, and "Forgot your
password?". The back office is English only; a screenshot of each new page."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSWORD = "quiet lantern orbit 58"


def test_a_new_staff_member_enrols_an_authenticator_and_signs_in_with_it(
    browse: Any, world: Any
) -> None:
    from django.conf import settings

    from abonnement.accounts.staff import create_staff
    from abonnement.core.actor import Actor
    from tests.conftest import NOW

    invitation = create_staff(
        email="sanna@vendor.example",
        name="Sanna Support",
        role="support",
        actor=Actor.cli(),
        now=NOW,
    )
    b = browse()
    page = b.page
    page.goto(invitation.link.removeprefix(settings.PUBLIC_URL))
    expect(page).to_have_url(
        f"{b.base_url}/backoffice/welcome/{invitation.link.split('/')[-3]}/set-password/"
    )
    expect(page.get_by_role("heading", name="Welcome to the back office")).to_be_visible()
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("The same password again").fill("not the same one")
    page.get_by_role("button", name="Save the password").click()
    expect(page.get_by_text("The two passwords differ. Type the same one twice.")).to_be_visible()
    b.shot("staff-set-password")
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("The same password again").fill(PASSWORD)
    page.get_by_role("button", name="Save the password").click()

    expect(page.get_by_role("heading", name="Set up your authenticator")).to_be_visible()
    expect(
        page.get_by_text("Your password is saved. Now set up your authenticator.")
    ).to_be_visible()
    qr = page.locator(".qr svg")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 150
    b.shot("staff-mfa-enrol")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    app = pyotp.TOTP(secret)
    page.get_by_label("Code from the app").fill("000000" if app.now() != "000000" else "111111")
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()
    # django-otp makes the device wait a second after a wrong code.
    time.sleep(1.1)
    page.get_by_label("Code from the app").fill(app.now())
    page.get_by_role("button", name="Confirm and sign in").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.get_by_role("list", name="Recovery codes").locator("li").all_inner_texts()
    assert len(codes) == 10 and all(len(code) == 8 for code in codes)
    b.shot("staff-recovery-codes")
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page.get_by_role("heading", name="Organisations", exact=True)).to_be_visible()
    expect(page.get_by_text("Sanna Support")).to_be_visible()

    # A later sign-in: the password, then the app's next code.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("E-mail address").fill("sanna@vendor.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    b.shot("staff-mfa-verify")
    page.get_by_label("Code").fill(app.at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Organisations", exact=True)).to_be_visible()

    # And with a recovery code, which then is used up.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("E-mail address").fill("sanna@vendor.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Organisations", exact=True)).to_be_visible()


def test_forgot_password(browse: Any, world: Any) -> None:
    b = browse()
    page = b.page
    page.goto("/backoffice/sign-in/")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    b.shot("staff-forgot-password")
    page.get_by_label("E-mail address").fill("someone@vendor.example")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    expect(page.get_by_text("If someone@vendor.example belongs to a staff account")).to_be_visible()
    b.shot("staff-forgot-password-sent")
