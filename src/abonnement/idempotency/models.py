from __future__ import annotations

from django.db import models


class IdempotencyRecord(models.Model):
    """The first response to an ``Idempotency-Key`` of one token, kept for 24 hours of real
    time (``created_at`` and ``expires_at`` are wall-clock instants, not business time).

    The unique constraint is the lock: of two concurrent requests with one key exactly one
    inserts the row and runs; the other finds it (API.md "Conventions").
    """

    token = models.ForeignKey("accounts.ApiToken", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    completed = models.BooleanField(default=False)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.BinaryField(default=b"", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="one_response_per_key")
        ]
        indexes = [models.Index(fields=["token", "expires_at"], name="idempotency_expiry")]
