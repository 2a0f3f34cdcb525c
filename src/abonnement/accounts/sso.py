"""Single sign-on with OpenID Connect (authorisation code flow with PKCE).

The contract (API-next.md, "Sign-in and embedding"): with ``ABONNEMENT_OIDC_ISSUER``,
``_CLIENT_ID`` and ``_CLIENT_SECRET`` set, the portal's sign-in page offers "Sign in with
<ABONNEMENT_OIDC_NAME>". The provider's verified e-mail address signs in the ACTIVE customer
user with that address; nobody is ever created, and back-office accounts are refused (they
sign in at the back office with their authenticator). Every refusal and every provider
failure is a ``DomainError`` with a message for the person signing in, never a server error.

Authlib's Django client does the protocol: it reads the provider's discovery document
(lazily, at the first single sign-on request, then once per process), sends state, nonce
and an S256 code challenge, keeps them in the session, exchanges the code and validates the
ID token (signature against the provider's keys, issuer, audience, expiry, nonce).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from joserfc.errors import JoseError

from abonnement.accounts.models import User
from abonnement.core.errors import DomainError

logger = logging.getLogger("abonnement.sso")

SCOPE = "openid email profile"
# Seconds to wait for the provider (discovery, keys, token and userinfo requests): a slow
# provider costs one web worker this long at most, then the person sees a message.
PROVIDER_TIMEOUT = 10
# Where the page asked for before signing in waits while the person is at the provider.
NEXT_SESSION_KEY = "sso_next"

# What a provider that is down, slow or answering nonsense raises inside Authlib: network
# errors, HTTP errors, bad JSON, token or ID-token errors, missing metadata.
_PROVIDER_FAILURES = (
    AuthlibBaseError,
    JoseError,
    requests.RequestException,
    ValueError,
    KeyError,
    TypeError,
    RuntimeError,
)


def is_enabled() -> bool:
    return bool(settings.OIDC_ENABLED)


def provider_name() -> str:
    """The name on the button and in messages: ``ABONNEMENT_OIDC_NAME``, else a translated
    "single sign-on"."""
    return str(settings.OIDC_NAME) or _("single sign-on")


# --------------------------------------------------------------------------- refusals


class SingleSignOnOff(DomainError):
    code = "sso_not_configured"
    status = 404

    def __init__(self) -> None:
        super().__init__(_("Single sign-on is not set up for this portal."))


class NoEmailAddress(DomainError):
    code = "sso_no_email"
    status = 403

    def __init__(self) -> None:
        super().__init__(
            # The name may be the lower-case default: a sentence starts with a capital.
            capfirst(
                _(
                    "%(provider)s did not tell us your e-mail address, so we cannot find your "
                    "user. Sign in with your e-mail address and password instead."
                )
                % {"provider": provider_name()}
            )
        )


class EmailNotVerified(DomainError):
    code = "sso_email_unverified"
    status = 403

    def __init__(self, email: str) -> None:
        super().__init__(
            # The name may be the lower-case default: a sentence starts with a capital.
            capfirst(
                _(
                    "%(provider)s has not verified the e-mail address %(email)s, so it cannot "
                    "sign you in here. Verify the address there, or sign in with your password."
                )
                % {"provider": provider_name(), "email": email}
            )
        )


class UnknownUser(DomainError):
    code = "sso_unknown_user"
    status = 403

    def __init__(self, email: str) -> None:
        super().__init__(
            _(
                "No user of the portal has the e-mail address %(email)s. Ask an "
                "administrator of your organisation to add you; signing in does not create "
                "users."
            )
            % {"email": email}
        )


class InactiveUser(DomainError):
    code = "user_inactive"
    status = 403

    def __init__(self) -> None:
        super().__init__(
            _(
                "Your user in the portal is deactivated. Ask an administrator of your "
                "organisation to reactivate it."
            )
        )


class StaffAccount(DomainError):
    code = "sso_staff_account"
    status = 403

    def __init__(self) -> None:
        super().__init__(
            _(
                "This is a back-office account: sign in at the back office with your password "
                "and authenticator."
            )
        )


class SignInCancelled(DomainError):
    code = "sso_cancelled"
    status = 403

    def __init__(self) -> None:
        super().__init__(
            _("Signing in with %(provider)s was cancelled. You have not been signed in.")
            % {"provider": provider_name()}
        )


class SignInExpired(DomainError):
    code = "sso_state_mismatch"
    status = 400

    def __init__(self) -> None:
        super().__init__(
            _(
                "This sign-in with %(provider)s has expired or was started in another "
                "browser. Start again from the sign-in page."
            )
            % {"provider": provider_name()}
        )


class ProviderUnavailable(DomainError):
    code = "sso_provider_error"
    status = 502

    def __init__(self) -> None:
        super().__init__(
            # The name may be the lower-case default: a sentence starts with a capital.
            capfirst(
                _(
                    "%(provider)s could not sign you in just now. Try again in a moment, or sign "
                    "in with your e-mail address and password."
                )
                % {"provider": provider_name()}
            )
        )


# --------------------------------------------------------------------------- the client


@functools.lru_cache(maxsize=4)
def _client(issuer: str, client_id: str, client_secret: str) -> Any:
    """One Authlib client per configuration (tests switch providers); nothing is fetched
    until the first request needs the discovery document."""
    oauth = OAuth()
    return oauth.register(
        name="oidc",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "default_timeout": PROVIDER_TIMEOUT,
        },
    )


def _provider() -> Any:
    if not is_enabled():
        raise SingleSignOnOff()
    provider = _client(settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET)
    metadata = provider.load_server_metadata()
    # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer it was read
    # from; Authlib then checks every ID token's "iss" against it.
    if str(metadata.get("issuer", "")).rstrip("/") != settings.OIDC_ISSUER.rstrip("/"):
        raise ValueError(
            f"the discovery document names issuer {metadata.get('issuer')!r}, "
            f"not ABONNEMENT_OIDC_ISSUER {settings.OIDC_ISSUER!r}"
        )
    return provider


def begin(request: HttpRequest, *, redirect_uri: str, next_url: str = "") -> str:
    """The provider's authorisation URL to send the browser to; the state, nonce and PKCE
    code verifier wait in the session, with the page to land on afterwards (a local one
    only)."""
    try:
        provider = _provider()
        authorization = provider.create_authorization_url(redirect_uri)
        provider.save_authorize_data(request, redirect_uri=redirect_uri, **authorization)
    except _PROVIDER_FAILURES as error:
        logger.warning("single sign-on could not start: %s", error, exc_info=True)
        raise ProviderUnavailable() from error
    safe = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if next_url and safe:
        request.session[NEXT_SESSION_KEY] = next_url
    else:
        request.session.pop(NEXT_SESSION_KEY, None)
    return str(authorization["url"])


def finish(request: HttpRequest) -> User:
    """The user the provider's answer on the callback signs in, or a refusal."""
    try:
        provider = _provider()
        token = provider.authorize_access_token(request)
        claims = dict(token.get("userinfo") or {})
        if not claims:
            raise ValueError("the token response carries no ID token")
        if "email" not in claims or "email_verified" not in claims:
            # Some providers keep the ID token thin and give the e-mail claims only from
            # the userinfo endpoint; its subject must be the ID token's (OIDC Core 5.3.2).
            userinfo = dict(provider.userinfo(token=token))
            if userinfo.get("sub") != claims.get("sub"):
                raise ValueError("the userinfo subject differs from the ID token's")
            claims = {**userinfo, **claims}
    except MismatchingStateError as error:
        raise SignInExpired() from error
    except OAuthError as error:
        if error.error == "access_denied":
            raise SignInCancelled() from error
        logger.warning("single sign-on failed at the provider: %s", error, exc_info=True)
        raise ProviderUnavailable() from error
    except _PROVIDER_FAILURES as error:
        logger.warning("single sign-on failed: %s", error, exc_info=True)
        raise ProviderUnavailable() from error
    return sign_in_with_claims(claims)


def take_next_url(request: HttpRequest) -> str:
    """The page asked for before the detour to the provider ("" for none), forgotten once
    read."""
    return str(request.session.pop(NEXT_SESSION_KEY, "") or "")


# --------------------------------------------------------------------------- the rule


def _verified(value: object) -> bool:
    # OIDC Core says a JSON boolean; some providers send the string "true".
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def sign_in_with_claims(claims: Mapping[str, object]) -> User:
    """The active customer user whose e-mail address the provider verified.

    Reads only: nobody is created or changed here (the sign-in itself stamps
    ``last_login``). Addresses are stored lower-case, so the match ignores case.
    """
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        raise NoEmailAddress()
    email = email.strip().lower()
    if not _verified(claims.get("email_verified")):
        raise EmailNotVerified(email)
    user = User.objects.filter(email=email).first()
    if user is None:
        raise UnknownUser(email)
    if user.is_staff or user.is_superuser:
        raise StaffAccount()
    if user.organization_id is None:
        raise UnknownUser(email)
    if not user.is_active:
        raise InactiveUser()
    return user
