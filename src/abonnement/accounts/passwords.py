"""Choosing a password through a link: invitations (7 days) and password resets (1 hour).

The links carry Django's HMAC tokens (``accounts/tokens.py``): nothing secret is stored,
and a link dies when what it hashes changes — the password (following it sets one), the
last sign-in (choosing the password signs the user in), ``invited_at`` (a newer invitation
replaces the older) and ``is_active``. Both kinds work once.

- ``send_invitation`` stamps ``invited_at`` and, after commit, e-mails the link in the
  user's language. The e-mail task builds the link itself from the user's state at sending
  time, and sends nothing when that state is no longer the invited one (deactivated, a
  password chosen, signed in or invited again since).
- ``request_password_reset`` answers the same whatever the address: it counts the request
  against the per-address and per-account limits and always enqueues one task; the task
  looks the address up and e-mails a link only to an active user of that audience. The
  request path does the same work for a known and an unknown address, so neither its
  answer nor its time tells them apart.
- ``set_password_from_link`` checks the link under a lock on the user (of two parallel
  uses exactly one wins), applies Django's password validators, sets the password and
  ends every session of the user (``session_generation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from abonnement.accounts import permissions, ratelimit
from abonnement.accounts.errors import LinkExpired, RateLimited, UserInactive
from abonnement.accounts.models import Permission, User
from abonnement.accounts.tokens import (
    _ClockedTokens,
    decode_user,
    encode_user,
    invitation_tokens,
    reset_tokens,
)
from abonnement.core.actor import Actor
from abonnement.core.errors import FieldErrors, NotFound, PermissionDenied
from abonnement.history.models import HistoryKind
from abonnement.history.services import record
from abonnement.organizations.models import Organization

LinkKind = Literal["invitation", "reset"]
Audience = Literal["portal", "backoffice"]

INVITATION_DAYS = 7
RESET_HOURS = 1


@dataclass(frozen=True)
class Invitation:
    user: User
    link: str


def _tokens(kind: LinkKind) -> _ClockedTokens:
    return invitation_tokens if kind == "invitation" else reset_tokens


def audience_of(user: User) -> Audience:
    return "backoffice" if user.is_staff else "portal"


def _link(user: User, kind: LinkKind) -> str:
    names = {
        ("portal", "invitation"): "portal:invitation",
        ("portal", "reset"): "portal:password_reset_confirm",
        ("backoffice", "invitation"): "backoffice:invitation",
        ("backoffice", "reset"): "backoffice:password_reset_confirm",
    }
    path = reverse(
        names[audience_of(user), kind],
        kwargs={"uidb64": encode_user(user), "token": _tokens(kind).make_token(user)},
    )
    return settings.PUBLIC_URL + path


def invitation_link(user: User) -> str:
    """An absolute link to choose a password: the portal's for customers, the back
    office's for staff. Valid while the user's state is the one it was made from."""
    return _link(user, "invitation")


def reset_link(user: User) -> str:
    return _link(user, "reset")


# --------------------------------------------------------------------------- invitations


def _invitation_state(user: User) -> str:
    """What an invitation link depends on, as a digest: the e-mail task sends only while
    the user is still in the state the invitation was made in."""
    instants = [
        "" if value is None else value.astimezone(UTC).isoformat()
        for value in (user.last_login, user.invited_at)
    ]
    value = f"{user.password}|{instants[0]}|{instants[1]}|{user.is_active}"
    return salted_hmac("abonnement.accounts.passwords.invitation", value).hexdigest()[:32]


def _inviter_name(actor: Actor) -> str:
    """Who the e-mail says invited them: a person when one acts, else the vendor."""
    if actor.user is not None:
        return actor.user.display_name
    return str(settings.SELLER["name"])


@transaction.atomic(durable=True)
def send_invitation(
    *,
    user_id: int | str,
    actor: Actor,
    now: datetime,
    organization: Organization | None = None,
) -> Invitation:
    """(Re)send the invitation: any earlier invitation link stops working.

    With ``organization`` the user must be one of its users (another's is "not found").
    Customers' invitations need the user-management permission on their organisation;
    staff invitations need the vendor, the billing role or the operator's command line.
    """
    if organization is not None:
        permissions.require(actor, organization, Permission.MANAGE_USERS)
        users = User.objects.filter(organization=organization)
    else:
        users = User.objects.all()
    text = str(user_id)
    found = (
        users.select_for_update(no_key=True).filter(pk=int(text)).first()
        if text.isascii() and text.isdigit() and len(text) <= 18
        else None
    )
    if found is None:
        raise NotFound(_("User not found."))
    user = found
    if organization is None:
        if user.organization is not None:
            permissions.require(actor, user.organization, Permission.MANAGE_USERS)
        else:
            permissions.require_vendor_or_staff(actor, billing_role=True)
    return invite_locked(user=user, actor=actor, now=now)


def invite_locked(*, user: User, actor: Actor, now: datetime) -> Invitation:
    """The invitation inside a caller's transaction (``create_user``, provisioning), with
    the user's row locked or just created; the caller has checked the permission."""
    if not user.is_active:
        raise UserInactive()
    user.invited_at = now
    user.save(update_fields=["invited_at"])
    if user.organization_id is not None:
        record(
            organization_id=user.organization_id,
            actor=actor,
            now=now,
            kind=HistoryKind.USERS,
            action="invitation_sent",
            subject=user.email,
            after={"email": user.email},
        )
    state, inviter = _invitation_state(user), _inviter_name(actor)

    def enqueue() -> None:
        from abonnement.accounts.tasks import send_invitation_email

        send_invitation_email.enqueue(user_id=user.pk, state=state, inviter=inviter)

    transaction.on_commit(enqueue)
    return Invitation(user, invitation_link(user))


def language_of(user: User) -> str:
    """The user's language, else their organisation's, else the installation's default."""
    known = {code for code, _name in settings.LANGUAGES}
    for language in (
        user.language,
        user.organization.language if user.organization is not None else "",
    ):
        if language in known:
            return language
    return str(settings.LANGUAGE_CODE)


def _send(user: User, template: str, context: dict[str, object]) -> None:
    with translation.override(language_of(user)):
        subject = render_to_string(f"accounts/email/{template}_subject.txt", context)
        body = render_to_string(f"accounts/email/{template}.txt", context)
    EmailMessage(
        subject=" ".join(subject.split()),
        body=body.strip() + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    ).send(fail_silently=False)


def deliver_invitation(*, user_id: int, state: str, inviter: str) -> str:
    """E-mail the invitation (the task's work). Safe to run again: it sends only while the
    user is in the invited state, and a repeat sends a link as valid as the first."""
    user = User.objects.select_related("organization").filter(pk=user_id).first()
    if user is None:
        return "skipped: no such user"
    if _invitation_state(user) != state:
        return "skipped: the invitation was replaced, used or the user deactivated"
    _send(
        user,
        "invitation",
        {
            "user": user,
            "organization": user.organization,
            "inviter": inviter,
            "link": invitation_link(user),
            "days": INVITATION_DAYS,
            "seller": settings.SELLER["name"],
            "product": settings.PRODUCT_NAME,
        },
    )
    return "sent"


# --------------------------------------------------------------------------- resets


def _audience_users(audience: Audience) -> QuerySet[User]:
    active = User.objects.filter(is_active=True)
    if audience == "backoffice":
        return active.filter(is_staff=True)
    return active.filter(is_staff=False, organization__isnull=False)


@transaction.atomic(durable=True)
def request_password_reset(*, email: str, address: str, audience: Audience, now: datetime) -> None:
    """Someone asks for a reset link. Always the same outcome for the caller, whether or not
    the address belongs to anyone; ``RateLimited`` over the per-address or per-account limit
    (``ABONNEMENT_SIGN_IN_LIMIT_*``: every request counts)."""
    if audience not in ("portal", "backoffice"):
        raise ValueError(audience)
    clean = (email or "").strip().lower()[:254]
    if not ratelimit.reserve_attempt(email=clean, address=address, purpose=ratelimit.RESET):
        raise RateLimited(minutes=ratelimit.window_minutes())

    def enqueue() -> None:
        from abonnement.accounts.tasks import send_password_reset_email

        send_password_reset_email.enqueue(email=clean, audience=audience)

    transaction.on_commit(enqueue)


def deliver_password_reset(*, email: str, audience: Audience) -> str:
    """E-mail a reset link to the active user of ``audience`` with this address, if any."""
    user = _audience_users(audience).select_related("organization").filter(email=email).first()
    if user is None:
        return "skipped: no active user with this address"
    _send(
        user,
        "password_reset",
        {
            "user": user,
            "organization": user.organization,
            "link": reset_link(user),
            "hours": RESET_HOURS,
            "seller": settings.SELLER["name"],
        },
    )
    return "sent"


# --------------------------------------------------------------------------- using a link


def _matches(user: User | None, audience: Audience | None) -> bool:
    return user is not None and (audience is None or audience_of(user) == audience)


def check_link(
    *, uidb64: str, token: str, kind: LinkKind, audience: Audience | None = None
) -> User | None:
    """The user a live link names, or None (malformed, unknown, used, expired, replaced,
    deactivated, or for the other audience)."""
    user = decode_user(uidb64)
    if not _matches(user, audience) or not _tokens(kind).check_token(user, token):
        return None
    return user


@transaction.atomic(durable=True)
def set_password_from_link(
    *,
    uidb64: str,
    token: str,
    kind: LinkKind,
    password: str,
    password_again: str,
    now: datetime,
    audience: Audience | None = None,
) -> User:
    """Set the password a live link allows; ends every session of the user. The caller
    signs the user in (choosing the password signs in)."""
    found = decode_user(uidb64)
    user = (
        User.objects.select_for_update(no_key=True).filter(pk=found.pk).first()
        if found is not None
        else None
    )
    # Checked on the locked row: of two uses of one link, the second sees the new password.
    if not _matches(user, audience) or not _tokens(kind).check_token(user, token):
        raise LinkExpired()
    assert user is not None
    errors = FieldErrors()
    if not password:
        errors.add("password", _("Choose a password."))
    else:
        try:
            validate_password(password, user)
        except DjangoValidationError as error:
            for message in error.messages:
                errors.add("password", message)
        if password != password_again:
            errors.add("password_again", _("The two passwords differ. Type the same one twice."))
    errors.raise_if_any()
    user.set_password(password)
    user.session_generation += 1
    user.save(update_fields=["password", "session_generation"])
    if user.organization_id is not None:
        record(
            organization_id=user.organization_id,
            actor=Actor.portal(user),
            now=now,
            kind=HistoryKind.USERS,
            action="password_chosen" if kind == "invitation" else "password_reset",
            subject=user.email,
        )
    return user


@transaction.atomic(durable=True)
def change_password(*, user_id: int, password: str, actor: Actor, now: datetime) -> User:
    """The user's own new password (the form has checked the old one and the validators).
    Ends every session of the user: the caller keeps the current one with
    ``update_session_auth_hash``."""
    user = User.objects.select_for_update(no_key=True).get(pk=user_id)
    if actor.user is None or actor.user.pk != user.pk:
        raise PermissionDenied(_("Only the user can change their own password."))
    user.set_password(password)
    user.session_generation += 1
    user.save(update_fields=["password", "session_generation"])
    if user.organization_id is not None:
        record(
            organization_id=user.organization_id,
            actor=actor,
            now=now,
            kind=HistoryKind.USERS,
            action="password_changed",
            subject=user.email,
        )
    return user
