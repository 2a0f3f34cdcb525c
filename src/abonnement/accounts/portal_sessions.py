"""Portal sessions: the vendor's product sends its signed-in user into the portal
(API-next.md "Sign-in and embedding"), the way Stripe's and Paddle's customer portals work.

The vendor calls ``POST …/portal-sessions`` and redirects the browser to the link it gets.
The link is the secret (``secrets.token_urlsafe(32)``, 256 random bits); only its SHA-256
is stored. It names one user of one organisation, lives ``ABONNEMENT_PORTAL_SESSION_SECONDS``
on the business clock, and works once: redeeming it is one conditional UPDATE (unused and
unexpired → used), so of two parallel redemptions exactly one wins. The user must still be
active when the link is opened.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.http.request import validate_host
from django.urls import reverse
from django.utils.translation import gettext as _

from abonnement.accounts.errors import UserInactive
from abonnement.accounts.models import PortalSession, User
from abonnement.core.actor import Actor, ActorType
from abonnement.core.errors import DomainError, FieldErrors, NotFound, PermissionDenied
from abonnement.history.models import HistoryKind
from abonnement.history.services import record
from abonnement.organizations.models import Organization

# The sections a link may land on: API name → the portal's URL name.
SECTIONS = {
    "overview": "portal:overview",
    "licenses": "portal:licenses",
    "features": "portal:features",
    "billing": "portal:billing",
    "history": "portal:history",
    "users": "portal:users",
}
MAX_RETURN_URL_LENGTH = 2000
# A secret is 43 characters of the URL-safe alphabet; anything much longer is not one.
MAX_SECRET_LENGTH = 100


@dataclass(frozen=True)
class IssuedPortalSession:
    session: PortalSession
    url: str


class PortalSessionRefused(DomainError):
    """A link that cannot sign anyone in. ``return_url`` and ``language`` are the link's
    (empty for a link never made): its page leads back to the product, in its language."""

    return_url: str = ""
    language: str = ""

    def _from(self, session: PortalSession) -> PortalSessionRefused:
        self.return_url = session.return_url
        self.language = session.language or session.user.language
        return self


class PortalSessionGone(PortalSessionRefused):
    """A link that was real but is used or expired."""

    code = "portal_session_gone"
    status = 410

    def __init__(self) -> None:
        super().__init__(_("This sign-in link has already been used or has expired."))


class PortalSessionUnknown(PortalSessionRefused):
    """A link that was never made (mistyped, cut short or forged)."""

    code = "not_found"
    status = 404

    def __init__(self) -> None:
        super().__init__(_("This sign-in link is not valid."))


class PortalSessionUserInactive(PortalSessionRefused, UserInactive):
    """The link's user was deactivated after it was made."""

    code = UserInactive.code
    status = UserInactive.status

    def __init__(self) -> None:
        UserInactive.__init__(self)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def session_url(secret: str) -> str:
    return settings.PUBLIC_URL + reverse("portal:portal_session", args=[secret])


def _find_user(
    organization: Organization, user_id: object, email: object, errors: FieldErrors
) -> User | None:
    """The user named by exactly one of ``user`` and ``email``; "not found" for another
    organisation's user too, so nothing about other organisations is revealed."""
    given_id = user_id not in (None, "")
    given_email = email not in (None, "")
    if given_id and given_email:
        message = _("Give either “user” or “email”, not both.")
        errors.add("user", message)
        errors.add("email", message)
        return None
    if not given_id and not given_email:
        message = _("Give the user's id (“user”) or e-mail address (“email”).")
        errors.add("user", message)
        errors.add("email", message)
        return None
    if given_id:
        if not isinstance(user_id, str):
            errors.add("user", _("Give the user's id as a string."))
            return None
        query: dict[str, Any] = {"pk": int(user_id)} if _is_id(user_id) else {}
    else:
        if not isinstance(email, str):
            errors.add("email", _("Give an e-mail address."))
            return None
        query = {"email": email.strip().lower()}
    if not query:
        return None
    return User.objects.filter(organization=organization, **query).first()


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 18


def _clean_return_url(value: object, errors: FieldErrors) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        errors.add("return_url", _("Give the address as text."))
        return ""
    if not settings.RETURN_URL_HOSTS:
        errors.add(
            "return_url",
            _(
                "No return address is allowed here: list your application's hosts in "
                "ABONNEMENT_RETURN_URL_HOSTS first."
            ),
        )
        return ""
    if len(value) > MAX_RETURN_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in value):
        errors.add("return_url", _("Give a web address (http or https) without spaces."))
        return ""
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        errors.add("return_url", _("Give a web address (http or https) without spaces."))
        return ""
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        errors.add("return_url", _("Give a web address that starts with https:// or http://."))
        return ""
    if not validate_host(host, settings.RETURN_URL_HOSTS):
        errors.add(
            "return_url",
            _(
                "The host %(host)s is not one of ABONNEMENT_RETURN_URL_HOSTS; a return "
                "address must lead back to your application."
            )
            % {"host": host},
        )
        return ""
    return value


@transaction.atomic(durable=True)
def create_portal_session(
    *,
    organization: Organization,
    user_id: object = None,
    email: object = None,
    return_url: object = None,
    section: object = None,
    language: object = None,
    actor: Actor,
    now: datetime,
) -> IssuedPortalSession:
    """A single-use link that signs the user in to the portal (vendor only).

    Unknown user, or another organisation's: ``NotFound``; deactivated: ``UserInactive``.
    """
    if not (actor.vendor or actor.type is ActorType.SYSTEM):
        # Not staff either: a link signs in as the customer's user, which customer service
        # has no need to do.
        raise PermissionDenied(_("Only the vendor's product can make portal links."))
    errors = FieldErrors()
    clean_section = "overview" if section in (None, "") else section
    if clean_section not in SECTIONS:
        errors.add("section", _("Choose one of: %(choices)s.") % {"choices": ", ".join(SECTIONS)})
    languages = [code for code, _name in settings.LANGUAGES]
    clean_language = "" if language in (None, "") else language
    if clean_language and clean_language not in languages:
        errors.add("language", _("Choose one of: %(choices)s.") % {"choices": ", ".join(languages)})
    clean_return_url = _clean_return_url(return_url, errors)
    user = _find_user(organization, user_id, email, errors)
    errors.raise_if_any()
    if user is None:
        raise NotFound(_("User not found."))
    if not user.is_active:
        raise UserInactive()
    secret = secrets.token_urlsafe(32)
    session = PortalSession.objects.create(
        token_hash=token_hash(secret),
        organization=organization,
        user=user,
        section=str(clean_section),
        language=str(clean_language),
        return_url=clean_return_url,
        created_by=actor.name[:200],
        created_at=now,
        expires_at=now + timedelta(seconds=settings.PORTAL_SESSION_SECONDS),
    )
    record(
        organization_id=organization.pk,
        actor=actor,
        now=now,
        kind=HistoryKind.USERS,
        action="portal_session_created",
        subject=user.email,
    )
    return IssuedPortalSession(session=session, url=session_url(secret))


def redeem_portal_session(*, secret: str, now: datetime) -> PortalSession:
    """The link's session, now used, with its user: active, of the link's organisation.

    One conditional UPDATE claims it, so a link works once however many browsers open it
    at the same moment. That one statement is the whole write, committed on its own (no
    surrounding transaction), so a refusal after the claim leaves the link used.

    Raises ``PortalSessionUnknown`` for a link never made, ``PortalSessionGone`` for a
    used or expired one, ``PortalSessionUserInactive`` when the user was deactivated since.
    """
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        raise PortalSessionUnknown()
    digest = token_hash(secret)
    claimed = PortalSession.objects.filter(
        token_hash=digest, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    session = PortalSession.objects.select_related("user").filter(token_hash=digest).first()
    if session is None:
        raise PortalSessionUnknown()
    if not claimed:
        raise PortalSessionGone()._from(session)
    user = session.user
    if not user.is_active or user.organization_id != session.organization_id:
        raise PortalSessionUserInactive()._from(session)
    return session
