"""Password reset (issue 17, part 4): "Forgot your password?" answers the same whether or
not the address exists, the link lives one hour and works once, requests are rate-limited
per address and per account, and Django's password validators apply."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client, TestCase
from django_tasks_db.models import DBTaskResult

from abonnement.accounts import passwords, ratelimit
from abonnement.accounts.errors import RateLimited
from abonnement.accounts.models import SignInFailures, StaffRole, User
from abonnement.accounts.services import create_user, deactivate_user
from abonnement.core.models import SimulatedClock
from abonnement.history.models import HistoryEntry
from tests.conftest import NOW, admin_of

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
RESET_LINK = re.compile(
    r"http://127\.0\.0\.1:8000(/account/reset/(?P<uid>[^/]+)/(?P<token>[^/]+)/)"
)
OLD_PASSWORD = "first garden lantern 1"
NEW_PASSWORD = "second orchard kettle 2"
TASK = "abonnement.accounts.tasks.send_password_reset_email"


@pytest.fixture(autouse=True)
def clock(settings: Any, db: Any) -> None:
    settings.SIMULATED_CLOCK = True
    SimulatedClock.objects.update_or_create(pk=1, defaults={"now": NOW})


def move_clock(to: Any) -> None:
    SimulatedClock.objects.filter(pk=1).update(now=to)


@pytest.fixture
def anna(org: Any) -> User:
    user = User.objects.get(email="admin@testi.example")
    user.set_password(OLD_PASSWORD)
    user.save()
    return user


def ask(client: Client, email: str, address: str = "10.0.0.1") -> Any:
    return client.post("/account/forgot-password/", {"email": email}, REMOTE_ADDR=address)


def reset_tasks() -> list[dict[str, Any]]:
    return [
        row.args_kwargs["kwargs"]
        for row in DBTaskResult.objects.filter(task_path=TASK).order_by("enqueued_at", "id")
    ]


def without_csrf(body: str) -> str:
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", body)


def mailed_link(settings: Any, email: str, audience: str = "portal") -> tuple[str, str, str]:
    """Run the task as the worker would: the path of the link it mailed, its user part and
    its token."""
    settings.TASKS = IMMEDIATE
    with TestCase.captureOnCommitCallbacks(execute=True):
        passwords.request_password_reset(
            email=email, address="10.9.9.9", audience=audience, now=NOW
        )
    (message,) = mail.outbox
    mail.outbox.clear()
    match = RESET_LINK.search(message.body)
    assert match is not None, message.body
    return match.group(1), match.group("uid"), match.group("token")


class TestTheRequest:
    def test_the_sign_in_page_offers_it(self, org: Any) -> None:
        body = Client().get("/sign-in/").content.decode()
        assert '<a href="/account/forgot-password/">Forgot your password?</a>' in body

    def test_known_and_unknown_addresses_get_the_same_answer(
        self, anna: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        answers = []
        for email in ("admin@testi.example", "nobody@testi.example"):
            client = Client()
            with django_capture_on_commit_callbacks(execute=True):
                asked = ask(client, email)
            sent = client.get(asked["Location"])
            answers.append(
                (
                    asked.status_code,
                    asked["Location"],
                    sorted(asked.cookies),
                    sent.status_code,
                    without_csrf(sent.content.decode()).replace(email, "ADDRESS"),
                )
            )
        assert answers[0] == answers[1]
        assert answers[0][:4] == (302, "/account/forgot-password/sent/", ["sessionid"], 200)
        assert "If ADDRESS belongs to an account, a link to choose a new password" in answers[0][4]
        # Each asked once: one task each, whether or not the address is known.
        assert reset_tasks() == [
            {"email": "admin@testi.example", "audience": "portal"},
            {"email": "nobody@testi.example", "audience": "portal"},
        ]

    @pytest.mark.django_db(transaction=True)
    def test_known_and_unknown_addresses_take_the_same_time(
        self, anna: User, settings: Any
    ) -> None:
        """Both paths do the same work (count the request, enqueue one task, redirect), so
        the medians of ten tries each differ by noise only; a password hash on one path
        alone (~50–150 ms with Argon2) would exceed the bound."""
        settings.SIGN_IN_LIMIT_PER_ACCOUNT = 100
        settings.SIGN_IN_LIMIT_PER_ADDRESS = 100
        client = Client()
        for _warm in range(3):
            ask(client, "warm@testi.example")
        timings: dict[str, list[float]] = {"known": [], "unknown": []}
        for _try in range(10):
            for kind, email in (("known", "admin@testi.example"), ("unknown", "x@testi.example")):
                started = time.perf_counter()
                answer = ask(client, email)
                timings[kind].append(time.perf_counter() - started)
                assert answer.status_code == 302
        known, unknown = (statistics.median(timings[k]) for k in ("known", "unknown"))
        assert abs(known - unknown) < 0.04, (known, unknown)
        assert len(reset_tasks()) == 23

    def test_an_invalid_address_is_a_field_error_and_counts_nothing(self, org: Any) -> None:
        answer = ask(Client(), "not an address")
        assert answer.status_code == 200
        assert "Enter an e-mail address such as name@example.com." in answer.content.decode()
        assert (reset_tasks(), SignInFailures.objects.count()) == ([], 0)

    def test_requests_are_limited_per_account(self, anna: User, settings: Any) -> None:
        settings.SIGN_IN_LIMIT_PER_ACCOUNT = 2
        client = Client()
        for address in ("10.0.0.1", "10.0.0.2"):
            assert ask(client, "Admin@Testi.example", address).status_code == 302
        refused = ask(client, "admin@testi.example", "10.0.0.3")
        assert refused.status_code == 429
        assert "Too many requests. Wait 15 minutes and try again." in refused.content.decode()
        assert len(reset_tasks()) == 0  # nothing ran after commit in this test transaction
        # The refused request counted nothing; another account is not limited.
        key = ratelimit._key("account", "admin@testi.example", ratelimit.RESET)
        assert SignInFailures.objects.get(key=key).failures == 2
        assert ask(client, "bea@testi.example", "10.0.0.3").status_code == 302

    def test_requests_are_limited_per_address(self, org: Any, settings: Any) -> None:
        settings.SIGN_IN_LIMIT_PER_ADDRESS = 3
        client = Client()
        for number in range(3):
            assert ask(client, f"guess{number}@testi.example", "10.0.0.7").status_code == 302
        assert ask(client, "guess9@testi.example", "10.0.0.7").status_code == 429
        assert ask(client, "guess9@testi.example", "10.0.0.8").status_code == 302

    def test_the_limit_counts_apart_from_failed_sign_ins(self, anna: User, settings: Any) -> None:
        settings.SIGN_IN_LIMIT_PER_ACCOUNT = 1
        with pytest.raises(RateLimited):
            for _attempt in range(2):
                passwords.request_password_reset(
                    email="admin@testi.example", address="10.0.0.1", audience="portal", now=NOW
                )
        signed_in = Client().post(
            "/sign-in/", {"username": "admin@testi.example", "password": OLD_PASSWORD}
        )
        assert (signed_in.status_code, signed_in["Location"]) == (302, "/")


class TestTheTask:
    def test_mails_a_link_to_an_active_portal_user_only(self, anna: User, org: Any) -> None:
        bea = create_user(
            organization=org, email="bea@testi.example", name="Bea", actor=admin_of(org), now=NOW
        ).user
        deactivate_user(
            organization=org, user_id=bea.pk, license="keep", actor=admin_of(org), now=NOW
        )
        staff = User.objects.create_user(
            "helpdesk@vendor.example",
            "x" * 12,
            name="Hilla",
            is_staff=True,
            staff_role=StaffRole.SUPPORT,
        )
        for email, audience in (
            ("nobody@testi.example", "portal"),
            ("bea@testi.example", "portal"),  # deactivated
            (staff.email, "portal"),  # staff reset in the back office
            ("admin@testi.example", "backoffice"),  # customers reset in the portal
        ):
            assert passwords.deliver_password_reset(email=email, audience=audience) == (
                "skipped: no active user with this address"
            )
        assert mail.outbox == []
        assert passwords.deliver_password_reset(email=anna.email, audience="portal") == "sent"
        (message,) = mail.outbox
        assert (message.to, message.subject) == (["admin@testi.example"], "Choose a new password")
        match = RESET_LINK.search(message.body)
        assert match is not None
        assert message.body == (
            "Hello Anna Admin,\n\n"
            "Someone, hopefully you, asked for a new password for admin@testi.example. "
            "Choose one with this link:\n\n"
            f"{match.group(0)}\n\n"
            "The link works once and for 1 hour. If you did not ask for it, ignore this "
            "e-mail: your password stays as it is.\n"
        )

    def test_the_unknown_task_audience_is_skipped(self) -> None:
        from abonnement.accounts.tasks import send_password_reset_email

        assert send_password_reset_email.call(email="a@b.example", audience="other") == (
            "skipped: unknown audience 'other'"
        )


class TestTheLink:
    def test_lives_one_hour(self, anna: User, settings: Any) -> None:
        path, uid, token = mailed_link(settings, anna.email)
        assert passwords.check_link(uidb64=uid, token=token, kind="reset") == anna
        move_clock(NOW + timedelta(hours=1))
        assert passwords.check_link(uidb64=uid, token=token, kind="reset") == anna
        move_clock(NOW + timedelta(hours=1, seconds=1))
        assert passwords.check_link(uidb64=uid, token=token, kind="reset") is None
        expired = Client().get(path, follow=True)
        assert expired.status_code == 410
        assert "The password link has expired or has been used already." in (
            expired.content.decode()
        )
        assert passwords.check_link(uidb64=uid, token=token, kind="invitation") is None

    def test_works_once_signs_in_and_ends_every_other_session(
        self, anna: User, settings: Any
    ) -> None:
        elsewhere = Client()
        elsewhere.force_login(anna)
        assert elsewhere.get("/settings/").status_code == 200
        path, _uid, token = mailed_link(settings, anna.email)
        browser = Client()
        form_page = browser.get(path)
        assert form_page.status_code == 302
        assert "set-password" in form_page["Location"]
        assert token not in form_page["Location"]  # the token left the address
        refused = browser.post(form_page["Location"], {"password": "abc", "password_again": "abc"})
        assert "This password is too short." in refused.content.decode()
        assert User.objects.get(pk=anna.pk).check_password(OLD_PASSWORD)
        saved = browser.post(
            form_page["Location"], {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
        )
        assert (saved.status_code, saved["Location"]) == (302, "/")
        anna.refresh_from_db()
        assert anna.check_password(NEW_PASSWORD)
        assert anna.session_generation == 1
        assert browser.get("/settings/").status_code == 200
        signed_out = elsewhere.get("/settings/")
        assert (signed_out.status_code, signed_out["Location"]) == (
            302,
            "/sign-in/?next=/settings/",
        )
        entry = HistoryEntry.objects.filter(action="password_reset").get()
        assert (entry.subject, entry.actor_name, entry.channel) == (
            "admin@testi.example",
            "Anna Admin",
            "portal",
        )
        again = Client().get(path, follow=True)
        assert again.status_code == 410
        assert "This link no longer works" in again.content.decode()

    def test_a_new_sign_in_ends_an_unused_link(self, anna: User, settings: Any) -> None:
        path, _uid, _token = mailed_link(settings, anna.email)
        Client().post("/sign-in/", {"username": anna.email, "password": OLD_PASSWORD})
        assert Client().get(path, follow=True).status_code == 410
