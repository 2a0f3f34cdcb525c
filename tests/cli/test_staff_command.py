"""`abonnement staff create|list|deactivate|reset-mfa`: output, exit codes, and the whole
way from the command's link to the back office with a TOTP code."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from abonnement.accounts.models import User
from abonnement.cli import main
from tests.backoffice.test_mfa import ENROL, HOME, RECOVERY, SIGN_IN, code_of
from tests.conftest import NOW, make_organization

pytestmark = pytest.mark.django_db

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
PASSWORD = "quiet lantern orbit 58"


@pytest.fixture(autouse=True)
def business_clock(settings: Any) -> None:
    from abonnement.core.models import SimulatedClock

    settings.SIMULATED_CLOCK = True
    SimulatedClock.objects.update_or_create(pk=1, defaults={"now": NOW})


def users() -> list[tuple[Any, ...]]:
    return list(
        User.objects.order_by("pk").values_list(
            "email", "name", "staff_role", "is_active", "session_generation", "invited_at"
        )
    )


def create(capsys: Any, *args: str) -> str:
    assert main(["staff", "create", *args]) == 0
    return str(capsys.readouterr().out.strip())


def test_help_lists_the_staff_actions(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["staff", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for action in ("create", "list", "deactivate", "reset-mfa"):
        assert action in out


def test_create_prints_the_link_and_emails_it(
    capsys: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    with django_capture_on_commit_callbacks(execute=True):
        code = main(
            [
                *("staff", "create", "--email", "bert@vendor.example"),
                *("--name", "Bert Billing", "--role", "billing"),
            ]
        )
    assert code == 0
    captured = capsys.readouterr()
    link = captured.out.strip()
    assert link.startswith(f"{django_settings.PUBLIC_URL}/backoffice/welcome/")
    assert "\n" not in link
    assert captured.err == (
        "staff account bert@vendor.example (billing) created. The link above chooses its "
        "password (once, within 7 days); it is also e-mailed to bert@vendor.example.\n"
    )
    assert users() == [("bert@vendor.example", "Bert Billing", "billing", True, 0, NOW)]
    (message,) = mail.outbox
    assert message.to == ["bert@vendor.example"]
    assert "/backoffice/welcome/" in message.body


def test_from_the_command_to_the_back_office(capsys: Any) -> None:
    link = create(capsys, "--email", "sanna@vendor.example", "--name", "Sanna", "--role", "support")
    client = Client()
    page_url = client.get(link.removeprefix(django_settings.PUBLIC_URL))["Location"]
    response = client.post(page_url, {"password": PASSWORD, "password_again": PASSWORD})
    assert response["Location"] == ENROL
    assert client.get(ENROL).status_code == 200
    device = TOTPDevice.objects.get(user__email="sanna@vendor.example")
    assert client.post(ENROL, {"code": code_of(device)})["Location"] == RECOVERY
    assert client.get(RECOVERY).status_code == 200
    home = client.get(HOME)
    assert home.status_code == 200
    assert "Sanna" in home.content.decode()

    # Deactivation by the command ends that session at once.
    assert main(["staff", "deactivate", "--email", "sanna@vendor.example"]) == 0
    assert capsys.readouterr().out == (
        "staff account sanna@vendor.example deactivated; its sessions have ended.\n"
    )
    assert client.get(HOME)["Location"] == f"{SIGN_IN}?next={HOME}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--email", "admin@testi.example", "--name", "Anna", "--role", "support"],
            "abonnement: Some fields are not valid.\n"
            "  email: A user with this e-mail address already exists.\n",
        ),
        (
            ["--email", "not an address", "--name", " ", "--role", "billing"],
            "abonnement: Some fields are not valid.\n"
            "  email: Enter a valid e-mail address, such as name@example.com.\n"
            "  name: This field is required.\n",
        ),
    ],
    ids=["duplicate", "bad-input"],
)
def test_create_refusals_exit_1_and_change_nothing(
    capsys: Any, catalog: None, argv: list[str], message: str
) -> None:
    make_organization()
    before = users()
    assert main(["staff", "create", *argv]) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", message)
    assert users() == before


@pytest.mark.parametrize(
    "argv",
    [
        ["create", "--email", "x@vendor.example", "--name", "X", "--role", "admin"],
        ["create", "--email", "x@vendor.example", "--name", "X"],
        ["deactivate"],
        ["rename"],
    ],
    ids=["unknown-role", "no-role", "no-email", "unknown-action"],
)
def test_bad_arguments_exit_2(capsys: Any, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["staff", *argv])
    assert exit_info.value.code == 2
    assert users() == []


def test_list_is_a_table(capsys: Any) -> None:
    assert main(["staff", "list"]) == 0
    assert capsys.readouterr().out == "no staff accounts\n"
    create(
        capsys, "--email", "sanna@vendor.example", "--name", "Sanna Support", "--role", "support"
    )
    create(capsys, "--email", "bert@vendor.example", "--name", "Bert", "--role", "billing")
    bert = User.objects.get(email="bert@vendor.example")
    TOTPDevice.objects.create(user=bert, name="Authenticator", confirmed=True)
    User.objects.filter(pk=bert.pk).update(last_login=NOW + timedelta(minutes=5))
    assert main(["staff", "deactivate", "--email", "sanna@vendor.example"]) == 0
    capsys.readouterr()

    assert main(["staff", "list"]) == 0
    assert capsys.readouterr().out == (
        "e-mail                name           role     active  MFA enrolled  last sign-in\n"
        "bert@vendor.example   Bert           billing  yes     yes           2027-01-15 12:05 EET\n"
        "sanna@vendor.example  Sanna Support  support  no      no            never\n"
    )


def test_deactivating_an_unknown_address_exits_1(capsys: Any) -> None:
    assert main(["staff", "deactivate", "--email", "nobody@vendor.example"]) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "",
        "abonnement: No staff account has the e-mail address nobody@vendor.example.\n",
    )


def test_deactivating_twice_exits_1(capsys: Any) -> None:
    create(capsys, "--email", "bert@vendor.example", "--name", "Bert", "--role", "billing")
    assert main(["staff", "deactivate", "--email", "bert@vendor.example"]) == 0
    before = users()
    assert main(["staff", "deactivate", "--email", "bert@vendor.example"]) == 1
    assert capsys.readouterr().err.endswith(
        "  email: The staff account bert@vendor.example is already deactivated.\n"
    )
    assert users() == before


def test_reset_mfa_makes_the_next_sign_in_enrol_again(capsys: Any) -> None:
    create(capsys, "--email", "bert@vendor.example", "--name", "Bert", "--role", "billing")
    bert = User.objects.get(email="bert@vendor.example")
    bert.set_password(PASSWORD)
    bert.save()
    TOTPDevice.objects.create(user=bert, name="Authenticator", confirmed=True)
    assert main(["staff", "reset-mfa", "--email", "bert@vendor.example"]) == 0
    assert capsys.readouterr().out == (
        "the authenticator and recovery codes of bert@vendor.example are removed and its "
        "sessions have ended; it enrols a new authenticator at the next sign-in.\n"
    )
    response = Client().post(SIGN_IN, {"username": "bert@vendor.example", "password": PASSWORD})
    assert response["Location"] == ENROL


def test_the_demo_runs_without_the_second_factor(monkeypatch: Any) -> None:
    """`make demo` runs `abonnement demo`: its processes (web server, worker) sign staff in
    with the password alone, unless the environment says otherwise."""
    import abonnement.cli as cli

    seen: list[str | None] = []
    monkeypatch.setattr(
        cli, "_run", lambda args: seen.append(os.environ.get("ABONNEMENT_STAFF_MFA"))
    )
    monkeypatch.delenv("ABONNEMENT_STAFF_MFA", raising=False)
    monkeypatch.setenv("ABONNEMENT_PUBLIC_URL", "http://127.0.0.1:8000")
    assert main(["demo", "--no-serve"]) == 0
    monkeypatch.setenv("ABONNEMENT_STAFF_MFA", "on")
    assert main(["demo", "--no-serve"]) == 0
    monkeypatch.delenv("ABONNEMENT_STAFF_MFA")
    assert main(["serve"]) == 0
    assert seen == ["off", "on", None]
