"""Staff's second factor (ABONNEMENT_STAFF_MFA, on by default): enrolment at the first
sign-in, the code at every later one, recovery codes, limits, and the admin's share of it.

Codes are computed here as an authenticator app does (pyotp, from the device's secret)."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import pyotp
import pytest
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from abonnement.accounts.models import User
from abonnement.backoffice import mfa
from tests.backoffice.conftest import make_staff, signed_in

PASSWORD = "staff-password-2026"
SIGN_IN = "/backoffice/sign-in/"
VERIFY = "/backoffice/two-factor/"
ENROL = "/backoffice/two-factor/enrol/"
RECOVERY = "/backoffice/two-factor/recovery-codes/"
HOME = "/backoffice/"


def secret_of(device: TOTPDevice) -> str:
    """The base32 secret an authenticator app is given (django-otp keeps the key in hex)."""
    return base64.b32encode(bytes.fromhex(device.key)).decode()


def code_of(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the app shows now (or ``steps_ahead`` 30-second steps later)."""
    return str(pyotp.TOTP(secret_of(device)).at(time.time() + 30 * steps_ahead))


def enrolled(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)


def password_step(client: Client, email: str = "support@vendor.example", **extra: str) -> Any:
    return client.post(SIGN_IN, {"username": email, "password": PASSWORD, **extra})


def page_text(response: Any) -> str:
    return response.content.decode()


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def no_throttle(settings: Any) -> None:
    """django-otp makes a device wait (1 s, doubling) after a wrong code; tests that give
    the right code right after a wrong one switch that wait off."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


class TestEnrolment:
    def test_first_sign_in_enrols_the_authenticator_and_shows_recovery_codes_once(
        self, support_user: User
    ) -> None:
        client = Client()
        response = password_step(client)
        assert (response.status_code, response["Location"]) == (302, ENROL)
        assert not is_signed_in(client)

        page = client.get(ENROL)
        assert page.status_code == 200
        assert page["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
        device = TOTPDevice.objects.get(user=support_user)
        assert device.confirmed is False
        text = page_text(page)
        # The QR code is drawn inline; nothing is loaded from elsewhere, no inline style.
        assert "<svg" in text and "<img" not in text and "style=" not in text
        assert mfa.secret(device) in text
        assert mfa.secret(device).replace(" ", "") == secret_of(device).rstrip("=")
        assert "otpauth://totp/Abonnement%3Asupport%40vendor.example?secret=" in device.config_url
        # Reloading keeps the secret that may have been scanned already.
        client.get(ENROL)
        assert list(TOTPDevice.objects.filter(user=support_user)) == [device]

        response = client.post(ENROL, {"code": code_of(device)})
        assert (response.status_code, response["Location"]) == (302, RECOVERY)
        assert client.session["_auth_user_id"] == str(support_user.pk)
        assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
        device.refresh_from_db()
        assert device.confirmed is True

        codes_page = client.get(RECOVERY)
        assert codes_page.status_code == 200
        shown = re.findall(r"<li>([a-z2-7]{8})</li>", page_text(codes_page))
        stored = StaticToken.objects.filter(device__user=support_user).values_list(
            "token", flat=True
        )
        assert len(shown) == 10 and sorted(shown) == sorted(stored)
        assert f'href="{HOME}"' in page_text(codes_page)
        # Shown once: the page is gone on the next visit.
        again = client.get(RECOVERY)
        assert (again.status_code, again["Location"]) == (302, HOME)
        assert client.get(HOME).status_code == 200
        support_user.refresh_from_db()
        assert support_user.last_login is not None

    def test_a_wrong_code_is_refused_and_nothing_is_enrolled(self, support_user: User) -> None:
        client = Client()
        password_step(client)
        client.get(ENROL)
        device = TOTPDevice.objects.get(user=support_user)
        wrong = f"{(int(code_of(device)) + 1) % 1_000_000:06d}"
        response = client.post(ENROL, {"code": wrong})
        assert response.status_code == 422
        assert "That code is not right. Enter the 6-digit code the app shows now." in page_text(
            response
        )
        device.refresh_from_db()
        assert device.confirmed is False
        assert not is_signed_in(client)
        assert StaticDevice.objects.filter(user=support_user).count() == 0
        assert client.get(HOME)["Location"] == f"{SIGN_IN}?next={HOME}"

    def test_the_next_page_asked_for_is_reached_after_the_recovery_codes(
        self, support_user: User
    ) -> None:
        client = Client()
        client.post(
            f"{SIGN_IN}?next=/backoffice/feedback/",
            {"username": "support@vendor.example", "password": PASSWORD},
        )
        client.get(ENROL)
        device = TOTPDevice.objects.get(user=support_user)
        client.post(ENROL, {"code": code_of(device)})
        assert 'href="/backoffice/feedback/"' in page_text(client.get(RECOVERY))

    def test_an_enrolled_staff_member_is_not_offered_a_new_authenticator(
        self, support_user: User
    ) -> None:
        enrolled(support_user)
        client = Client()
        assert password_step(client)["Location"] == VERIFY
        assert client.get(ENROL)["Location"] == VERIFY
        assert TOTPDevice.objects.filter(user=support_user).count() == 1


class TestCode:
    def test_the_code_signs_in_and_lands_where_asked(self, support_user: User) -> None:
        device = enrolled(support_user)
        client = Client()
        response = client.post(
            f"{SIGN_IN}?next=/backoffice/feedback/",
            {"username": "support@vendor.example", "password": PASSWORD},
        )
        assert (response.status_code, response["Location"]) == (302, VERIFY)
        assert not is_signed_in(client)
        # Between the two steps nobody is signed in: no back-office page, no admin.
        assert client.get(HOME)["Location"] == f"{SIGN_IN}?next={HOME}"
        assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"

        response = client.post(VERIFY, {"code": code_of(device)})
        assert (response.status_code, response["Location"]) == (302, "/backoffice/feedback/")
        assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
        assert client.get(HOME).status_code == 200

    def test_a_wrong_code_is_refused_and_the_session_is_not_verified(
        self, support_user: User
    ) -> None:
        device = enrolled(support_user)
        client = Client()
        password_step(client)
        wrong = f"{(int(code_of(device)) + 1) % 1_000_000:06d}"
        response = client.post(VERIFY, {"code": wrong})
        assert response.status_code == 422
        assert (
            "That code is not right. Enter the 6-digit code your authenticator app shows now, "
            "or one of your recovery codes." in page_text(response)
        )
        assert not is_signed_in(client)
        assert DEVICE_ID_SESSION_KEY not in client.session
        assert client.get(HOME).status_code == 302
        device.refresh_from_db()
        assert device.throttling_failure_count == 1

    def test_right_after_a_wrong_code_the_device_waits(self, support_user: User) -> None:
        device = enrolled(support_user)
        client = Client()
        password_step(client)
        client.post(VERIFY, {"code": "000000" if code_of(device) != "000000" else "111111"})
        response = client.post(VERIFY, {"code": code_of(device)})
        assert response.status_code == 429
        assert "Too many wrong codes. Wait 1 second and try again." in page_text(response)
        assert not is_signed_in(client)

    def test_a_code_works_once(self, support_user: User) -> None:
        device = enrolled(support_user)
        code = code_of(device)
        first = Client()
        password_step(first)
        assert first.post(VERIFY, {"code": code})["Location"] == HOME
        second = Client()
        password_step(second)
        response = second.post(VERIFY, {"code": code})
        assert response.status_code == 422
        assert not is_signed_in(second)

    def test_wrong_codes_are_limited_like_passwords(
        self, support_user: User, settings: Any, no_throttle: None
    ) -> None:
        settings.SIGN_IN_LIMIT_PER_ACCOUNT = 3
        device = enrolled(support_user)
        client = Client()
        password_step(client)
        for _attempt in range(3):
            assert client.post(VERIFY, {"code": "abcdefgh"}).status_code == 422
        # A right password again does not clear the codes' counter.
        password_step(client)
        response = client.post(VERIFY, {"code": code_of(device)})
        assert response.status_code == 429
        assert "Too many wrong codes. Wait 15 minutes and try again." in page_text(response)
        assert not is_signed_in(client)

    def test_a_right_code_after_a_wrong_one_signs_in(
        self, support_user: User, no_throttle: None
    ) -> None:
        device = enrolled(support_user)
        client = Client()
        password_step(client)
        client.post(VERIFY, {"code": "abcdefgh"})
        assert client.post(VERIFY, {"code": code_of(device)})["Location"] == HOME

    def test_the_password_step_lasts_ten_minutes(self, support_user: User) -> None:
        device = enrolled(support_user)
        client = Client()
        password_step(client)
        session = client.session
        session["abonnement_staff_pending"]["until"] = time.time() - 1
        session.save()
        response = client.post(VERIFY, {"code": code_of(device)})
        assert response["Location"] == f"{SIGN_IN}?next={HOME}"
        assert not is_signed_in(client)

    def test_a_deactivation_between_the_steps_voids_the_password_step(
        self, support_user: User
    ) -> None:
        from abonnement.accounts.staff import deactivate_staff
        from abonnement.core.actor import Actor
        from tests.conftest import NOW

        device = enrolled(support_user)
        client = Client()
        password_step(client)
        deactivate_staff(email=support_user.email, actor=Actor.cli(), now=NOW)
        response = client.post(VERIFY, {"code": code_of(device)})
        assert response["Location"] == f"{SIGN_IN}?next={HOME}"
        assert not is_signed_in(client)

    def test_without_a_password_step_the_code_pages_send_to_the_sign_in(self, db: Any) -> None:
        client = Client()
        for url in (VERIFY, ENROL):
            assert client.get(url)["Location"] == f"{SIGN_IN}?next={HOME}"


class TestRecoveryCodes:
    def codes(self, user: User) -> list[str]:
        device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
        codes = ["abcd2345", "efgh6723"]
        for code in codes:
            StaticToken.objects.create(device=device, token=code)
        return codes

    def test_a_recovery_code_signs_in_once(self, support_user: User) -> None:
        enrolled(support_user)
        first, second = self.codes(support_user)
        client = Client()
        password_step(client)
        # As people type it: upper case, in two groups.
        response = client.post(VERIFY, {"code": first.upper()[:4] + " " + first.upper()[4:]})
        assert (response.status_code, response["Location"]) == (302, HOME)
        assert mfa.recovery_codes_left(support_user) == 1

        again = Client()
        password_step(again)
        response = again.post(VERIFY, {"code": first})
        assert response.status_code == 422
        assert not is_signed_in(again)
        assert list(
            StaticToken.objects.filter(device__user=support_user).values_list("token", flat=True)
        ) == [second]


class TestWhereTheSecondFactorIsNeeded:
    def test_staff_signed_in_with_the_password_alone_are_sent_to_the_sign_in(
        self, support_user: User
    ) -> None:
        client = signed_in(support_user, verified=False)
        assert client.get(HOME)["Location"] == f"{SIGN_IN}?next={HOME}"
        url = reverse("backoffice:feedback")
        assert client.get(url)["Location"] == f"{SIGN_IN}?next={url}"
        # The sign-in page shows its form instead of sending them back.
        assert client.get(SIGN_IN).status_code == 200

    def test_the_admin_refuses_a_session_without_the_second_factor(
        self, support_user: User
    ) -> None:
        unverified = signed_in(support_user, verified=False)
        assert unverified.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
        assert unverified.get("/admin/catalog/edition/").status_code == 302
        assert signed_in(support_user).get("/admin/").status_code == 200

    def test_the_admins_sign_in_hands_over_to_the_second_factor(self, support_user: User) -> None:
        device = enrolled(support_user)
        client = Client()
        response = client.post(
            "/admin/login/?next=/admin/catalog/edition/",
            {"username": "support@vendor.example", "password": PASSWORD},
        )
        assert (response.status_code, response["Location"]) == (302, VERIFY)
        assert not is_signed_in(client)
        assert client.get("/admin/").status_code == 302
        response = client.post(VERIFY, {"code": code_of(device)})
        assert response["Location"] == "/admin/catalog/edition/"
        assert client.get("/admin/catalog/edition/").status_code == 200

    def test_the_admins_sign_in_still_refuses_a_wrong_password(self, support_user: User) -> None:
        client = Client()
        response = client.post(
            "/admin/login/", {"username": "support@vendor.example", "password": "wrong"}
        )
        assert response.status_code == 200
        assert "abonnement_staff_pending" not in client.session

    def test_a_customer_signed_in_elsewhere_is_signed_out_by_the_password_step(
        self, support_user: User, customer_user: User
    ) -> None:
        client = signed_in(customer_user)
        password_step(client)
        assert not is_signed_in(client)

    def test_without_staff_mfa_the_password_signs_in_and_the_code_pages_are_unused(
        self, support_user: User, settings: Any
    ) -> None:
        settings.STAFF_MFA = False
        client = Client()
        assert password_step(client)["Location"] == HOME
        assert client.get(HOME).status_code == 200
        assert client.get("/admin/").status_code == 200
        assert client.get(VERIFY)["Location"] == SIGN_IN
        assert TOTPDevice.objects.count() == 0

    def test_roleless_staff_get_no_second_step(self, db: Any) -> None:
        make_staff("")
        client = Client()
        response = password_step(client, "norole@vendor.example")
        assert response.status_code == 200
        assert "abonnement_staff_pending" not in client.session
