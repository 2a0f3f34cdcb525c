"""Back-office staff accounts, managed by the operator (`abonnement staff`, API-next.md
"Command line").

A staff account is an ``accounts.User`` with ``is_staff``, a ``staff_role`` and no
organisation. It is created without a usable password: the new staff member chooses one
through a one-time link (``accounts.passwords``), then enrols a TOTP authenticator at the
first sign-in (``backoffice.mfa``).

Staff have no organisation, so these changes have no organisation history to go in; each
is written to the staff accounts' own append-only history (``StaffChange``, read in
Django's admin) in the same transaction, and the command line that made it prints what it
did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from abonnement.accounts import passwords
from abonnement.accounts.models import StaffChange, StaffRole, User
from abonnement.accounts.passwords import Invitation
from abonnement.core.actor import Actor, ActorType
from abonnement.core.errors import FieldErrors, NotFound, PermissionDenied, ValidationFailed

ROLES = (StaffRole.SUPPORT.value, StaffRole.BILLING.value)


@dataclass(frozen=True)
class StaffAccount:
    """One line of ``abonnement staff list``."""

    email: str
    name: str
    role: str
    active: bool
    mfa_enrolled: bool
    last_sign_in: datetime | None


def _require_operator(actor: Actor) -> None:
    """Staff accounts are the operator's (the command line's) to manage, not a staff
    member's: nobody in the back office can give themselves or others a role."""
    if actor.type is not ActorType.SYSTEM:
        raise PermissionDenied(_("Only the operator manages staff accounts (abonnement staff)."))


def _clean(email: object, name: object, role: object) -> tuple[str, str, str]:
    from abonnement.billing.validators import clean_text, validate_email_address

    errors = FieldErrors()
    clean_email = clean_name = ""
    try:
        clean_email = validate_email_address(email if isinstance(email, str) else "", "email")
        clean_email = clean_email.lower()
    except ValidationFailed as error:
        errors.errors.extend(error.errors)
    try:
        clean_name = clean_text(
            name if isinstance(name, str) else "", "name", required=True, max_length=200
        )
    except ValidationFailed as error:
        errors.errors.extend(error.errors)
    if role not in ROLES:
        errors.add("role", _("Choose the role support or billing."))
    if clean_email and User.objects.filter(email=clean_email).exists():
        errors.add("email", _("A user with this e-mail address already exists."))
    errors.raise_if_any()
    return clean_email, clean_name, str(role)


@transaction.atomic(durable=True)
def create_staff(
    *, email: object, name: object, role: object, actor: Actor, now: datetime
) -> Invitation:
    """A new active staff account with the role, no organisation and no usable password,
    and its invitation: the link to choose a password (returned, for the operator to hand
    over) is e-mailed after commit too."""
    _require_operator(actor)
    clean_email, clean_name, clean_role = _clean(email, name, role)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                clean_email, None, name=clean_name, is_staff=True, staff_role=clean_role
            )
    except IntegrityError:
        # Another process created the address between the check and the insert.
        raise ValidationFailed.single(
            "email", _("A user with this e-mail address already exists.")
        ) from None
    invitation = passwords.invite_locked(user=user, actor=actor, now=now)
    _record(user, StaffChange.Action.CREATED, actor=actor, now=now)
    return invitation


def list_staff() -> list[StaffAccount]:
    """Every staff account, active or not, by e-mail address."""
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    users = (
        User.objects.filter(is_staff=True)
        .annotate(mfa_enrolled=Exists(confirmed))
        .order_by("email")
    )
    return [
        StaffAccount(
            email=user.email,
            name=user.name,
            role=user.staff_role,
            active=user.is_active,
            mfa_enrolled=bool(user.mfa_enrolled),  # type: ignore[attr-defined]
            last_sign_in=user.last_login,
        )
        for user in users
    ]


def _get_staff_locked(email: object) -> User:
    address = email.strip().lower() if isinstance(email, str) else ""
    user = User.objects.select_for_update(no_key=True).filter(is_staff=True, email=address).first()
    if user is None:
        raise NotFound(_("No staff account has the e-mail address %(email)s.") % {"email": address})
    return user


def _record(user: User, action: StaffChange.Action, *, actor: Actor, now: datetime) -> None:
    StaffChange.objects.create(
        at=now,
        actor_name=actor.name,
        channel=actor.channel.value,
        action=action,
        account=user,
        after={
            "email": user.email,
            "name": user.name,
            "role": user.staff_role,
            "active": user.is_active,
        },
    )


def _end_sessions(user: User, **changes: object) -> None:
    User.objects.filter(pk=user.pk).update(
        session_generation=F("session_generation") + 1, **changes
    )
    user.refresh_from_db(fields=["is_active", "session_generation"])


@transaction.atomic(durable=True)
def deactivate_staff(*, email: object, actor: Actor, now: datetime) -> User:
    """Deactivate a staff account and end every session it has, at once (raising the
    session generation changes the hash each of its sessions was signed in with)."""
    _require_operator(actor)
    user = _get_staff_locked(email)
    if not user.is_active:
        raise ValidationFailed.single(
            "email",
            _("The staff account %(email)s is already deactivated.") % {"email": user.email},
        )
    _end_sessions(user, is_active=False)
    _record(user, StaffChange.Action.DEACTIVATED, actor=actor, now=now)
    return user


@transaction.atomic(durable=True)
def reset_staff_mfa(*, email: object, actor: Actor, now: datetime) -> User:
    """For a staff member who lost both the authenticator and the recovery codes: both are
    removed and every session ends; the next sign-in (password first) enrols anew."""
    _require_operator(actor)
    user = _get_staff_locked(email)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _end_sessions(user)
    _record(user, StaffChange.Action.MFA_RESET, actor=actor, now=now)
    return user
