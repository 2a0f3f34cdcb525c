from __future__ import annotations

from django.db import models


class Edition(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    included_storage_gb = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class FeatureKind(models.TextChoices):
    FEATURE = "feature", "Feature"
    INTEGRATION = "integration", "Integration"


class Feature(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=FeatureKind.choices)
    description = models.CharField(max_length=300, blank=True, default="")
    position = models.PositiveSmallIntegerField(default=0)
    requires = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="required_by"
    )

    class Meta:
        ordering = ["kind", "position", "code"]

    def __str__(self) -> str:
        return self.name


class Availability(models.TextChoices):
    INCLUDED = "included", "Included"
    ADD_ON = "add_on", "Paid add-on"
    UNAVAILABLE = "unavailable", "Not available"


class FeatureAvailability(models.Model):
    """How an edition offers a feature; a missing row means unavailable."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="availabilities")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="availabilities")
    availability = models.CharField(max_length=12, choices=Availability.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["edition", "feature"], name="one_availability")
        ]


class StoragePack(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    gb = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(gb__gt=0), name="pack_gb_positive")
        ]

    def __str__(self) -> str:
        return self.name


class PriceList(models.Model):
    """Monthly prices in force from ``effective_from`` until the next list (Rule 7)."""

    name = models.CharField(max_length=100)
    effective_from = models.DateField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.name} (from {self.effective_from})"


class Price(models.Model):
    """One monthly unit price. ``product`` is ``license:<edition>``, ``add_on:<feature>`` or
    ``storage:<pack>``."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="prices")
    product = models.CharField(max_length=90)
    currency = models.CharField(max_length=3)
    monthly_amount = models.DecimalField(max_digits=14, decimal_places=4)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "currency"], name="one_price_per_product"
            ),
            models.CheckConstraint(
                condition=models.Q(monthly_amount__gte=0), name="price_not_negative"
            ),
        ]


def license_product(edition_code: str) -> str:
    return f"license:{edition_code}"


def add_on_product(feature_code: str) -> str:
    return f"add_on:{feature_code}"


def storage_product(pack_code: str) -> str:
    return f"storage:{pack_code}"
