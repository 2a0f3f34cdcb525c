from __future__ import annotations

from django.db import models


class FeatureSwitch(models.Model):
    """Whether a feature or integration is on for the whole organisation."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="feature_switches"
    )
    feature = models.ForeignKey("catalog.Feature", on_delete=models.PROTECT, related_name="+")
    enabled = models.BooleanField(default=False)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "feature"], name="one_switch")
        ]
