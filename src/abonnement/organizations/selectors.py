"""Reads of organisations. "Missing" and "not yours" are the same 404."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from abonnement.accounts import permissions
from abonnement.core.actor import Actor
from abonnement.core.errors import NotFound
from abonnement.organizations.models import Organization


def get_organization(*, organization_id: object, actor: Actor) -> Organization:
    """The organisation if ``actor`` may see it; vendor and staff see every one."""
    try:
        organization = Organization.objects.get(pk=str(organization_id))
    except (Organization.DoesNotExist, ValueError, ValidationError):
        raise NotFound(_("Organisation not found.")) from None
    permissions.ensure_same_organization(actor, organization)
    return organization


def all_organizations(*, actor: Actor) -> QuerySet[Organization]:
    """Every customer, newest first (vendor and customer service only)."""
    permissions.require_vendor_or_staff(actor)
    return Organization.objects.order_by("-created_at", "-id")
