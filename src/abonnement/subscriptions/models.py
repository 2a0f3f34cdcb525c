from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from abonnement.core.periods import Period


class Subscription(models.Model):
    """The organisation's contract: the current period as billed, and the next as scheduled.

    The current period's unit prices are a snapshot taken at its start, so a later price-list
    change never alters a started period (Rule 7). ``*_next`` fields say what the next period
    will hold if nothing else changes.
    """

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.PROTECT, related_name="subscription"
    )
    period_months = models.PositiveSmallIntegerField()
    anchor_day = models.PositiveSmallIntegerField()
    current_period_start = models.DateField()
    current_period_end = models.DateField()
    # The catalogue references carry no index of their own: a handful of values each, so no
    # query is helped by one, and every period rollover would have to write into all four
    # (a renewal moves the period end, which is indexed, so the update is never HOT).
    edition = models.ForeignKey(
        "catalog.Edition", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    next_edition = models.ForeignKey(
        "catalog.Edition",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    licenses = models.PositiveIntegerField()
    licenses_next = models.PositiveIntegerField()
    storage_pack = models.ForeignKey(
        "catalog.StoragePack", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    storage_packs = models.PositiveIntegerField(default=0)
    storage_packs_next = models.PositiveIntegerField(default=0)
    license_unit_price = models.DecimalField(max_digits=14, decimal_places=4)
    storage_unit_price = models.DecimalField(max_digits=14, decimal_places=4)
    price_list = models.ForeignKey(
        "catalog.PriceList", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # The monthly prices of the edition's paid add-ons at the period start, by feature code
    # (strings with four decimals): an add-on bought mid-period costs what it cost when the
    # period started, whatever a later price-list edit says (Rule 7).
    add_on_prices = models.JSONField(default=dict, blank=True)
    # The storage in use as the vendor's product last reported it (PUT …/usage), and when;
    # ``storage_reported_at`` is null until the first report.
    storage_used_gb = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    storage_reported_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["current_period_end", "id"], name="subscription_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_months__in=[1, 3, 6, 12]), name="period_months_allowed"
            ),
            models.CheckConstraint(
                condition=Q(anchor_day__gte=1, anchor_day__lte=31), name="anchor_day_range"
            ),
            models.CheckConstraint(
                condition=Q(current_period_end__gte=F("current_period_start")),
                name="period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(licenses__lte=100_000, licenses_next__lte=100_000),
                name="licenses_bounded",
            ),
        ]

    @property
    def current_period(self) -> Period:
        return Period(self.current_period_start, self.current_period_end)


class SubscriptionAddOn(models.Model):
    """A paid add-on billed in the current period and/or scheduled for the next one."""

    # Indexed by "one_add_on_row" (subscription first); no separate FK index.
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="add_ons", db_index=False
    )
    feature = models.ForeignKey("catalog.Feature", on_delete=models.PROTECT, related_name="+")
    in_current = models.BooleanField(default=False)
    in_next = models.BooleanField(default=False)
    unit_price = models.DecimalField(max_digits=14, decimal_places=4, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "feature"], name="one_add_on_row")
        ]


class EditionRequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    SCHEDULED = "scheduled", "Scheduled"
    DECLINED = "declined", "Declined"


class EditionChangeRequest(models.Model):
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="edition_requests"
    )
    edition = models.ForeignKey("catalog.Edition", on_delete=models.PROTECT, related_name="+")
    message = models.TextField(blank=True, default="")
    requested_by = models.CharField(max_length=200)
    requested_by_user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=EditionRequestStatus.choices, default=EditionRequestStatus.OPEN
    )
    response = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
