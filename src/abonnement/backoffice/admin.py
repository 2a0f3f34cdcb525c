"""Django's admin is the back office's catalogue editor (PRODUCT.md "Back office").

``StaffRoleAdmin`` gives its models the staff roles of the back office: both roles read,
only the billing role adds, changes and deletes. Customer users never get in (the admin
site itself admits only ``is_staff`` users).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest

from abonnement.accounts.forms import SignInForm
from abonnement.backoffice.access import billing_allowed, staff_of


class AdminSignInForm(SignInForm, AdminAuthenticationForm):
    """The admin's own sign-in page, with the failed-attempt limits of every other sign-in
    (per account and per address, counted together): otherwise /admin/login/ would be a
    way around the back office's limit to guess a staff password."""

    error_messages = {**AdminAuthenticationForm.error_messages, **SignInForm.error_messages}


admin.site.login_form = AdminSignInForm
admin.site.site_header = "Abonnement back office"
admin.site.site_title = "Abonnement back office"
admin.site.index_title = "Catalogue and tables"
admin.site.site_url = "/backoffice/"


def _may_read(request: HttpRequest) -> bool:
    return staff_of(request.user) is not None


def _may_write(request: HttpRequest) -> bool:
    staff = staff_of(request.user)
    return staff is not None and billing_allowed(staff.actor)


class StaffRolePermissions:
    """Read for both staff roles; write for the billing role."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_read(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_read(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return _may_write(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_write(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_write(request)


class StaffRoleAdmin(StaffRolePermissions, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


class StaffRoleTabularInline(StaffRolePermissions, admin.TabularInline):  # type: ignore[type-arg]
    pass
