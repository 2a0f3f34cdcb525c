"""Reads of users and tokens, always scoped to one organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from abonnement.accounts import permissions
from abonnement.accounts.models import ApiToken, Permission, User
from abonnement.core.actor import Actor
from abonnement.core.errors import DomainError, NotFound, PermissionDenied
from abonnement.organizations.models import Organization
from abonnement.subscriptions.errors import ManagedByMarketplace

if TYPE_CHECKING:
    from abonnement.subscriptions.services import ChangePreview

USER_STATUSES = ("active", "inactive", "all")


@dataclass(frozen=True)
class LicenseCounter:
    """Licences of the current period and how many active users occupy them."""

    licenses: int
    licenses_next: int
    active_users: int
    next_period_start: date

    @property
    def free(self) -> int:
        return max(self.licenses - self.active_users, 0)


def license_counter(*, organization_id: UUID) -> LicenseCounter:
    from abonnement.subscriptions.selectors import (
        active_user_count,
        get_subscription,
        next_period_of,
    )

    subscription = get_subscription(organization_id)
    return LicenseCounter(
        licenses=subscription.licenses,
        licenses_next=subscription.licenses_next,
        active_users=active_user_count(organization_id),
        next_period_start=next_period_of(subscription).start,
    )


@dataclass(frozen=True)
class UserDirectory:
    page: Page[User]
    counter: LicenseCounter
    query: str
    status: str


def user_directory(
    *,
    organization_id: UUID,
    query: str = "",
    status: str = "active",
    page: int | str | None = 1,
    per_page: int = 50,
) -> UserDirectory:
    """The user list of User management: search by name or e-mail, filter by status."""
    users = User.objects.filter(organization_id=organization_id)
    text = query.strip()[:200]
    if text:
        users = users.filter(Q(name__icontains=text) | Q(email__icontains=text))
    if status == "active":
        users = users.filter(is_active=True)
    elif status == "inactive":
        users = users.filter(is_active=False)
    else:
        status = "all"
    paginator = Paginator(users.order_by("name", "email", "pk"), per_page)
    return UserDirectory(
        page=paginator.get_page(page),
        counter=license_counter(organization_id=organization_id),
        query=text,
        status=status,
    )


def get_user(*, organization_id: UUID, user_id: object) -> User:
    """A user of this organisation; another organisation's user is "not found" too."""
    try:
        return User.objects.get(pk=int(str(user_id)), organization_id=organization_id)
    except (User.DoesNotExist, ValueError):
        raise NotFound(_("User not found.")) from None


def permission_holders(*, organization_id: UUID, permission: str) -> list[User]:
    """Active users who hold ``permission`` (named on the "no permission" page)."""
    if permission not in {p.value for p in Permission}:
        raise ValueError(permission)
    return list(
        User.objects.filter(
            organization_id=organization_id, is_active=True, **{permission: True}
        ).order_by("name", "email")
    )


def active_users(*, organization_id: UUID) -> list[User]:
    return list(
        User.objects.filter(organization_id=organization_id, is_active=True).order_by(
            "name", "email"
        )
    )


@dataclass(frozen=True)
class LicenseOffer:
    """What activating one more user needs: a free licence, or buying one (Rule 4).

    ``preview`` is the purchase preview when the actor may buy; ``refusal`` is why the actor
    may not (no subscription permission, or a marketplace-managed subscription).
    """

    counter: LicenseCounter
    preview: ChangePreview | None
    refusal: DomainError | None
    administrators: list[User]
    # Whether the actor may change the next period (the subscription permission, and not a
    # marketplace subscription): needed to keep a licence a scheduled removal would drop.
    may_keep: bool = False

    @property
    def needs_license(self) -> bool:
        return self.counter.free == 0

    @property
    def can_buy(self) -> bool:
        return self.preview is not None

    @property
    def keeps_next(self) -> bool:
        """A licence is free now, but after a scheduled removal the next period has none:
        activating one more user keeps one more licence in the next period (Rule 4)."""
        counter = self.counter
        return counter.free > 0 and counter.licenses_next < counter.active_users + 1

    @property
    def next_after(self) -> int:
        """The next period's licences once one more user is active."""
        return max(self.counter.licenses_next, self.counter.active_users + 1)

    @property
    def blocked(self) -> bool:
        """The actor cannot activate one more user at all (the button is disabled)."""
        if self.needs_license:
            return not self.can_buy
        return self.keeps_next and not self.may_keep


def license_offer(*, organization: Organization, actor: Actor, now: datetime) -> LicenseOffer:
    """The purchase preview for one more licence, when none is free; commits nothing."""
    from abonnement.subscriptions.services import preview_license_change

    counter = license_counter(organization_id=organization.pk)
    preview = None
    refusal: DomainError | None = None
    if counter.free == 0:
        try:
            preview = preview_license_change(
                organization=organization, licenses=counter.licenses + 1, actor=actor, now=now
            )
        except (PermissionDenied, ManagedByMarketplace) as error:
            refusal = error
    return LicenseOffer(
        counter=counter,
        preview=preview,
        refusal=refusal,
        administrators=permission_holders(
            organization_id=organization.pk, permission=Permission.MANAGE_SUBSCRIPTION
        ),
        may_keep=permissions.holds(actor, organization, Permission.MANAGE_SUBSCRIPTION)
        and not organization.managed_by_marketplace,
    )


def organization_tokens(*, organization_id: UUID) -> list[ApiToken]:
    return list(
        ApiToken.objects.filter(organization_id=organization_id)
        .select_related("user")
        .order_by("revoked_at", "-created_at", "-pk")
    )


def users_of(*, organization_id: UUID, active: bool | None = None) -> QuerySet[User]:
    """The organisation's users, newest first; ``active`` filters by status."""
    users = User.objects.filter(organization_id=organization_id)
    if active is not None:
        users = users.filter(is_active=active)
    return users.order_by("-pk")


def users_by_id(user_ids: list[int]) -> dict[int, User]:
    return {user.pk: user for user in User.objects.filter(pk__in=user_ids)}
