"""Users of a customer organisation and API tokens (PRODUCT.md Rule 4)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from abonnement.accounts import permissions
from abonnement.accounts.models import ApiToken, Permission, User
from abonnement.accounts.passwords import invite_locked
from abonnement.core.actor import Actor
from abonnement.core.errors import FieldErrors, NotFound, PermissionDenied, ValidationFailed
from abonnement.core.events import Event, emit
from abonnement.history.models import HistoryKind
from abonnement.history.services import record
from abonnement.orders.models import Order
from abonnement.organizations.models import Organization
from abonnement.subscriptions import services as subscription_services
from abonnement.subscriptions.errors import LastSubscriptionAdmin

ALL_PERMISSIONS = [p.value for p in Permission]


@dataclass(frozen=True)
class UserChange:
    user: User
    order: Order | None
    # (before, after): the next period's licences, when activating the user cut a scheduled
    # licence removal short; None when the next period was left as it was.
    next_period_licenses: tuple[int, int] | None = None


def _kept_for_next_period(
    subscription: Any, before: int, scheduled: bool
) -> tuple[int, int] | None:
    after = subscription.licenses_next
    return (before, after) if scheduled and after > before else None


def _clean_permissions(value: object, errors: FieldErrors) -> list[str]:
    if not isinstance(value, list | tuple | set) or not all(isinstance(v, str) for v in value):
        errors.add("permissions", _("Give a list of permissions."))
        return []
    unknown = sorted(set(value) - set(ALL_PERMISSIONS))
    if unknown:
        errors.add(
            "permissions",
            _("Unknown permission: %(names)s. Choose from %(allowed)s.")
            % {"names": ", ".join(unknown), "allowed": ", ".join(ALL_PERMISSIONS)},
        )
    return sorted(set(value) & set(ALL_PERMISSIONS))


def _clean_name(value: object, errors: FieldErrors) -> str:
    from abonnement.billing.validators import clean_text

    try:
        return clean_text(
            value if isinstance(value, str) else "", "name", required=True, max_length=200
        )
    except ValidationFailed as error:
        errors.errors.extend(error.errors)
        return ""


def _clean_email(value: object, errors: FieldErrors) -> str:
    from abonnement.billing.validators import validate_email_address

    try:
        return validate_email_address(value if isinstance(value, str) else "", "email").lower()
    except ValidationFailed as error:
        errors.errors.extend(error.errors)
        return ""


def _grant_check(actor: Actor, organization: Organization, granted: list[str]) -> None:
    """Only a holder of the subscription permission can hand it out."""
    if Permission.MANAGE_SUBSCRIPTION in granted:
        permissions.require(actor, organization, Permission.MANAGE_SUBSCRIPTION)


def _get_user_locked(organization: Organization, user_id: object) -> User:
    try:
        return User.objects.select_for_update(no_key=True).get(
            pk=int(str(user_id)), organization=organization
        )
    except (User.DoesNotExist, ValueError):
        raise NotFound(_("User not found.")) from None


def _other_admins(organization: Organization, user: User) -> int:
    return (
        User.objects.filter(organization=organization, is_active=True, manage_subscription=True)
        .exclude(pk=user.pk)
        .count()
    )


def _user_snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "active": user.is_active,
        "permissions": user.permissions,
    }


@transaction.atomic(durable=True)
def create_user(
    *,
    organization: Organization,
    email: object,
    name: object,
    permissions_granted: object = (),
    buy_license: bool = False,
    actor: Actor,
    now: datetime,
    password: str | None = None,
    invite: bool = False,
) -> UserChange:
    """Create an active user; needs a free licence or buys one (Rule 4). With ``invite``
    the user is e-mailed a link to choose a password (after commit)."""
    # Before the duplicate-e-mail check: outsiders must not learn which addresses exist.
    permissions.require(actor, organization, Permission.MANAGE_USERS)
    errors = FieldErrors()
    clean_email = _clean_email(email, errors)
    clean_name = _clean_name(name, errors)
    granted = _clean_permissions(permissions_granted, errors)
    existing = User.objects.filter(email=clean_email).first() if clean_email else None
    if (
        existing is not None
        and existing.organization_id == organization.pk
        and not existing.is_active
    ):
        # The organisation's own former user: point to reactivating them (nothing about
        # other organisations' users is revealed).
        errors.add(
            "email",
            _(
                "This e-mail address belongs to %(name)s, who is deactivated. Reactivate "
                "them in user management instead."
            )
            % {"name": existing.display_name},
        )
    elif existing is not None:
        errors.add("email", _("A user with this e-mail address already exists."))
    errors.raise_if_any()
    _grant_check(actor, organization, granted)
    subscription = subscription_services.lock_subscription(organization_id=organization.pk, now=now)
    next_before = subscription.licenses_next
    scheduled = next_before < subscription.licenses  # a licence removal is scheduled
    order = subscription_services.ensure_license_for_activation_locked(
        subscription=subscription, buy_license=buy_license, actor=actor, now=now
    )
    kept = _kept_for_next_period(subscription, next_before, scheduled)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                clean_email,
                password,
                name=clean_name,
                organization=organization,
                manage_subscription=Permission.MANAGE_SUBSCRIPTION in granted,
                manage_users=Permission.MANAGE_USERS in granted,
            )
    except IntegrityError:
        raise ValidationFailed.single(
            "email", _("A user with this e-mail address already exists.")
        ) from None
    record(
        organization_id=organization.pk,
        actor=actor,
        now=now,
        kind=HistoryKind.USERS,
        action="user_created",
        subject=user.email,
        after=_user_snapshot(user),
        reason=f"Order {order.number}" if order else "",
    )
    if invite:
        invite_locked(user=user, actor=actor, now=now)
    emit(Event("user.activated", str(organization.pk), {"user_id": str(user.pk)}, at=now))
    return UserChange(user, order, kept)


@transaction.atomic(durable=True)
def deactivate_user(
    *, organization: Organization, user_id: object, license: object, actor: Actor, now: datetime
) -> User:
    """Deactivate a user, keeping the licence (it becomes free) or removing it next period."""
    if license not in ("keep", "remove"):
        raise ValidationFailed.single("license", _("Choose “keep” or “remove”."))
    permissions.require(actor, organization, Permission.MANAGE_USERS)
    subscription = subscription_services.lock_subscription(organization_id=organization.pk, now=now)
    user = _get_user_locked(organization, user_id)
    if not user.is_active:
        raise ValidationFailed.single("user", _("This user is already inactive."))
    if user.manage_subscription and _other_admins(organization, user) == 0:
        raise LastSubscriptionAdmin()
    before = _user_snapshot(user)
    user.is_active = False
    # Ends every session of the user at once; reactivating does not bring them back.
    user.session_generation += 1
    user.save(update_fields=["is_active", "session_generation"])
    if license == "remove":
        subscription_services.remove_license_next_period_locked(
            subscription=subscription, actor=actor, now=now
        )
    record(
        organization_id=organization.pk,
        actor=actor,
        now=now,
        kind=HistoryKind.USERS,
        action="user_deactivated",
        subject=user.email,
        before=before,
        after=_user_snapshot(user) | {"license": license},
        # Stored in English and translated when shown: the history is read in the reader's
        # language, not in the language of whoever deactivated the user.
        reason=gettext_noop("Licence removed from the next period")
        if license == "remove"
        else gettext_noop("Licence kept"),
    )
    emit(Event("user.deactivated", str(organization.pk), {"user_id": str(user.pk)}, at=now))
    return user


@transaction.atomic(durable=True)
def reactivate_user(
    *, organization: Organization, user_id: object, buy_license: bool, actor: Actor, now: datetime
) -> UserChange:
    permissions.require(actor, organization, Permission.MANAGE_USERS)
    subscription = subscription_services.lock_subscription(organization_id=organization.pk, now=now)
    user = _get_user_locked(organization, user_id)
    if user.is_active:
        raise ValidationFailed.single("user", _("This user is already active."))
    next_before = subscription.licenses_next
    scheduled = next_before < subscription.licenses  # a licence removal is scheduled
    order = subscription_services.ensure_license_for_activation_locked(
        subscription=subscription, buy_license=bool(buy_license), actor=actor, now=now
    )
    kept = _kept_for_next_period(subscription, next_before, scheduled)
    before = _user_snapshot(user)
    user.is_active = True
    user.save(update_fields=["is_active"])
    record(
        organization_id=organization.pk,
        actor=actor,
        now=now,
        kind=HistoryKind.USERS,
        action="user_reactivated",
        subject=user.email,
        before=before,
        after=_user_snapshot(user),
        reason=f"Order {order.number}" if order else "",
    )
    emit(Event("user.activated", str(organization.pk), {"user_id": str(user.pk)}, at=now))
    return UserChange(user, order, kept)


@transaction.atomic(durable=True)
def update_user(
    *,
    organization: Organization,
    user_id: object,
    actor: Actor,
    now: datetime,
    name: object = None,
    permissions_granted: object = None,
) -> User:
    """Edit a user's name and permissions; the last subscription admin keeps theirs."""
    errors = FieldErrors()
    clean_name = _clean_name(name, errors) if name is not None else None
    granted = (
        _clean_permissions(permissions_granted, errors) if permissions_granted is not None else None
    )
    errors.raise_if_any()
    permissions.require(actor, organization, Permission.MANAGE_USERS)
    subscription_services.lock_subscription(organization_id=organization.pk, now=now)
    user = _get_user_locked(organization, user_id)
    before = _user_snapshot(user)
    if granted is not None:
        adds_admin = Permission.MANAGE_SUBSCRIPTION in granted and not user.manage_subscription
        drops_admin = Permission.MANAGE_SUBSCRIPTION not in granted and user.manage_subscription
        if adds_admin or drops_admin:
            permissions.require(actor, organization, Permission.MANAGE_SUBSCRIPTION)
        if drops_admin and user.is_active and _other_admins(organization, user) == 0:
            raise LastSubscriptionAdmin()
        user.manage_subscription = Permission.MANAGE_SUBSCRIPTION in granted
        user.manage_users = Permission.MANAGE_USERS in granted
    if clean_name is not None:
        user.name = clean_name
    after = _user_snapshot(user)
    if after != before:
        user.save(update_fields=["name", "manage_subscription", "manage_users"])
        record(
            organization_id=organization.pk,
            actor=actor,
            now=now,
            kind=HistoryKind.USERS,
            action="user_updated",
            subject=user.email,
            before=before,
            after=after,
        )
    return user


# --------------------------------------------------------------------------- API tokens

TOKEN_PREFIX = "abn_"
SCOPES = ("read", "write")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


@transaction.atomic(durable=True)
def create_vendor_token(*, name: str, actor: Actor, now: datetime) -> IssuedToken:
    permissions.require_vendor_or_staff(actor, billing_role=True)
    clean = (name or "").strip()
    if not clean or len(clean) > 100:
        raise ValidationFailed.single("name", _("Give the token a name of 1–100 characters."))
    secret = _new_token()
    token = ApiToken.objects.create(
        name=clean,
        prefix=secret[:12],
        token_hash=hash_token(secret),
        vendor=True,
        scopes=list(SCOPES),
        created_at=now,
    )
    return IssuedToken(token, secret)


@transaction.atomic(durable=True)
def create_organization_token(
    *, organization: Organization, name: object, scopes: object, actor: Actor, now: datetime
) -> IssuedToken:
    """A token acting on this organisation on behalf of the user who creates it."""
    errors = FieldErrors()
    clean = name.strip() if isinstance(name, str) else ""
    if not clean or len(clean) > 100:
        errors.add("name", _("Give the token a name of 1–100 characters."))
    if (
        not isinstance(scopes, list)
        or not scopes
        or not all(isinstance(s, str) and s in SCOPES for s in scopes)
    ):
        errors.add("scopes", _("Choose one or both of: read, write."))
    errors.raise_if_any()
    assert isinstance(scopes, list)
    permissions.require(actor, organization, Permission.MANAGE_SUBSCRIPTION)
    if actor.token_id is not None and not actor.vendor:
        # A token makes tokens of its own scopes at most: a write-only token cannot mint
        # the read access it was not given.
        own = set(ApiToken.objects.filter(pk=actor.token_id).values_list("scopes", flat=True)[0])
        if not set(scopes) <= own:
            raise PermissionDenied(
                _("This token can only create tokens with its own scopes: %(scopes)s.")
                % {"scopes": ", ".join(sorted(own))}
            )
    on_behalf = actor.user
    if on_behalf is None or on_behalf.organization_id != organization.pk:
        on_behalf = (
            User.objects.filter(organization=organization, is_active=True, manage_subscription=True)
            .order_by("pk")
            .first()
        )
    if on_behalf is None:
        raise PermissionDenied(_("No active administrator to act on behalf of."))
    secret = _new_token()
    token = ApiToken.objects.create(
        name=clean,
        prefix=secret[:12],
        token_hash=hash_token(secret),
        organization=organization,
        user=on_behalf,
        scopes=sorted(set(scopes)),
        created_at=now,
    )
    record(
        organization_id=organization.pk,
        actor=actor,
        now=now,
        kind=HistoryKind.ORGANIZATION,
        action="api_token_created",
        subject=clean,
        after={"name": clean, "scopes": token.scopes, "prefix": token.prefix},
    )
    return IssuedToken(token, secret)


@transaction.atomic(durable=True)
def revoke_token(
    *, token_id: int, organization: Organization | None, actor: Actor, now: datetime
) -> ApiToken:
    query = ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True)
    if organization is not None:
        permissions.require(actor, organization, Permission.MANAGE_SUBSCRIPTION)
        query = query.filter(organization=organization)
    else:
        permissions.require_vendor_or_staff(actor, billing_role=True)
    token = query.first()
    if token is None:
        raise NotFound(_("Token not found."))
    token.revoked_at = now
    token.save(update_fields=["revoked_at"])
    if token.organization_id:
        record(
            organization_id=token.organization_id,
            actor=actor,
            now=now,
            kind=HistoryKind.ORGANIZATION,
            action="api_token_revoked",
            subject=token.name,
            before={"prefix": token.prefix},
        )
    return token


LAST_USE_RESOLUTION = timedelta(minutes=1)


def authenticate_token(secret: str, *, now: datetime) -> ApiToken | None:
    token = (
        ApiToken.objects.select_related("user", "organization")
        .filter(token_hash=hash_token(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    if token.user is not None and not token.user.is_active:
        return None
    # Last-used is informational (no history entry) and recorded to the minute, so that a
    # read stays a read: a use within a minute of the recorded one writes nothing. The
    # UPDATE repeats the condition, so concurrent requests write it once.
    stale = now - LAST_USE_RESOLUTION
    if token.last_used_at is None or token.last_used_at < stale:
        written = (
            ApiToken.objects.filter(pk=token.pk)
            .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale))
            .update(last_used_at=now)
        )
        if written:
            token.last_used_at = now
    return token


PORTAL_LANGUAGES = ("en", "nl", "fi")


@transaction.atomic(durable=True)
def set_user_language(*, user_id: int, language: object, actor: Actor, now: datetime) -> User:
    """A user's own portal language; "" follows the browser. Only the user changes it."""
    if not isinstance(language, str) or language not in ("", *PORTAL_LANGUAGES):
        raise ValidationFailed.single(
            "language", _("Choose English, Dutch, Finnish or the browser's language.")
        )
    if actor.user is None or actor.user.pk != user_id:
        raise PermissionDenied(_("Only the user can change their own language."))
    user = User.objects.select_for_update(no_key=True).get(pk=user_id)
    if user.language == language:
        return user
    before = user.language
    user.language = language
    user.save(update_fields=["language"])
    if user.organization_id is not None:
        record(
            organization_id=user.organization_id,
            actor=actor,
            now=now,
            kind=HistoryKind.USERS,
            action="language_changed",
            subject=user.email,
            before={"language": before},
            after={"language": language},
        )
    return user
