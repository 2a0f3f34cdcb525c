"""Permission checks, made in the services (views and endpoints only pre-filter)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from abonnement.accounts.models import Permission, StaffRole
from abonnement.core.actor import Actor
from abonnement.core.errors import NotFound, PermissionDenied
from abonnement.organizations.models import Organization
from abonnement.subscriptions.errors import ManagedByMarketplace

PERMISSION_LABELS: dict[Permission, Any] = {
    Permission.MANAGE_SUBSCRIPTION: gettext_lazy(
        "Edit settings and manage subscription & features"
    ),
    Permission.MANAGE_USERS: gettext_lazy("Manage users"),
}


def ensure_same_organization(actor: Actor, organization: Organization) -> None:
    """An actor acting for a user of another organisation sees nothing (404, not 403)."""
    if actor.is_staff:
        # Both staff roles read every organisation; anyone else posing as staff reads none.
        require_vendor_or_staff(actor)
        return
    if actor.is_trusted:
        return
    if actor.user is None or actor.user.organization_id != organization.pk:
        raise NotFound(_("Organisation not found."))


def holds(actor: Actor, organization: Organization, permission: str) -> bool:
    if actor.is_staff:
        # A customer's permissions are the billing role's: support staff only read.
        return staff_role(actor) == StaffRole.BILLING
    if actor.is_trusted:
        return True
    user = actor.user
    return (
        user is not None
        and user.is_active
        and user.organization_id == organization.pk
        and bool(getattr(user, permission))
    )


def require(actor: Actor, organization: Organization, permission: str) -> None:
    ensure_same_organization(actor, organization)
    if actor.is_staff:
        require_vendor_or_staff(actor, billing_role=True)
        return
    if not holds(actor, organization, permission):
        label = PERMISSION_LABELS.get(Permission(permission), permission)
        raise PermissionDenied(
            _("You need the permission “%(permission)s”.") % {"permission": label}
        )


def staff_role(actor: Actor) -> StaffRole | None:
    """The back-office role of a staff actor whose user really is active staff; else None."""
    user = actor.user
    if not actor.is_staff or user is None or not user.is_staff or not user.is_active:
        return None
    try:
        role = StaffRole(user.staff_role)
    except ValueError:
        return None
    return None if role == StaffRole.NONE else role


def require_vendor_or_staff(actor: Actor, *, billing_role: bool = False) -> None:
    """Vendor-only calls: vendor tokens, staff in the back office, the operator's CLI.

    The two staff roles (PRODUCT.md "Back office"): support reads every organisation, answers
    edition-change requests and reads feedback; billing does everything. Calls that need more
    than support pass ``billing_role=True``. A staff user without a role does nothing.
    """
    if actor.vendor or actor.type.value == "system":
        return
    role = staff_role(actor)
    if role is not None:
        if billing_role and role != StaffRole.BILLING:
            raise PermissionDenied(_("This needs the billing role."))
        return
    raise PermissionDenied(_("Only the vendor or its customer service can do this."))


def ensure_not_marketplace(actor: Actor, organization: Organization) -> None:
    """Rule 6: a marketplace-managed subscription changes only through vendor calls."""
    if organization.managed_by_marketplace and not actor.is_trusted:
        raise ManagedByMarketplace(organization.marketplace_name, organization.marketplace_url)
