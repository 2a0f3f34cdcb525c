from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from abonnement.feedback.models import Feedback


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Customer service reads feedback here; it is never edited."""

    list_display = ["created_at", "page", "helpful", "organization", "user_name", "text"]
    list_filter = ["helpful", "page", "language"]
    search_fields = ["text", "user_name", "page"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
