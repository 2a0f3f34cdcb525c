"""Invitations (issue 17, part 3): the link to choose a password, its e-mail, its page, and
user management's "Invited on …" and "Resend invitation"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django_tasks_db.models import DBTaskResult

from abonnement.accounts import passwords
from abonnement.accounts.errors import LinkExpired, UserInactive
from abonnement.accounts.models import User
from abonnement.accounts.services import create_user, deactivate_user
from abonnement.core.actor import Actor
from abonnement.core.errors import NotFound, PermissionDenied, ValidationFailed
from abonnement.core.models import SimulatedClock
from abonnement.history.models import HistoryEntry
from tests.conftest import NOW, VENDOR, admin_of, make_organization

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
LINK = re.compile(r"http://127\.0\.0\.1:8000(/account/welcome/(?P<uid>[^/]+)/(?P<token>[^/]+)/)")
PASSWORD = "violet tractor harbour 42"


@pytest.fixture(autouse=True)
def clock(settings: Any, db: Any) -> None:
    """The business clock stands at NOW; links are read against it."""
    settings.SIMULATED_CLOCK = True
    SimulatedClock.objects.update_or_create(pk=1, defaults={"now": NOW})


def move_clock(to: Any) -> None:
    SimulatedClock.objects.filter(pk=1).update(now=to)


@pytest.fixture
def immediate(settings: Any) -> None:
    """Tasks run as they are enqueued (after commit); e-mail lands in ``mail.outbox``."""
    settings.TASKS = IMMEDIATE


def new_user(org: Any, email: str = "bea@testi.example", **kwargs: Any) -> User:
    return create_user(
        organization=org, email=email, name="Bea Berg", actor=admin_of(org), now=NOW, **kwargs
    ).user


def history(org: Any) -> list[tuple[str, str, str]]:
    return list(
        HistoryEntry.objects.filter(organization=org)
        .order_by("pk")
        .values_list("action", "subject", "actor_name")
    )


def link_parts(link: str) -> tuple[str, str, str]:
    match = LINK.fullmatch(link)
    assert match is not None, link
    return match.group(1), match.group("uid"), match.group("token")


class TestSending:
    def test_stamps_the_time_records_history_and_mails_after_commit(
        self, org: Any, immediate: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        bea = new_user(org)
        assert bea.invited_at is None
        later = NOW + timedelta(hours=2)
        move_clock(later)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            invitation = passwords.send_invitation(
                organization=org, user_id=bea.pk, actor=admin_of(org), now=later
            )
        assert mail.outbox == []  # nothing leaves before the commit
        for callback in callbacks:
            callback()
        bea.refresh_from_db()
        assert bea.invited_at == later
        assert history(org)[-1] == ("invitation_sent", "bea@testi.example", "Anna Admin")
        (message,) = mail.outbox
        assert message.to == ["bea@testi.example"]
        assert message.from_email == "billing@abonnement.example"
        assert message.subject == "You are invited to Testi Oy: choose your password"
        # The task builds the link from the user's state: the same link as the service's.
        assert message.body == (
            "Hello Bea Berg,\n\n"
            "Anna Admin has invited you to Testi Oy in Abonnement, where your organisation's "
            "subscription, users and billing details are managed.\n\n"
            "Choose your password with this link:\n\n"
            f"{invitation.link}\n\n"
            "The link works once and for 7 days. If it has expired, ask Anna Admin to send a "
            "new invitation.\n\n"
            "You sign in with your e-mail address, bea@testi.example.\n"
        )
        path, uid, token = link_parts(invitation.link)
        assert path == f"/account/welcome/{uid}/{token}/"
        assert passwords.check_link(uidb64=uid, token=token, kind="invitation") == bea

    def test_the_vendor_invites_in_its_own_name(self, org: Any, immediate: None) -> None:
        from django.test import TestCase

        bea = new_user(org)
        with TestCase.captureOnCommitCallbacks(execute=True):
            passwords.send_invitation(user_id=bea.pk, actor=VENDOR, now=NOW)
        (message,) = mail.outbox
        assert "Abonnement Demo Oy has invited you to Testi Oy" in message.body
        assert history(org)[-1] == ("invitation_sent", "bea@testi.example", "Test vendor")

    def test_the_mail_speaks_the_users_language_else_the_organisations(
        self, catalog: None, immediate: None, monkeypatch: Any
    ) -> None:
        from django.test import TestCase
        from django.utils import translation

        org = make_organization(language="nl")
        spoken: list[str] = []
        render = passwords.render_to_string

        def recording(template: str, context: Any) -> str:
            spoken.append(translation.get_language())
            return render(template, context)

        monkeypatch.setattr(passwords, "render_to_string", recording)
        bea = new_user(org)  # no language of her own
        finn = new_user(org, email="finn@testi.example")
        User.objects.filter(pk=finn.pk).update(language="fi")
        with TestCase.captureOnCommitCallbacks(execute=True):
            passwords.send_invitation(user_id=bea.pk, actor=admin_of(org), now=NOW)
        with TestCase.captureOnCommitCallbacks(execute=True):
            passwords.send_invitation(user_id=finn.pk, actor=admin_of(org), now=NOW)
        # subject and body of each
        assert spoken == ["nl", "nl", "fi", "fi"]
        assert [m.to for m in mail.outbox] == [["bea@testi.example"], ["finn@testi.example"]]

    def test_language_of_falls_back_to_english(self, org: Any) -> None:
        bea = new_user(org)
        org.language = ""
        assert passwords.language_of(bea) == "en"
        bea.language = "fi"
        assert passwords.language_of(bea) == "fi"

    def test_resending_replaces_the_earlier_link(self, org: Any) -> None:
        bea = new_user(org, invite=True)
        first = passwords.invitation_link(bea)
        _path, uid, token = link_parts(first)
        assert passwords.check_link(uidb64=uid, token=token, kind="invitation") == bea
        later = NOW + timedelta(minutes=5)
        move_clock(later)
        second = passwords.send_invitation(
            organization=org, user_id=bea.pk, actor=admin_of(org), now=later
        ).link
        assert passwords.check_link(uidb64=uid, token=token, kind="invitation") is None
        _path, uid, token2 = link_parts(second)
        assert passwords.check_link(uidb64=uid, token=token2, kind="invitation") == bea
        assert [a for a, _s, _n in history(org)].count("invitation_sent") == 2

    def test_a_deactivated_user_is_refused_and_nothing_changes(
        self, org: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        bea = new_user(org)
        deactivate_user(
            organization=org, user_id=bea.pk, license="keep", actor=admin_of(org), now=NOW
        )
        before = history(org)
        with (
            django_capture_on_commit_callbacks() as callbacks,
            pytest.raises(UserInactive) as refused,
        ):
            passwords.send_invitation(
                organization=org, user_id=bea.pk, actor=admin_of(org), now=NOW
            )
        assert (refused.value.code, refused.value.status) == ("user_inactive", 409)
        assert refused.value.message == "This user is deactivated."
        bea.refresh_from_db()
        assert bea.invited_at is None
        assert history(org) == before
        assert callbacks == []

    def test_another_organisations_user_is_not_found(self, org: Any, catalog: None) -> None:
        other = make_organization(name="Muu Oy", admin_email="admin@muu.example")
        stranger = new_user(other, email="stranger@muu.example")
        for user_id in (stranger.pk, "abc", "9" * 30, 10**12):
            with pytest.raises(NotFound):
                passwords.send_invitation(
                    organization=org, user_id=user_id, actor=admin_of(org), now=NOW
                )
        # Without naming the organisation, the acting user's own tenancy still holds.
        with pytest.raises(NotFound):
            passwords.send_invitation(user_id=stranger.pk, actor=admin_of(org), now=NOW)
        assert User.objects.get(pk=stranger.pk).invited_at is None

    def test_needs_the_user_management_permission(self, org: Any) -> None:
        bea = new_user(org)
        carl = new_user(org, email="carl@testi.example")
        with pytest.raises(PermissionDenied):
            passwords.send_invitation(
                organization=org, user_id=bea.pk, actor=Actor.portal(carl), now=NOW
            )
        assert User.objects.get(pk=bea.pk).invited_at is None

    def test_creating_and_provisioning_invite_in_the_same_transaction(
        self, catalog: None, immediate: None
    ) -> None:
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            org = make_organization(admin_invite=True)
        with TestCase.captureOnCommitCallbacks(execute=True):
            bea = new_user(org, invite=True)
        admin = User.objects.get(email="admin@testi.example")
        assert (admin.invited_at, bea.invited_at) == (NOW, NOW)
        kept = ("invitation_sent", "user_created")
        assert [(a, s) for a, s, _n in history(org) if a in kept] == [
            ("invitation_sent", "admin@testi.example"),
            ("user_created", "bea@testi.example"),
            ("invitation_sent", "bea@testi.example"),
        ]
        # (The order confirmation of the first period goes to the administrator too.)
        invitations = [m for m in mail.outbox if m.subject.endswith("choose your password")]
        assert [m.to for m in invitations] == [["admin@testi.example"], ["bea@testi.example"]]
        assert invitations[0].body.startswith(
            "Hello Anna Admin,\n\nAbonnement Demo Oy has invited you to Testi Oy"
        )


class TestTheTask:
    def enqueued(self, org: Any, callbacks: Any) -> dict[str, Any]:
        for callback in callbacks:
            callback()
        (row,) = DBTaskResult.objects.filter(
            task_path="abonnement.accounts.tasks.send_invitation_email"
        )
        kwargs: dict[str, Any] = row.args_kwargs["kwargs"]
        return kwargs

    def test_sends_while_the_invitation_stands_and_is_safe_to_repeat(
        self, org: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks() as callbacks:
            bea = new_user(org, invite=True)
        kwargs = self.enqueued(org, callbacks)
        assert kwargs == {"user_id": bea.pk, "state": kwargs["state"], "inviter": "Anna Admin"}
        assert passwords.deliver_invitation(**kwargs) == "sent"
        assert passwords.deliver_invitation(**kwargs) == "sent"
        first, again = (LINK.search(m.body) for m in mail.outbox)
        assert first is not None and again is not None
        for match in (first, again):
            user = passwords.check_link(
                uidb64=match.group("uid"), token=match.group("token"), kind="invitation"
            )
            assert user == bea

    @pytest.mark.parametrize("change", ["password", "sign_in", "invited_again", "deactivated"])
    def test_sends_nothing_once_the_invitation_is_gone(
        self, org: Any, change: str, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks() as callbacks:
            bea = new_user(org, invite=True)
        kwargs = self.enqueued(org, callbacks)
        if change == "password":
            bea.set_password(PASSWORD)
            bea.save()
        elif change == "sign_in":
            User.objects.filter(pk=bea.pk).update(last_login=NOW + timedelta(minutes=1))
        elif change == "invited_again":
            passwords.send_invitation(
                user_id=bea.pk, actor=admin_of(org), now=NOW + timedelta(minutes=1)
            )
        else:
            deactivate_user(
                organization=org, user_id=bea.pk, license="keep", actor=admin_of(org), now=NOW
            )
        assert passwords.deliver_invitation(**kwargs) == (
            "skipped: the invitation was replaced, used or the user deactivated"
        )
        assert mail.outbox == []

    def test_a_user_deleted_since_is_skipped(self) -> None:
        assert passwords.deliver_invitation(user_id=987654, state="x", inviter="Anna") == (
            "skipped: no such user"
        )


class TestTheLink:
    def test_lives_seven_days(self, org: Any) -> None:
        bea = new_user(org, invite=True)
        _path, uid, token = link_parts(passwords.invitation_link(bea))
        move_clock(NOW + timedelta(days=7))
        assert passwords.check_link(uidb64=uid, token=token, kind="invitation") == bea
        move_clock(NOW + timedelta(days=7, seconds=1))
        assert passwords.check_link(uidb64=uid, token=token, kind="invitation") is None

    def test_is_not_a_reset_link_and_not_for_the_back_office(self, org: Any) -> None:
        bea = new_user(org, invite=True)
        _path, uid, token = link_parts(passwords.invitation_link(bea))
        assert passwords.check_link(uidb64=uid, token=token, kind="reset") is None
        assert (
            passwords.check_link(uidb64=uid, token=token, kind="invitation", audience="backoffice")
            is None
        )
        assert (
            passwords.check_link(uidb64=uid, token=token, kind="invitation", audience="portal")
            == bea
        )
        assert passwords.check_link(uidb64="bm9wZQ", token=token, kind="invitation") is None
        assert passwords.check_link(uidb64=uid, token="1-forged", kind="invitation") is None

    def test_choosing_a_password_applies_the_validators_and_changes_nothing_when_refused(
        self, org: Any
    ) -> None:
        bea = new_user(org, invite=True)
        _path, uid, token = link_parts(passwords.invitation_link(bea))
        before = (User.objects.get(pk=bea.pk).password, history(org))
        cases = {
            ("", ""): {"password": ["Choose a password."]},
            ("73920581746", "73920581746"): {"password": ["This password is entirely numeric."]},
            ("short", "short"): {
                "password": ["This password is too short. It must contain at least 10 characters."]
            },
            ("password123", "password123"): {"password": ["This password is too common."]},
            (PASSWORD, PASSWORD + "!"): {
                "password_again": ["The two passwords differ. Type the same one twice."]
            },
        }
        for (password, again), expected in cases.items():
            with pytest.raises(ValidationFailed) as refused:
                passwords.set_password_from_link(
                    uidb64=uid,
                    token=token,
                    kind="invitation",
                    password=password,
                    password_again=again,
                    now=NOW,
                )
            found: dict[str, list[str]] = {}
            for error in refused.value.errors:
                found.setdefault(error.field, []).append(error.message)
            assert found == expected, (password, again)
        assert (User.objects.get(pk=bea.pk).password, history(org)) == before
        # The link still works after refusals.
        assert passwords.check_link(uidb64=uid, token=token, kind="invitation") == bea

    def test_works_once_and_ends_the_users_sessions(self, org: Any) -> None:
        bea = new_user(org, invite=True)
        _path, uid, token = link_parts(passwords.invitation_link(bea))
        saved = passwords.set_password_from_link(
            uidb64=uid,
            token=token,
            kind="invitation",
            password=PASSWORD,
            password_again=PASSWORD,
            now=NOW,
        )
        bea.refresh_from_db()
        assert saved == bea
        assert bea.check_password(PASSWORD)
        assert bea.session_generation == 1
        assert history(org)[-1] == ("password_chosen", "bea@testi.example", "Bea Berg")
        with pytest.raises(LinkExpired) as refused:
            passwords.set_password_from_link(
                uidb64=uid,
                token=token,
                kind="invitation",
                password="another fine password 9",
                password_again="another fine password 9",
                now=NOW,
            )
        assert (refused.value.code, refused.value.status) == ("link_expired", 410)
        bea.refresh_from_db()
        assert bea.check_password(PASSWORD)


class TestThePage:
    def test_moves_the_token_out_of_the_address_signs_in_and_works_once(self, org: Any) -> None:
        bea = new_user(org, invite=True)
        path, uid, token = link_parts(passwords.invitation_link(bea))
        browser = Client()
        opened = browser.get(path)
        assert (opened.status_code, opened["Location"]) == (
            302,
            f"/account/welcome/{uid}/set-password/",
        )
        form = browser.get(opened["Location"])
        body = form.content.decode()
        assert form.status_code == 200
        assert token not in body
        assert "Choose a password for your account at Testi Oy." in body
        assert 'value="bea@testi.example"' in body
        saved = browser.post(opened["Location"], {"password": PASSWORD, "password_again": PASSWORD})
        assert (saved.status_code, saved["Location"]) == (302, "/")
        assert browser.session["_auth_user_id"] == str(bea.pk)
        bea.refresh_from_db()
        assert bea.check_password(PASSWORD)
        assert bea.last_login == NOW  # the business clock's sign-in
        home = browser.get("/", follow=True)
        assert "Your password has been saved. You are signed in." in home.content.decode()
        # The second time, in another browser: a clear page, not a form.
        again = Client().get(path, follow=True)
        assert again.status_code == 410
        assert "This link no longer works" in again.content.decode()
        assert "The invitation has expired, has been used already" in again.content.decode()

    def test_a_refused_password_shows_the_messages_beside_the_fields(self, org: Any) -> None:
        bea = new_user(org, invite=True)
        path, uid, _token = link_parts(passwords.invitation_link(bea))
        browser = Client()
        browser.get(path)
        refused = browser.post(
            f"/account/welcome/{uid}/set-password/",
            {"password": "short", "password_again": "shorter"},
        )
        body = refused.content.decode()
        assert refused.status_code == 200
        assert "This password is too short. It must contain at least 10 characters." in body
        assert "The two passwords differ. Type the same one twice." in body
        assert "_auth_user_id" not in browser.session
        assert not User.objects.get(pk=bea.pk).has_usable_password()

    def test_a_forged_or_missing_token_shows_the_dead_link_page(self, org: Any) -> None:
        bea = new_user(org, invite=True)
        _path, uid, _token = link_parts(passwords.invitation_link(bea))
        forged = Client().get(f"/account/welcome/{uid}/1-abc/", follow=True)
        assert forged.status_code == 410
        no_session = Client().get(f"/account/welcome/{uid}/set-password/")
        assert no_session.status_code == 410
        posted = Client().post(
            f"/account/welcome/{uid}/set-password/",
            {"password": PASSWORD, "password_again": PASSWORD},
        )
        assert posted.status_code == 410
        assert not User.objects.get(pk=bea.pk).has_usable_password()


class TestUserManagement:
    @pytest.fixture
    def portal(self, org: Any) -> Client:
        client = Client()
        client.force_login(User.objects.get(email="admin@testi.example"))
        return client

    def test_adding_a_user_invites_them_when_the_box_is_ticked(
        self, portal: Client, org: Any
    ) -> None:
        page = portal.get("/settings/users/new/").content.decode()
        assert 'name="invite" value="on" id="id_invite" checked' in page
        added = portal.post(
            "/settings/users/new/",
            {"name": "Bea Berg", "email": "bea@testi.example", "invite": "on"},
            follow=True,
        )
        assert (
            "Bea Berg has been added. An invitation is on its way to bea@testi.example."
            in added.content.decode()
        )
        portal.post("/settings/users/new/", {"name": "Carl", "email": "carl@testi.example"})
        invited = dict(User.objects.filter(organization=org).values_list("email", "invited_at"))
        assert invited == {
            "admin@testi.example": None,
            "bea@testi.example": NOW,
            "carl@testi.example": None,
        }

    def test_the_list_shows_who_has_not_signed_in_yet_and_resends(
        self, portal: Client, org: Any
    ) -> None:
        bea = new_user(org, invite=True)
        new_user(org, email="carl@testi.example")
        body = portal.get("/settings/users/").content.decode()
        assert body.count("Invited on 15 Jan 2027, not signed in yet") == 1
        assert body.count(">Resend invitation<") == 1
        assert body.count(">Send invitation<") == 1  # Carl was never invited
        assert f'action="/settings/users/{bea.pk}/invite/"' in body
        later = NOW + timedelta(days=1)
        move_clock(later)
        resent = portal.post(f"/settings/users/{bea.pk}/invite/", {"status": "all", "q": "be"})
        assert (resent.status_code, resent["Location"]) == (
            302,
            "/settings/users/?q=be&status=all",
        )
        shown = portal.get(resent["Location"]).content.decode()
        assert (
            "A new invitation is on its way to bea@testi.example. The earlier link no longer "
            "works." in shown
        )
        assert "Invited on 16 Jan 2027, not signed in yet" in shown
        assert User.objects.get(pk=bea.pk).invited_at == later
        User.objects.filter(pk=bea.pk).update(last_login=later)
        signed_in = portal.get("/settings/users/").content.decode()
        assert "not signed in yet" not in signed_in

    def test_resending_to_a_deactivated_user_says_why_and_changes_nothing(
        self, portal: Client, org: Any
    ) -> None:
        bea = new_user(org, invite=True)
        deactivate_user(
            organization=org, user_id=bea.pk, license="keep", actor=admin_of(org), now=NOW
        )
        before = history(org)
        refused = portal.post(f"/settings/users/{bea.pk}/invite/", follow=True)
        assert "This user is deactivated." in refused.content.decode()
        assert history(org) == before
        assert portal.get(f"/settings/users/{bea.pk}/invite/").status_code == 405
        assert portal.post("/settings/users/999999/invite/").status_code == 404

    def test_someone_without_the_permission_cannot_resend(self, org: Any) -> None:
        bea = new_user(org, invite=True)
        carl = new_user(org, email="carl@testi.example")
        client = Client()
        client.force_login(carl)
        assert client.post(f"/settings/users/{bea.pk}/invite/").status_code == 403
        assert User.objects.get(pk=bea.pk).invited_at == NOW


def test_the_task_sends_an_invitation_made_at_an_instant_in_any_time_zone(org: Any) -> None:
    """The state the task compares is read back from the database (in UTC): an invitation
    stamped with a Helsinki instant is the same state."""
    from zoneinfo import ZoneInfo

    from django.test import TestCase

    bea = new_user(org)
    helsinki = NOW.astimezone(ZoneInfo("Europe/Helsinki"))
    with TestCase.captureOnCommitCallbacks(execute=True):
        passwords.send_invitation(user_id=bea.pk, actor=admin_of(org), now=helsinki)
    (row,) = DBTaskResult.objects.filter(
        task_path="abonnement.accounts.tasks.send_invitation_email"
    )
    assert passwords.deliver_invitation(**row.args_kwargs["kwargs"]) == "sent"
