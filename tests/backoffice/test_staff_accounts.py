"""Staff accounts (``accounts.staff``) and the back office's password pages: created by the
operator with an invitation, the invitation's link → password → authenticator → back
office, "Forgot your password?", deactivation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from abonnement.accounts import passwords
from abonnement.accounts.models import User
from abonnement.accounts.staff import (
    create_staff,
    deactivate_staff,
    list_staff,
    reset_staff_mfa,
)
from abonnement.core.actor import Actor
from abonnement.core.errors import NotFound, PermissionDenied, ValidationFailed
from tests.backoffice.conftest import signed_in
from tests.backoffice.test_mfa import ENROL, HOME, RECOVERY, SIGN_IN, VERIFY, code_of
from tests.conftest import NOW

OPERATOR = Actor.cli()
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
NEW_PASSWORD = "quiet lantern orbit 58"


@pytest.fixture
def immediate_mail(settings: Any) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def users() -> list[tuple[Any, ...]]:
    return list(
        User.objects.order_by("pk").values_list(
            "email", "name", "is_staff", "staff_role", "is_active", "session_generation"
        )
    )


def path_of(link: str) -> str:
    assert link.startswith(django_settings.PUBLIC_URL + "/")
    return link.removeprefix(django_settings.PUBLIC_URL)


class TestCreate:
    def test_creates_a_staff_account_without_a_password_and_invites_it(
        self, db: Any, immediate_mail: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            invitation = create_staff(
                email=" Bert@Vendor.example ",
                name=" Bert Billing ",
                role="billing",
                actor=OPERATOR,
                now=NOW,
            )
        user = invitation.user
        user.refresh_from_db()
        assert (user.email, user.name, user.staff_role) == (
            "bert@vendor.example",
            "Bert Billing",
            "billing",
        )
        assert (user.is_staff, user.is_active, user.is_superuser) == (True, True, False)
        assert user.organization_id is None
        assert user.has_usable_password() is False
        assert user.invited_at == NOW
        assert re.fullmatch(
            rf"{re.escape(django_settings.PUBLIC_URL)}/backoffice/welcome/[\w-]+/[\w-]+/",
            invitation.link,
        )
        uid, token = invitation.link.rstrip("/").split("/")[-2:]
        assert passwords.check_link(uidb64=uid, token=token, kind="invitation") == user
        (message,) = mail.outbox
        assert message.to == ["bert@vendor.example"]
        assert "/backoffice/welcome/" in message.body
        assert "has created an account for you in the back office" in message.body

    @pytest.mark.parametrize(
        ("email", "name", "role", "errors"),
        [
            ("not-an-address", "Bert", "billing", {"email"}),
            ("bert@vendor.example", "  ", "billing", {"name"}),
            ("bert@vendor.example", "Bert", "admin", {"role"}),
            ("", "", "", {"email", "name", "role"}),
        ],
        ids=["email", "name", "role", "everything"],
    )
    def test_bad_input_is_refused_field_by_field_and_nothing_is_created(
        self, db: Any, email: str, name: str, role: str, errors: set[str]
    ) -> None:
        with pytest.raises(ValidationFailed) as refusal:
            create_staff(email=email, name=name, role=role, actor=OPERATOR, now=NOW)
        assert {e.field for e in refusal.value.errors} == errors
        assert users() == []

    def test_an_address_in_use_is_refused(self, org: Any) -> None:
        before = users()
        with pytest.raises(ValidationFailed) as refusal:
            create_staff(
                email="ADMIN@testi.example", name="Anna", role="support", actor=OPERATOR, now=NOW
            )
        assert refusal.value.for_field("email") == [
            "A user with this e-mail address already exists."
        ]
        assert users() == before

    def test_only_the_operator_manages_staff(self, billing_user: User) -> None:
        before = users()
        with pytest.raises(PermissionDenied):
            create_staff(
                email="new@vendor.example",
                name="New",
                role="billing",
                actor=Actor.staff(billing_user),
                now=NOW,
            )
        with pytest.raises(PermissionDenied):
            deactivate_staff(email=billing_user.email, actor=Actor.staff(billing_user), now=NOW)
        assert users() == before


class TestInvitationPages:
    def invite(self) -> tuple[User, str]:
        invitation = create_staff(
            email="bert@vendor.example",
            name="Bert Billing",
            role="billing",
            actor=OPERATOR,
            now=NOW,
        )
        return invitation.user, path_of(invitation.link)

    def test_the_link_chooses_the_password_then_the_authenticator_then_the_back_office(
        self, db: Any
    ) -> None:
        user, link = self.invite()
        client = Client()
        response = client.get(link)
        assert response.status_code == 302
        page_url = response["Location"]
        assert page_url.endswith("/set-password/")  # the token leaves the address bar
        page = client.get(page_url)
        assert page.status_code == 200
        assert "Welcome to the back office" in page.content.decode()
        assert 'value="bert@vendor.example"' in page.content.decode()

        response = client.post(page_url, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
        assert (response.status_code, response["Location"]) == (302, ENROL)
        assert "_auth_user_id" not in client.session  # not before the second factor
        enrol = client.get(ENROL)
        assert "Your password is saved. Now set up your authenticator." in enrol.content.decode()
        device = TOTPDevice.objects.get(user=user)
        assert client.post(ENROL, {"code": code_of(device)})["Location"] == RECOVERY
        assert client.get(RECOVERY).status_code == 200
        assert client.get(HOME).status_code == 200

        # The link worked once.
        again = Client()
        dead = again.get(again.get(link)["Location"])
        assert dead.status_code == 410
        assert "This link no longer works" in dead.content.decode()
        # The password works at the next sign-in, followed by the code.
        later = Client()
        response = later.post(SIGN_IN, {"username": user.email, "password": NEW_PASSWORD})
        assert response["Location"] == VERIFY
        assert later.post(VERIFY, {"code": code_of(device, steps_ahead=1)})["Location"] == HOME

    def test_a_weak_or_mismatched_password_is_refused_and_nothing_changes(self, db: Any) -> None:
        user, link = self.invite()
        client = Client()
        page_url = client.get(link)["Location"]
        response = client.post(page_url, {"password": "short", "password_again": "other"})
        assert response.status_code == 422
        text = response.content.decode()
        assert "This password is too short. It must contain at least 10 characters." in text
        assert "The two passwords differ. Type the same one twice." in text
        user.refresh_from_db()
        assert user.has_usable_password() is False
        assert "abonnement_staff_pending" not in client.session

    def test_a_forged_link_is_a_clear_page(self, db: Any) -> None:
        _user, link = self.invite()
        client = Client()
        forged = link.rsplit("/", 2)[0] + "/abc-123/"
        response = client.get(client.get(forged)["Location"])
        assert response.status_code == 410
        assert "The invitation has expired" in response.content.decode()

    def test_a_customers_invitation_does_not_open_the_back_office_page(self, org: Any) -> None:
        from abonnement.accounts.tokens import encode_user, invitation_tokens

        user = User.objects.get(email="admin@testi.example")
        path = f"/backoffice/welcome/{encode_user(user)}/{invitation_tokens.make_token(user)}/"
        client = Client()
        assert client.get(client.get(path)["Location"]).status_code == 410

    def test_without_staff_mfa_the_password_signs_in_at_once(self, db: Any, settings: Any) -> None:
        settings.STAFF_MFA = False
        user, link = self.invite()
        client = Client()
        page_url = client.get(link)["Location"]
        response = client.post(page_url, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
        assert response["Location"] == HOME
        assert client.session["_auth_user_id"] == str(user.pk)
        assert client.get(HOME).status_code == 200


class TestForgotPassword:
    def test_the_sign_in_page_links_to_it(self, db: Any) -> None:
        assert 'href="/backoffice/forgot-password/"' in Client().get(SIGN_IN).content.decode()

    def test_a_staff_member_gets_a_link_and_signs_in_with_the_code(
        self,
        support_user: User,
        immediate_mail: None,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        from tests.backoffice.test_mfa import enrolled

        device = enrolled(support_user)
        client = Client()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/backoffice/forgot-password/", {"email": support_user.email})
        assert (response.status_code, response["Location"]) == (
            302,
            "/backoffice/forgot-password/sent/",
        )
        sent = client.get(response["Location"]).content.decode()
        assert "If support@vendor.example belongs to a staff account" in sent
        (message,) = mail.outbox
        assert message.to == [support_user.email]
        link = re.search(r"https?://\S+/backoffice/reset/\S+/", message.body)
        assert link is not None
        page_url = client.get(path_of(link.group(0)))["Location"]
        response = client.post(page_url, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
        assert response["Location"] == VERIFY
        assert client.post(VERIFY, {"code": code_of(device)})["Location"] == HOME
        support_user.refresh_from_db()
        assert support_user.check_password(NEW_PASSWORD)

    @pytest.mark.parametrize("email", ["nobody@vendor.example", "admin@testi.example"])
    def test_the_same_answer_for_an_unknown_address_or_a_customer_and_no_mail(
        self,
        org: Any,
        email: str,
        immediate_mail: None,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        client = Client()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/backoffice/forgot-password/", {"email": email})
        assert response["Location"] == "/backoffice/forgot-password/sent/"
        assert mail.outbox == []

    def test_a_malformed_address_is_refused_beside_the_field(self, db: Any) -> None:
        response = Client().post("/backoffice/forgot-password/", {"email": "nope"})
        assert response.status_code == 422
        assert "Enter an e-mail address such as name@example.com." in response.content.decode()

    def test_requests_are_limited(self, db: Any, settings: Any) -> None:
        settings.SIGN_IN_LIMIT_PER_ACCOUNT = 2
        client = Client()
        for _attempt in range(2):
            client.post("/backoffice/forgot-password/", {"email": "x@vendor.example"})
        response = client.post("/backoffice/forgot-password/", {"email": "x@vendor.example"})
        assert response.status_code == 429
        assert "Too many requests. Wait 15 minutes and try again." in response.content.decode()


class TestListAndDeactivate:
    def test_list_staff(self, support_user: User, billing_user: User, org: Any) -> None:
        TOTPDevice.objects.create(user=billing_user, name="Authenticator", confirmed=True)
        TOTPDevice.objects.create(user=support_user, name="Authenticator", confirmed=False)
        User.objects.filter(pk=billing_user.pk).update(last_login=NOW)
        accounts = list_staff()
        assert [
            (a.email, a.name, a.role, a.active, a.mfa_enrolled, a.last_sign_in) for a in accounts
        ] == [
            ("billing@vendor.example", "Bert Billing", "billing", True, True, NOW),
            ("support@vendor.example", "Sanna Support", "support", True, False, None),
        ]

    def test_deactivation_ends_every_session_at_once(self, support_user: User) -> None:
        client = signed_in(support_user)
        assert client.get(HOME).status_code == 200
        deactivate_staff(email="SUPPORT@vendor.example", actor=OPERATOR, now=NOW)
        support_user.refresh_from_db()
        assert (support_user.is_active, support_user.session_generation) == (False, 1)
        assert client.get(HOME)["Location"] == f"{SIGN_IN}?next={HOME}"
        # Ended, not suspended: were the account active again, the session stays ended.
        User.objects.filter(pk=support_user.pk).update(is_active=True)
        assert client.get(HOME)["Location"] == f"{SIGN_IN}?next={HOME}"
        assert "_auth_user_id" not in client.session

    def test_deactivating_an_unknown_or_customer_address_is_not_found(self, org: Any) -> None:
        before = users()
        for email in ("nobody@vendor.example", "admin@testi.example"):
            with pytest.raises(NotFound) as refusal:
                deactivate_staff(email=email, actor=OPERATOR, now=NOW)
            assert refusal.value.message == f"No staff account has the e-mail address {email}."
        assert users() == before

    def test_deactivating_twice_is_refused(self, support_user: User) -> None:
        deactivate_staff(email=support_user.email, actor=OPERATOR, now=NOW)
        before = users()
        with pytest.raises(ValidationFailed) as refusal:
            deactivate_staff(email=support_user.email, actor=OPERATOR, now=NOW)
        assert refusal.value.for_field("email") == [
            "The staff account support@vendor.example is already deactivated."
        ]
        assert users() == before

    def test_resetting_the_second_factor_removes_it_and_ends_the_sessions(
        self, support_user: User
    ) -> None:
        from django_otp.plugins.otp_static.models import StaticDevice

        client = signed_in(support_user)  # enrols a confirmed device
        StaticDevice.objects.create(user=support_user, name="Recovery codes", confirmed=True)
        reset_staff_mfa(email=support_user.email, actor=OPERATOR, now=NOW)
        assert TOTPDevice.objects.filter(user=support_user).count() == 0
        assert StaticDevice.objects.filter(user=support_user).count() == 0
        assert client.get(HOME).status_code == 302
        response = Client().post(
            SIGN_IN, {"username": support_user.email, "password": "staff-password-2026"}
        )
        assert response["Location"] == ENROL


class TestStaffHistory:
    def changes(self) -> list[tuple[Any, ...]]:
        from abonnement.accounts.models import StaffChange

        return list(
            StaffChange.objects.order_by("id").values_list(
                "at", "actor_name", "channel", "action", "account__email", "after"
            )
        )

    def test_every_change_is_recorded_with_who_and_when(self, db: Any) -> None:
        later = NOW.replace(hour=11)
        create_staff(
            email="bert@vendor.example", name="Bert", role="billing", actor=OPERATOR, now=NOW
        )
        reset_staff_mfa(email="bert@vendor.example", actor=OPERATOR, now=later)
        deactivate_staff(email="bert@vendor.example", actor=OPERATOR, now=later)
        account = {"email": "bert@vendor.example", "name": "Bert", "role": "billing"}
        assert self.changes() == [
            (NOW, "Operator (command line)", "cli", "created", "bert@vendor.example",
             account | {"active": True}),
            (later, "Operator (command line)", "cli", "mfa_reset", "bert@vendor.example",
             account | {"active": True}),
            (later, "Operator (command line)", "cli", "deactivated", "bert@vendor.example",
             account | {"active": False}),
        ]  # fmt: skip

    def test_a_refusal_records_nothing(self, support_user: User) -> None:
        deactivate_staff(email=support_user.email, actor=OPERATOR, now=NOW)
        before = self.changes()
        with pytest.raises(ValidationFailed):
            deactivate_staff(email=support_user.email, actor=OPERATOR, now=NOW)
        with pytest.raises(ValidationFailed):
            create_staff(
                email=support_user.email, name="X", role="support", actor=OPERATOR, now=NOW
            )
        assert self.changes() == before

    def test_staff_read_it_in_the_admin_and_nobody_edits_it(self, support_user: User) -> None:
        create_staff(
            email="bert@vendor.example", name="Bert", role="billing", actor=OPERATOR, now=NOW
        )
        client = signed_in(support_user)
        listing = client.get("/admin/accounts/staffchange/")
        assert listing.status_code == 200
        assert "bert@vendor.example" in listing.content.decode()
        assert client.get("/admin/accounts/staffchange/add/").status_code == 403
