"""What the vendor's product reports about an organisation's use (API-next.md, "Subscription").

The storage in use is a measurement made by the vendor's product, not a change to the
contract: it changes no period, no price and no order, so it writes no history entry (a
product that reports every hour would otherwise bury the customer's own changes) and leaves
``Subscription.updated_at`` (the state a confirmation is checked against) alone. The
figure and the instant it was reported are kept on the subscription; the portal's overview
and the API show both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from abonnement.accounts import permissions
from abonnement.core.actor import Actor
from abonnement.core.errors import NotFound, ValidationFailed
from abonnement.organizations.models import Organization
from abonnement.subscriptions.models import Subscription

# Storage is reported in GB with at most three decimals (1 MB), up to just below a
# billion GB: what the model's column holds.
USAGE_DECIMALS = 3
MAX_STORAGE_USED_GB = Decimal("999999999.999")


@dataclass(frozen=True)
class UsageReport:
    storage_used_gb: Decimal
    reported_at: datetime


def validate_storage_used_gb(value: object) -> Decimal:
    """The reported figure, or a field error on ``storage_used_gb``."""
    field = "storage_used_gb"
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValidationFailed.single(field, _("Enter the storage in use in GB, as a number."))
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValidationFailed.single(field, _("Enter the storage in use in GB, as a number."))
    if amount < 0:
        raise ValidationFailed.single(field, _("The storage in use cannot be negative."))
    if amount > MAX_STORAGE_USED_GB:
        raise ValidationFailed.single(
            field,
            _("The storage in use can be at most %(maximum)s GB.")
            % {"maximum": MAX_STORAGE_USED_GB},
        )
    step = Decimal(1).scaleb(-USAGE_DECIMALS)
    if amount != amount.quantize(step):
        raise ValidationFailed.single(
            field,
            _("Give the storage in use with at most %(decimals)s decimals.")
            % {"decimals": USAGE_DECIMALS},
        )
    return amount.quantize(step)


@transaction.atomic(durable=True)
def report_usage(
    *, organization: Organization, storage_used_gb: object, actor: Actor, now: datetime
) -> UsageReport:
    """Keep the storage in use that the vendor's product measured at ``now``."""
    permissions.require_vendor_or_staff(actor)
    amount = validate_storage_used_gb(storage_used_gb)
    updated = Subscription.objects.filter(organization_id=organization.pk).update(
        storage_used_gb=amount, storage_reported_at=now
    )
    if not updated:
        raise NotFound(_("Subscription not found."))
    return UsageReport(storage_used_gb=amount, reported_at=now)
