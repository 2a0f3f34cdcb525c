"""Invitations over the API (API-next.md "Users", "Organisations"): ``invite`` on creating
a user and on provisioning, ``POST …/users/{user}/invite``, and the User's ``invited_at``
and ``last_sign_in_at``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core import mail
from django.test import Client
from django_tasks_db.models import DBTaskResult

from abonnement.accounts import passwords
from abonnement.accounts.models import User
from abonnement.accounts.services import create_user, deactivate_user
from abonnement.core.models import SimulatedClock
from abonnement.history.models import HistoryEntry
from tests.api.conftest import Api, CommittingApi, admin_user, run_worker
from tests.conftest import NOW, admin_of, make_organization

TASK = "abonnement.accounts.tasks.send_invitation_email"
LINK = re.compile(r"http://127\.0\.0\.1:8000/account/welcome/(?P<uid>[^/]+)/(?P<token>[^/]+)/")
PROVISION = {
    "name": "Uusi Oy",
    "vat_number": "FI23456780",
    "country": "FI",
    "currency": "EUR",
    "language": "fi",
    "edition": "basic",
    "licenses": 3,
    "period_months": 1,
    "admin": {"email": "Ulla@Uusi.example", "name": "Ulla Uusi"},
}


def invitation_tasks() -> list[dict[str, Any]]:
    return [row.args_kwargs["kwargs"] for row in DBTaskResult.objects.filter(task_path=TASK)]


def invitation_mails() -> list[Any]:
    """The invitations sent, in whatever language: each carries a set-password link."""
    return [m for m in mail.outbox if "/welcome/" in m.body]


def test_a_new_user_is_invited_unless_told_otherwise(clock: None, org: Any, writer: str) -> None:
    api = CommittingApi(Client())
    path = f"/organizations/{org.pk}/users"
    invited = api.post(path, writer, {"email": "bea@testi.example", "name": "Bea"})
    assert invited.status == 201
    assert invited.body["user"] | {"id": "x"} == {
        "id": "x",
        "email": "bea@testi.example",
        "name": "Bea",
        "active": True,
        "permissions": [],
        "invited_at": "2027-01-15T10:00:00Z",
        "last_sign_in_at": None,
    }
    quiet = api.post(path, writer, {"email": "carl@testi.example", "name": "Carl", "invite": False})
    assert (quiet.status, quiet.body["user"]["invited_at"]) == (201, None)
    bea = User.objects.get(email="bea@testi.example")
    assert invitation_tasks() == [
        {"user_id": bea.pk, "state": invitation_tasks()[0]["state"], "inviter": "Anna Admin"}
    ]
    run_worker()
    (message,) = invitation_mails()
    assert message.to == ["bea@testi.example"]
    match = LINK.search(message.body)
    assert match is not None
    assert (
        passwords.check_link(
            uidb64=match.group("uid"), token=match.group("token"), kind="invitation"
        )
        == bea
    )
    entry = HistoryEntry.objects.get(action="invitation_sent")
    assert (entry.subject, entry.channel, entry.actor_name) == (
        "bea@testi.example",
        "api",
        "Product backend",
    )


def test_invite_must_be_a_boolean(api: Api, org: Any, writer: str) -> None:
    refused = api.post(
        f"/organizations/{org.pk}/users", writer, {"email": "b@t.example", "name": "B", "invite": 1}
    )
    assert (refused.status, refused.code) == (422, "validation_error")
    assert not User.objects.filter(email="b@t.example").exists()


def test_resending_answers_the_user_and_replaces_the_earlier_link(
    clock: None, org: Any, writer: str
) -> None:
    api = CommittingApi(Client())
    bea = create_user(
        organization=org,
        email="bea@testi.example",
        name="Bea",
        actor=admin_of(org),
        now=NOW,
        invite=True,
    ).user
    first = LINK.search(passwords.invitation_link(bea))
    assert first is not None
    later = NOW + timedelta(hours=3)
    SimulatedClock.objects.filter(pk=1).update(now=later)
    resent = api.post(f"/organizations/{org.pk}/users/{bea.pk}/invite", writer)
    assert resent.status == 200
    assert resent.body == {
        "id": str(bea.pk),
        "email": "bea@testi.example",
        "name": "Bea",
        "active": True,
        "permissions": [],
        "invited_at": "2027-01-15T13:00:00Z",
        "last_sign_in_at": None,
    }
    assert (
        passwords.check_link(
            uidb64=first.group("uid"), token=first.group("token"), kind="invitation"
        )
        is None
    )
    run_worker()
    (message,) = invitation_mails()
    second = LINK.search(message.body)
    assert second is not None
    assert passwords.check_link(
        uidb64=second.group("uid"), token=second.group("token"), kind="invitation"
    ) == User.objects.get(pk=bea.pk)


def test_a_deactivated_user_is_409_and_nothing_changes(api: Api, org: Any, writer: str) -> None:
    bea = create_user(
        organization=org, email="bea@testi.example", name="Bea", actor=admin_of(org), now=NOW
    ).user
    deactivate_user(organization=org, user_id=bea.pk, license="keep", actor=admin_of(org), now=NOW)
    entries = HistoryEntry.objects.count()
    refused = api.post(f"/organizations/{org.pk}/users/{bea.pk}/invite", writer)
    assert (refused.status, refused.code) == (409, "user_inactive")
    assert refused.body["detail"] == "This user is deactivated."
    assert User.objects.get(pk=bea.pk).invited_at is None
    assert (HistoryEntry.objects.count(), invitation_tasks()) == (entries, [])


def test_an_unknown_or_foreign_user_is_404(api: Api, org: Any, writer: str, vendor: str) -> None:
    other = make_organization(name="Muu Oy", admin_email="admin@muu.example")
    foreign = admin_user(other)
    for user in (str(foreign.pk), "999999", "abc", "9" * 40):
        for token in (writer, vendor):
            refused = api.post(f"/organizations/{org.pk}/users/{user}/invite", token)
            assert (refused.status, refused.code) == (404, "not_found"), user
    assert User.objects.get(pk=foreign.pk).invited_at is None


def test_the_last_sign_in_is_shown(api: Api, org: Any, writer: str) -> None:
    admin = admin_user(org)
    admin.set_password("steady river lamp 3")
    admin.save()
    SimulatedClock.objects.filter(pk=1).update(now=NOW + timedelta(minutes=30))
    assert (
        Client()
        .post("/sign-in/", {"username": admin.email, "password": "steady river lamp 3"})
        .status_code
        == 302
    )
    shown = api.get(f"/organizations/{org.pk}/users/{admin.pk}", writer).body
    assert (shown["invited_at"], shown["last_sign_in_at"]) == (None, "2027-01-15T10:30:00Z")


def test_provisioning_invites_the_administrator_unless_told_otherwise(
    vendor: str, catalog: None
) -> None:
    api = CommittingApi(Client())
    created = api.post("/organizations", vendor, PROVISION)
    assert created.status == 201
    ulla = User.objects.get(email="ulla@uusi.example")
    assert (ulla.invited_at, ulla.language) == (NOW, "fi")
    quiet = api.post(
        "/organizations",
        vendor,
        PROVISION | {"admin": {"email": "ville@vanha.example", "name": "Ville", "invite": False}},
    )
    assert quiet.status == 201
    assert User.objects.get(email="ville@vanha.example").invited_at is None
    assert [task["user_id"] for task in invitation_tasks()] == [ulla.pk]
    run_worker()
    (message,) = invitation_mails()
    assert message.to == ["ulla@uusi.example"]
    # Provisioned by the vendor's token: the vendor invites in its own name, and Ulla reads
    # Finnish, the organisation's language.
    assert message.subject == "Sinut on kutsuttu organisaatioon Uusi Oy: valitse salasanasi"
    assert (
        "Abonnement Demo Oy on kutsunut sinut organisaatioon Uusi Oy palvelussa Abonnement,"
        in message.body
    )
    entry = HistoryEntry.objects.get(action="invitation_sent")
    assert (entry.organization_id, entry.subject, entry.actor_name) == (
        ulla.organization_id,
        "ulla@uusi.example",
        "Vendor CRM",
    )


def test_provisioning_refuses_a_non_boolean_invite(api: Api, vendor: str, catalog: None) -> None:
    refused = api.post(
        "/organizations",
        vendor,
        PROVISION | {"admin": {"email": "u@uusi.example", "name": "U", "invite": "yes"}},
    )
    assert (refused.status, refused.code) == (422, "validation_error")
    assert not User.objects.filter(email="u@uusi.example").exists()
