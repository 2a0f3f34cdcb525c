"""Permission checks, made in the services (views and endpoints only pre-filter)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from abonnement.accounts.models import Permission, StaffRole
from abonnement.core.actor import Actor
from abonnement.core.errors import NotFound, PermissionDenied
from abonnement.organizations.models import Organization
from abonnement.subscriptions.errors import ManagedByMarketplace

PERMISSION_LABELS = {
    Permission.MANAGE_SUBSCRIPTION: _("Edit settings and manage subscription & features"),
    Permission.MANAGE_USERS: _("Manage users"),
}


def ensure_same_organization(actor: Actor, organization: Organization) -> None:
    """An actor acting for a user of another organisation sees nothing (404, not 403)."""
    if actor.is_trusted:
        return
    if actor.user is None or actor.user.organization_id != organization.pk:
        raise NotFound(_("Organisation not found."))


def holds(actor: Actor, organization: Organization, permission: str) -> bool:
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
    if not holds(actor, organization, permission):
        label = PERMISSION_LABELS.get(Permission(permission), permission)
        raise PermissionDenied(
            _("You need the permission “%(permission)s”.") % {"permission": label}
        )


def require_vendor_or_staff(actor: Actor, *, billing_role: bool = False) -> None:
    """Vendor-only calls: vendor tokens, staff in the back office, the operator's CLI."""
    if actor.vendor or actor.type.value == "system":
        return
    if actor.is_staff and actor.user is not None and actor.user.is_staff:
        if billing_role and actor.user.staff_role != StaffRole.BILLING:
            raise PermissionDenied(_("This needs the billing role."))
        return
    raise PermissionDenied(_("Only the vendor or its customer service can do this."))


def ensure_not_marketplace(actor: Actor, organization: Organization) -> None:
    """Rule 6: a marketplace-managed subscription changes only through vendor calls."""
    if organization.managed_by_marketplace and not actor.is_trusted:
        raise ManagedByMarketplace(organization.marketplace_name, organization.marketplace_url)
