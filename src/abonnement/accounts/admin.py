from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from abonnement.accounts.models import StaffChange
from abonnement.backoffice.admin import StaffRolePermissions


@admin.register(StaffChange)
class StaffChangeAdmin(StaffRolePermissions, admin.ModelAdmin):  # type: ignore[type-arg]
    """The history of the staff accounts: read by both staff roles, never edited (it is
    written only by ``abonnement staff``)."""

    list_display = ["at", "action", "account_email", "actor_name", "channel"]
    list_select_related = ["account"]
    list_filter = ["action"]
    search_fields = ["account__email", "actor_name"]
    date_hierarchy = "at"

    @admin.display(description="Account", ordering="account__email")
    def account_email(self, change: StaffChange) -> str:
        return change.account.email

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
