from __future__ import annotations

from django.db import models


class Feedback(models.Model):
    """An answer to a help panel's "Was this helpful?", kept for customer service."""

    created_at = models.DateTimeField()
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_name = models.CharField(max_length=200, blank=True, default="")
    page = models.CharField(max_length=100)
    language = models.CharField(max_length=5, blank=True, default="")
    helpful = models.BooleanField()
    text = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at"], name="feedback_created")]
        verbose_name_plural = "feedback"

    def __str__(self) -> str:
        return f"{self.page}: {'yes' if self.helpful else 'no'}"
