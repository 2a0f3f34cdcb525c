"""What every back-office view shares: staff sign-in, the role pre-filter, and refusals.

The services decide who may do what (``accounts.permissions``); the checks here only spare
staff a form their role cannot use and turn a refusal into a page instead of a 500.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, cast

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from abonnement.accounts import permissions
from abonnement.accounts.models import StaffRole, User
from abonnement.core.actor import Actor
from abonnement.core.errors import DomainError, NotFound, PermissionDenied

P = ParamSpec("P")


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member, their role and the actor the services get."""

    user: User
    role: StaffRole
    actor: Actor

    @property
    def may_bill(self) -> bool:
        """Whether the billing-role services will accept this actor (asked, not re-derived)."""
        return billing_allowed(self.actor)


def billing_allowed(actor: Actor) -> bool:
    try:
        permissions.require_vendor_or_staff(actor, billing_role=True)
    except PermissionDenied:
        return False
    return True


def staff_of(user: object) -> Staff | None:
    """The staff member behind ``user``; None for anonymous, customers and role-less staff."""
    if not isinstance(user, User) or not user.is_authenticated:
        return None
    actor = Actor.staff(user)
    role = permissions.staff_role(actor)
    if role is None:
        return None
    return Staff(user=user, role=role, actor=actor)


def is_verified(user: object) -> bool:
    """Whether the session passed the second factor (django-otp's ``OTPMiddleware`` marks
    it); always true without ``STAFF_MFA``."""
    if not settings.STAFF_MFA:
        return True
    check = getattr(user, "is_verified", None)
    return bool(check is not None and check())


def signed_in_staff(request: HttpRequest) -> Staff | None:
    """The staff member signed in to the back office: staff, and past the second factor."""
    staff = staff_of(request.user)
    return staff if staff is not None and is_verified(request.user) else None


def refuse(request: HttpRequest, message: str, *, status: int = 403) -> HttpResponse:
    return render(request, "backoffice/refused.html", {"message": message}, status=status)


StaffView = Callable[Concatenate[HttpRequest, Staff, P], HttpResponse]


def staff_page(
    *, billing: bool = False
) -> Callable[[StaffView[P]], Callable[Concatenate[HttpRequest, P], HttpResponse]]:
    """Staff only. Anonymous, or staff without the second factor (``STAFF_MFA``) → the staff
    sign-in; a customer user → 403; ``billing`` pages → 403 for support. A service's
    ``NotFound`` → 404, its ``PermissionDenied`` → 403."""

    def decorate(view: StaffView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            if not request.user.is_authenticated or (
                # Staff signed in with the password alone (the portal's sign-in page) have
                # not passed the second factor: the back office's sign-in asks for it.
                staff_of(request.user) is not None and not is_verified(request.user)
            ):
                return cast(
                    HttpResponse,
                    redirect_to_login(request.get_full_path(), reverse("backoffice:sign_in")),
                )
            staff = staff_of(request.user)
            if staff is None:
                return refuse(
                    request,
                    _(
                        "The back office is for the vendor's customer service. Sign in with a "
                        "staff account."
                    ),
                )
            if billing and not staff.may_bill:
                return refuse(request, _("This needs the billing role."))
            request.staff = staff  # type: ignore[attr-defined]
            try:
                return view(request, staff, *args, **kwargs)
            except NotFound:
                raise Http404() from None
            except PermissionDenied as error:
                return refuse(request, error.message)

        return wrapper

    return decorate


def add_domain_error(
    form: forms.Form, error: DomainError, fields: Mapping[str, str] | None = None
) -> None:
    """Field errors beside their fields (the first for each field: several service fields
    may map onto one form field); anything else, and the message, as the banner."""
    mapping = dict(fields or {})
    for field_error in error.errors:
        name = mapping.get(field_error.field, field_error.field)
        if name not in form.fields:
            form.add_error(None, field_error.message)
        elif name not in form.errors:
            form.add_error(name, field_error.message)
    if not error.errors:
        form.add_error(None, error.message)
