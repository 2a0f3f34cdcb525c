"""Sign-in (rate limited per account and per address), sign-out, password, language."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import make_organization

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery 7"


@pytest.fixture
def member(catalog: None, clock_at_now: None) -> Any:
    make_organization(admin_password=PASSWORD)
    from abonnement.accounts.models import User

    return User.objects.get(email="admin@testi.example")


def sign_in(client: Client, email: str, password: str, address: str = "10.0.0.1") -> Any:
    return client.post("/sign-in/", {"username": email, "password": password}, REMOTE_ADDR=address)


def test_sign_in_with_email_and_password(member: Any) -> None:
    client = Client()
    response = sign_in(client, "admin@testi.example", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/settings/subscription/").status_code == 200
    assert member.password.startswith("argon2$")


def test_sign_in_keeps_the_page_asked_for(member: Any) -> None:
    client = Client()
    response = client.post(
        "/sign-in/?next=/settings/users/",
        {"username": "admin@testi.example", "password": PASSWORD, "next": "/settings/users/"},
    )
    assert response["Location"] == "/settings/users/"


def test_wrong_password_is_refused(member: Any) -> None:
    response = sign_in(Client(), "admin@testi.example", "wrong")
    assert response.status_code == 200
    assert "The e-mail address or password is not right." in response.content.decode()


def test_inactive_user_cannot_sign_in(member: Any) -> None:
    type(member).objects.filter(pk=member.pk).update(is_active=False)
    response = sign_in(Client(), "admin@testi.example", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in response.wsgi_request.session


def test_failures_per_account_are_limited(member: Any, settings: Any) -> None:
    settings.SIGN_IN_LIMIT_PER_ACCOUNT = 3
    for attempt in range(3):
        sign_in(Client(), "admin@testi.example", "wrong", address=f"10.0.0.{attempt}")
    # From yet another address, even the right password waits now.
    response = sign_in(Client(), "admin@testi.example", PASSWORD, address="10.0.9.9")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts. Wait 15 minutes" in response.content.decode()
    # Another account is not affected.
    assert sign_in(Client(), "nobody@testi.example", "x", address="10.0.9.9").status_code == 200


def test_failures_per_address_are_limited(member: Any, settings: Any) -> None:
    settings.SIGN_IN_LIMIT_PER_ADDRESS = 4
    for number in range(4):
        sign_in(Client(), f"guess{number}@testi.example", "wrong", address="10.6.6.6")
    assert sign_in(Client(), "admin@testi.example", PASSWORD, address="10.6.6.6").status_code == 429
    assert sign_in(Client(), "admin@testi.example", PASSWORD, address="10.7.7.7").status_code == 302


def test_success_clears_the_account_counter(member: Any, settings: Any) -> None:
    settings.SIGN_IN_LIMIT_PER_ACCOUNT = 3
    sign_in(Client(), "admin@testi.example", "wrong")
    sign_in(Client(), "admin@testi.example", "wrong")
    assert sign_in(Client(), "admin@testi.example", PASSWORD).status_code == 302
    sign_in(Client(), "admin@testi.example", "wrong")
    sign_in(Client(), "admin@testi.example", "wrong")
    assert sign_in(Client(), "admin@testi.example", PASSWORD).status_code == 302


def test_sign_in_needs_csrf(member: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/sign-in/", {"username": "admin@testi.example", "password": PASSWORD})
    assert response.status_code == 403


def test_sign_out_is_a_post(member: Any) -> None:
    client = Client()
    sign_in(client, "admin@testi.example", PASSWORD)
    assert client.get("/sign-out/").status_code == 405
    response = client.post("/sign-out/")
    assert response["Location"] == "/sign-in/"
    assert client.get("/settings/").status_code == 302


def test_password_change(member: Any) -> None:
    client = Client()
    sign_in(client, "admin@testi.example", PASSWORD)
    response = client.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer passphrase 2027",
            "new_password2": "a much longer passphrase 2027",
        },
    )
    assert response["Location"] == "/account/profile/"
    member.refresh_from_db()
    assert member.check_password("a much longer passphrase 2027")
    assert client.get("/settings/").status_code == 200  # the session survives


def test_password_change_refuses_a_short_password(member: Any) -> None:
    client = Client()
    sign_in(client, "admin@testi.example", PASSWORD)
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": "short1", "new_password2": "short1"},
    )
    assert response.status_code == 200
    assert "at least 10 characters" in response.content.decode()
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_language_defaults_from_the_browser(member: Any) -> None:
    response = Client().get("/sign-in/", HTTP_ACCEPT_LANGUAGE="nl")
    assert '<html lang="nl">' in response.content.decode()
    assert "Inloggen" in response.content.decode()


def test_profile_language_wins_over_the_browser(member: Any) -> None:
    from abonnement.history.models import HistoryEntry

    client = Client()
    sign_in(client, "admin@testi.example", PASSWORD)
    response = client.post("/account/profile/", {"language": "fi"}, HTTP_ACCEPT_LANGUAGE="nl")
    assert response["Location"] == "/account/profile/"
    member.refresh_from_db()
    assert member.language == "fi"
    page = client.get("/settings/subscription/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert '<html lang="fi">' in page
    assert "Tilaus" in page
    entry = HistoryEntry.objects.get(action="language_changed")
    assert (entry.before, entry.after) == ({"language": "en"}, {"language": "fi"})
    client.post("/account/profile/", {"language": ""})
    page = client.get("/settings/subscription/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert '<html lang="nl">' in page


def test_profile_refuses_an_unknown_language(member: Any) -> None:
    client = Client()
    sign_in(client, "admin@testi.example", PASSWORD)
    response = client.post("/account/profile/", {"language": "de"})
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    member.refresh_from_db()
    assert member.language == "en"


def test_behind_a_trusted_proxy_each_client_is_counted_apart(member: Any, settings: Any) -> None:
    settings.SIGN_IN_LIMIT_PER_ADDRESS = 2
    settings.TRUSTED_PROXIES = 1

    def attempt(forwarded: str, password: str = "wrong") -> int:
        response = Client().post(
            "/sign-in/",
            {"username": "admin@testi.example", "password": password},
            REMOTE_ADDR="10.0.0.254",  # the proxy
            HTTP_X_FORWARDED_FOR=forwarded,
        )
        return int(response.status_code)

    # A client may write its own X-Forwarded-For; the proxy appends the address it saw.
    assert attempt("6.6.6.6, 203.0.113.7") == 200
    assert attempt("7.7.7.7, 203.0.113.7") == 200
    assert attempt("198.51.100.9", PASSWORD) == 302  # another client: not limited
    assert attempt("203.0.113.7", PASSWORD) == 429  # the same client, whatever it wrote


def test_without_trusted_proxies_the_header_is_ignored(member: Any, settings: Any) -> None:
    settings.SIGN_IN_LIMIT_PER_ADDRESS = 2
    for forwarded in ("1.1.1.1", "2.2.2.2"):
        sign_in(Client(), f"{forwarded}@testi.example", "wrong", address="10.0.0.254")
    response = Client().post(
        "/sign-in/",
        {"username": "admin@testi.example", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.254",
        HTTP_X_FORWARDED_FOR="198.51.100.9",
    )
    assert response.status_code == 429
