from __future__ import annotations

from typing import Any

from django.db import models


class HistoryKind(models.TextChoices):
    FEATURES = "features", "Features and integrations"
    LICENSES = "licenses", "Licences and storage"
    BILLING = "billing", "Billing details"
    EDITION = "edition", "Edition"
    USERS = "users", "Users"
    ORGANIZATION = "organization", "Organisation"
    ORDERS = "orders", "Orders"
    PERIOD = "period", "Billing period"


class HistoryEntry(models.Model):
    """Append-only record of every change (Rule 13).

    No update or delete path exists in the code; on PostgreSQL a trigger refuses them too.
    """

    # Indexed by "history_org_at" (organization first); no separate FK index.
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="history",
        db_index=False,
    )
    at = models.DateTimeField()
    actor_type = models.CharField(max_length=10)
    actor_name = models.CharField(max_length=200)
    actor_user = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    channel = models.CharField(max_length=20)
    kind = models.CharField(max_length=20, choices=HistoryKind.choices)
    action = models.CharField(max_length=60)
    subject = models.CharField(max_length=200, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-at", "-id"], name="history_org_at"),
            models.Index(fields=["organization", "kind", "-at", "-id"], name="history_org_kind_at"),
        ]
        verbose_name_plural = "history entries"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("history entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("history entries are append-only")
