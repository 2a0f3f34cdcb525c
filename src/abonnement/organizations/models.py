from __future__ import annotations

from django.db import models

from abonnement.core.ids import uuid7


class PurchaseChannel(models.TextChoices):
    DIRECT = "direct", "Direct"
    MARKETPLACE = "marketplace", "Partner marketplace"


class Organization(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=200)
    vat_number = models.CharField(max_length=30)
    country = models.CharField(max_length=2)
    currency = models.CharField(max_length=3)
    language = models.CharField(max_length=5, default="en")
    purchase_channel = models.CharField(
        max_length=12, choices=PurchaseChannel.choices, default=PurchaseChannel.DIRECT
    )
    marketplace_name = models.CharField(max_length=100, blank=True, default="")
    marketplace_url = models.URLField(blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(purchase_channel="direct")
                | (~models.Q(marketplace_name="") & ~models.Q(marketplace_url="")),
                name="marketplace_named",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def managed_by_marketplace(self) -> bool:
        return self.purchase_channel == PurchaseChannel.MARKETPLACE


class VatNumberChange(models.Model):
    """A VAT-number transfer recorded by customer service, with its contract document."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="vat_number_changes"
    )
    old_vat_number = models.CharField(max_length=30)
    new_vat_number = models.CharField(max_length=30)
    effective_date = models.DateField()
    document_name = models.CharField(max_length=200)
    document = models.BinaryField()
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=200)
