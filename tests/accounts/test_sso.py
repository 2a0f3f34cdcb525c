"""Single sign-on with OpenID Connect (API-next.md, "Sign-in and embedding") against a real
provider running in the test session (``tests/sso_provider.py``).

The flow is driven over HTTP: the Django test client opens ``/sign-in/sso/``, the test
follows the redirect to the provider and submits its authorisation form with ``requests``,
and brings the code back to the callback with the test client.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from abonnement.accounts import sso
from abonnement.accounts.models import User
from abonnement.accounts.services import create_user, deactivate_user
from abonnement.core.models import SimulatedClock
from tests import sso_provider
from tests.conftest import NOW, admin_of, make_organization
from tests.sso_provider import CLIENT_ID, Provider

# The test provider's fixtures, used here by name.
oidc_provider = sso_provider.oidc_provider
sso_settings = sso_provider.sso_settings

pytestmark = pytest.mark.django_db

CALLBACK = "http://127.0.0.1:8000/sign-in/sso/callback/"
ADMIN = "admin@testi.example"


@pytest.fixture
def org(catalog: None, settings: Any) -> Any:
    settings.SIMULATED_CLOCK = True
    SimulatedClock.objects.update_or_create(pk=1, defaults={"now": NOW})
    return make_organization()


@pytest.fixture
def anna(org: Any) -> User:
    return User.objects.get(email=ADMIN)


def start(client: Client, query: str = "") -> str:
    """Open the portal's single sign-on link: the provider's authorisation URL."""
    response = client.get("/sign-in/sso/" + query)
    assert response.status_code == 302
    return str(response["Location"])


def at_provider(authorization_url: str, data: dict[str, str]) -> str:
    """Submit the provider's authorisation form; the URL it sends the browser back to."""
    answer = requests.post(authorization_url, data=data, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["Location"])


def back_to_portal(client: Client, redirect: str) -> Any:
    parts = urlsplit(redirect)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return client.get(f"{parts.path}?{parts.query}")


def sign_in_as(client: Client, sub: str, query: str = "") -> Any:
    return back_to_portal(client, at_provider(start(client, query), {"sub": sub}))


def refusal(client: Client, response: Any) -> str:
    """The callback sent the browser back to the sign-in page with one message."""
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/"
    page = client.get("/sign-in/")
    assert page.status_code == 200
    texts = [str(message) for message in page.context["messages"]]
    assert len(texts) == 1
    assert texts[0] in html.unescape(page.content.decode())
    assert "_auth_user_id" not in client.session
    return texts[0]


# --------------------------------------------------------------------------- the page


def test_without_settings_there_is_no_button_and_no_flow(org: Any) -> None:
    page = Client().get("/sign-in/")
    assert page.status_code == 200
    assert "Sign in with single sign-on" not in page.content.decode()
    assert "/sign-in/sso/" not in page.content.decode()
    assert "has verified for you" not in page.content.decode()
    assert Client().get("/sign-in/sso/").status_code == 404
    assert Client().get("/sign-in/sso/callback/?code=x&state=y").status_code == 404


def test_the_sign_in_page_offers_the_provider(org: Any, sso_settings: Provider) -> None:
    content = Client().get("/sign-in/?next=/settings/users/").content.decode()
    assert (
        '<a class="button button-secondary" href="/sign-in/sso/?next=/settings/users/">'
        "Sign in with Testi ID</a>"
    ) in content
    assert (
        "<p>“Sign in with Testi ID” signs you in with the e-mail address Testi ID has verified "
        "for you, if your administrator added you with that address.</p>"
    ) in content


def test_without_a_name_the_button_says_single_sign_on(
    org: Any, sso_settings: Provider, settings: Any
) -> None:
    settings.OIDC_NAME = ""
    content = Client().get("/sign-in/").content.decode()
    assert '<a class="button button-secondary" href="/sign-in/sso/">' in content
    assert "Sign in with single sign-on</a>" in content


def test_the_authorisation_request_uses_pkce_and_a_nonce(org: Any, sso_settings: Provider) -> None:
    client = Client()
    url = urlsplit(start(client))
    assert f"{url.scheme}://{url.netloc}{url.path}" == sso_settings.url + "/oauth2/authorize"
    params = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert set(params) == {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
    }
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == CALLBACK
    assert params["scope"] == "openid email profile"
    assert params["code_challenge_method"] == "S256"
    # The verifier waits in the session; the provider only saw its SHA-256.
    saved = client.session[f"_state_oidc_{params['state']}"]["data"]
    digest = hashlib.sha256(saved["code_verifier"].encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert saved["nonce"] == params["nonce"]
    assert len(params["state"]) >= 20


# --------------------------------------------------------------------------- signing in


def test_a_verified_address_signs_in_the_active_user(anna: User, sso_settings: Provider) -> None:
    sso_settings.set_user("anna-at-idp", email="Admin@Testi.EXAMPLE", email_verified=True)
    users = User.objects.count()
    client = Client()
    response = sign_in_as(client, "anna-at-idp")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(anna.pk)
    assert client.session["_auth_user_backend"] == "django.contrib.auth.backends.ModelBackend"
    home = client.get("/")
    assert home["Location"] == "/settings/subscription/"
    assert client.get("/settings/subscription/").status_code == 200
    anna.refresh_from_db()
    assert anna.last_login == NOW
    assert User.objects.count() == users
    # The state, nonce and verifier are spent.
    assert not [key for key, _ in client.session.items() if key.startswith("_state_oidc_")]


def test_the_page_asked_for_is_kept(anna: User, sso_settings: Provider) -> None:
    sso_settings.set_user("anna-next", email=ADMIN, email_verified=True)
    client = Client()
    response = sign_in_as(client, "anna-next", "?next=/settings/users/")
    assert response["Location"] == "/settings/users/"


def test_a_page_on_another_site_is_not(anna: User, sso_settings: Provider) -> None:
    sso_settings.set_user("anna-evil", email=ADMIN, email_verified=True)
    client = Client()
    response = sign_in_as(client, "anna-evil", "?next=https://evil.example/")
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(anna.pk)


def test_the_answer_works_once(anna: User, sso_settings: Provider) -> None:
    sso_settings.set_user("anna-once", email=ADMIN, email_verified=True)
    client = Client()
    redirect = at_provider(start(client), {"sub": "anna-once"})
    assert back_to_portal(client, redirect)["Location"] == "/"
    client.post("/sign-out/")
    assert refusal(client, back_to_portal(client, redirect)) == (
        "This sign-in with Testi ID has expired or was started in another browser. "
        "Start again from the sign-in page."
    )


def test_a_user_without_the_subscription_permission_lands_on_settings(
    org: Any, sso_settings: Provider
) -> None:
    create_user(
        organization=org,
        email="mikko@testi.example",
        name="Mikko",
        actor=admin_of(org),
        now=NOW,
    )
    sso_settings.set_user("mikko", email="mikko@testi.example", email_verified=True)
    client = Client()
    assert sign_in_as(client, "mikko")["Location"] == "/"
    assert client.get("/")["Location"] == "/settings/"


# --------------------------------------------------------------------------- refusals


def _snapshot() -> list[tuple[Any, ...]]:
    return list(User.objects.order_by("pk").values_list("pk", "email", "is_active", "last_login"))


def test_an_unknown_address_is_refused_and_nobody_is_created(
    anna: User, sso_settings: Provider
) -> None:
    sso_settings.set_user("stranger", email="Stranger@Elsewhere.example", email_verified=True)
    before = _snapshot()
    client = Client()
    assert refusal(client, sign_in_as(client, "stranger")) == (
        "No user of the portal has the e-mail address stranger@elsewhere.example. Ask an "
        "administrator of your organisation to add you; signing in does not create users."
    )
    assert _snapshot() == before


def test_an_unverified_address_is_refused(anna: User, sso_settings: Provider) -> None:
    sso_settings.set_user("anna-unverified", email=ADMIN, email_verified=False)
    before = _snapshot()
    client = Client()
    assert refusal(client, sign_in_as(client, "anna-unverified")) == (
        "Testi ID has not verified the e-mail address admin@testi.example, so it cannot sign "
        "you in here. Verify the address there, or sign in with your password."
    )
    assert _snapshot() == before


def test_an_address_without_the_verified_claim_is_refused(
    anna: User, sso_settings: Provider
) -> None:
    # The provider's own default for a subject it does not know: only an "email" claim.
    before = _snapshot()
    client = Client()
    assert refusal(client, sign_in_as(client, ADMIN)) == (
        "Testi ID has not verified the e-mail address admin@testi.example, so it cannot sign "
        "you in here. Verify the address there, or sign in with your password."
    )
    assert _snapshot() == before


def test_a_deactivated_user_is_refused(org: Any, sso_settings: Provider) -> None:
    leaver = create_user(
        organization=org, email="leaver@testi.example", name="Leaver", actor=admin_of(org), now=NOW
    ).user
    deactivate_user(
        organization=org, user_id=leaver.pk, license="keep", actor=admin_of(org), now=NOW
    )
    sso_settings.set_user("leaver", email="leaver@testi.example", email_verified=True)
    before = _snapshot()
    client = Client()
    assert refusal(client, sign_in_as(client, "leaver")) == (
        "Your user in the portal is deactivated. Ask an administrator of your organisation "
        "to reactivate it."
    )
    assert _snapshot() == before


def test_a_staff_account_is_refused(org: Any, sso_settings: Provider) -> None:
    User.objects.create_user(
        "sanna@vendor.example", None, name="Sanna Support", is_staff=True, staff_role="support"
    )
    sso_settings.set_user("sanna", email="sanna@vendor.example", email_verified=True)
    before = _snapshot()
    client = Client()
    assert refusal(client, sign_in_as(client, "sanna")) == (
        "This is a back-office account: sign in at the back office with your password and "
        "authenticator."
    )
    assert _snapshot() == before


def test_a_provider_without_an_address_is_refused(anna: User, sso_settings: Provider) -> None:
    # No e-mail claim in the ID token: the userinfo endpoint is asked too, and has none.
    sso_settings.set_user("nameless", name="No Address")
    client = Client()
    assert refusal(client, sign_in_as(client, "nameless")) == (
        "Testi ID did not tell us your e-mail address, so we cannot find your user. Sign in "
        "with your e-mail address and password instead."
    )


# --------------------------------------------------------------------------- provider errors


def test_denying_at_the_provider_is_a_cancellation(anna: User, sso_settings: Provider) -> None:
    client = Client()
    redirect = at_provider(start(client), {"action": "deny"})
    assert parse_qs(urlsplit(redirect).query)["error"] == ["access_denied"]
    assert refusal(client, back_to_portal(client, redirect)) == (
        "Signing in with Testi ID was cancelled. You have not been signed in."
    )


def test_a_foreign_state_is_refused(anna: User, sso_settings: Provider) -> None:
    sso_settings.set_user("anna-state", email=ADMIN, email_verified=True)
    # The code was obtained in another browser (another session): its state is unknown here.
    redirect = at_provider(start(Client()), {"sub": "anna-state"})
    victim = Client()
    assert refusal(victim, back_to_portal(victim, redirect)) == (
        "This sign-in with Testi ID has expired or was started in another browser. "
        "Start again from the sign-in page."
    )


def test_a_callback_without_parameters_is_refused(anna: User, sso_settings: Provider) -> None:
    client = Client()
    assert refusal(client, client.get("/sign-in/sso/callback/")) == (
        "This sign-in with Testi ID has expired or was started in another browser. "
        "Start again from the sign-in page."
    )


PROVIDER_FAILED = (
    "Testi ID could not sign you in just now. Try again in a moment, or sign in with your "
    "e-mail address and password."
)


def test_a_code_the_provider_does_not_know_is_refused(anna: User, sso_settings: Provider) -> None:
    client = Client()
    redirect = at_provider(start(client), {"sub": "anna-bogus"})
    forged = redirect.replace("code=", "code=forged", 1)
    assert refusal(client, back_to_portal(client, forged)) == PROVIDER_FAILED


def test_a_provider_that_is_down_is_refused(
    anna: User, sso_settings: Provider, settings: Any
) -> None:
    import socket

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings.OIDC_ISSUER = f"http://127.0.0.1:{port}"
    client = Client()
    response = client.get("/sign-in/sso/")
    assert refusal(client, response) == PROVIDER_FAILED


def test_a_discovery_document_for_another_issuer_is_refused(
    anna: User, sso_settings: Provider, settings: Any
) -> None:
    # A server whose discovery document names another issuer (a mistyped or hijacked
    # ABONNEMENT_OIDC_ISSUER): its ID tokens would be checked against the wrong issuer.
    metadata = requests.get(
        sso_settings.url + "/.well-known/openid-configuration", timeout=10
    ).json()
    document = json.dumps({**metadata, "issuer": "https://elsewhere.example"}).encode()

    class Discovery(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Discovery)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings.OIDC_ISSUER = f"http://127.0.0.1:{server.server_address[1]}"
        client = Client()
        assert refusal(client, client.get("/sign-in/sso/")) == PROVIDER_FAILED
    finally:
        server.shutdown()
        server.server_close()


def test_a_provider_that_goes_down_after_the_start_is_refused(
    anna: User, sso_settings: Provider, settings: Any
) -> None:
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread() as server:
        settings.OIDC_ISSUER = f"http://localhost:{server.server_port}"
        client = Client()
        redirect = at_provider(start(client), {"sub": ADMIN})
    # The token endpoint no longer answers (the discovery document is already read).
    assert refusal(client, back_to_portal(client, redirect)) == PROVIDER_FAILED


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({}, sso.NoEmailAddress),
        ({"email": "  ", "email_verified": True}, sso.NoEmailAddress),
        ({"email": ADMIN}, sso.EmailNotVerified),
        ({"email": ADMIN, "email_verified": "false"}, sso.EmailNotVerified),
        ({"email": ADMIN, "email_verified": 1}, sso.EmailNotVerified),
        ({"email": "nobody@testi.example", "email_verified": True}, sso.UnknownUser),
    ],
)
def test_the_rule_refuses(anna: User, claims: dict[str, object], error: type) -> None:
    with pytest.raises(error) as refused:
        sso.sign_in_with_claims(claims)
    assert refused.value.status == 403


@pytest.mark.parametrize("verified", [True, "true", "TRUE"])
def test_the_rule_accepts_a_verified_address(anna: User, verified: object) -> None:
    assert (
        sso.sign_in_with_claims({"email": " ADMIN@testi.example ", "email_verified": verified})
        == anna
    )


def test_a_user_without_an_organisation_is_not_a_portal_user(db: Any) -> None:
    User.objects.create_user("loose@vendor.example", None, name="Loose")
    with pytest.raises(sso.UnknownUser):
        sso.sign_in_with_claims({"email": "loose@vendor.example", "email_verified": True})


def test_a_message_about_the_unnamed_provider_starts_with_a_capital(settings: Any) -> None:
    from abonnement.accounts.sso import NoEmailAddress, ProviderUnavailable

    settings.OIDC_NAME = ""
    assert ProviderUnavailable().message == (
        "Single sign-on could not sign you in just now. Try again in a moment, or sign in "
        "with your e-mail address and password."
    )
    assert NoEmailAddress().message.startswith("Single sign-on did not tell us")
