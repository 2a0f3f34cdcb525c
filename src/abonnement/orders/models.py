from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class OrderKind(models.TextChoices):
    LICENSES = "licenses", "Licences"
    STORAGE = "storage", "Storage"
    ADD_ON = "add_on", "Add-on"
    RENEWAL = "renewal", "Renewal"


class Order(models.Model):
    """An issued order; never changes after it is created."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.BigIntegerField(unique=True)
    # Indexed by "order_org_created" (organization first); no separate FK index.
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    # Renewals are found by "one_renewal_per_period" (subscription first); nothing looks up
    # the other orders of a subscription, so no separate FK index to write on every order.
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    kind = models.CharField(max_length=10, choices=OrderKind.choices)
    created_at = models.DateTimeField()
    period_start = models.DateField()
    period_end = models.DateField()
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    actor_name = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-number"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="order_org_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start"],
                condition=Q(kind="renewal"),
                name="one_renewal_per_period",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]


class OrderLine(models.Model):
    # Indexed by "one_line_position" (order first); no separate FK index.
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines", db_index=False)
    position = models.PositiveSmallIntegerField()
    product = models.CharField(max_length=90)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=14, decimal_places=4)
    unit_price = models.DecimalField(max_digits=14, decimal_places=4)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    period_start = models.DateField()
    period_end = models.DateField()
    days = models.PositiveIntegerField(null=True, blank=True)
    period_days = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="one_line_position"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
        ]
