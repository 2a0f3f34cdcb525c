"""Django's admin is the back office's catalogue editor (PRODUCT.md "Back office").

``StaffRoleAdmin`` gives its models the staff roles of the back office: both roles read,
only the billing role adds, changes and deletes. Customer users never get in (the admin
site itself admits only ``is_staff`` users), nor staff without the second factor.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from abonnement.accounts.forms import SignInForm
from abonnement.backoffice.access import billing_allowed, is_verified, staff_of


class AdminSignInForm(SignInForm, AdminAuthenticationForm):
    """The admin's own sign-in page, with the failed-attempt limits of every other sign-in
    (per account and per address, counted together): otherwise /admin/login/ would be a
    way around the back office's limit to guess a staff password."""

    error_messages = {**AdminAuthenticationForm.error_messages, **SignInForm.error_messages}


class _AdminPasswordStep(LoginView):
    """The admin's sign-in page with ``STAFF_MFA``: a right password goes on to the back
    office's second-factor step, which then comes back to ``next``."""

    def form_valid(self, form: Any) -> HttpResponse:
        from abonnement.backoffice.views_sign_in import after_password

        return after_password(self.request, form.get_user(), next_url=self.get_success_url())


class BackOfficeAdminSite(admin.AdminSite):
    """Django's admin for verified staff only: with ``STAFF_MFA``, a session signed in with
    the password alone is not let in (django-otp's ``OTPAdminSite`` rule), and the admin's
    own sign-in hands over to the back office's second factor."""

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and is_verified(request.user)

    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if not settings.STAFF_MFA:
            return super().login(request, extra_context)
        # AdminSite.login, with the password step above in place of Django's LoginView.
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        return _AdminPasswordStep.as_view(
            extra_context=context,
            authentication_form=self.login_form,
            template_name=self.login_template or "admin/login.html",
        )(request)


# The default site becomes this one, the way django-otp's documentation installs its own
# OTPAdminSite: every ModelAdmin already registered on it stays.
admin.site.__class__ = BackOfficeAdminSite
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
