"""What every portal view shares: sign-in and organisation checks, the permission
pre-filter (services decide; this only spares people a form they cannot use), and turning
a ``DomainError`` into a banner and field errors.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, cast

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from abonnement.accounts import permissions
from abonnement.accounts.models import Permission, User
from abonnement.core.actor import Actor
from abonnement.core.errors import DomainError, NotFound
from abonnement.organizations.models import Organization

P = ParamSpec("P")


@dataclass(frozen=True)
class Portal:
    """The signed-in customer user, their organisation and the actor services get."""

    user: User
    organization: Organization
    actor: Actor

    def holds(self, permission: str) -> bool:
        return permissions.holds(self.actor, self.organization, permission)


def permission_label(permission: str) -> str:
    return str(permissions.PERMISSION_LABELS[Permission(permission)])


def no_permission(request: HttpRequest, portal: Portal, permission: str) -> HttpResponse:
    from abonnement.accounts.selectors import permission_holders

    return render(
        request,
        "accounts/no_permission.html",
        {
            "permission": permission_label(permission),
            "holders": permission_holders(
                organization_id=portal.organization.pk, permission=permission
            ),
        },
        status=403,
    )


PortalView = Callable[Concatenate[HttpRequest, Portal, P], HttpResponse]


def portal_page(
    permission: str | None = None,
) -> Callable[[PortalView[P]], Callable[Concatenate[HttpRequest, P], HttpResponse]]:
    """Sign-in required; customer users only; ``permission`` checked before the view runs.

    Anonymous → the sign-in page; no permission → the explanation page (403); a
    ``NotFound`` from a selector or service (missing, or another organisation's) → 404.
    """

    def decorate(view: PortalView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            user = cast(User, request.user)
            organization = user.organization
            if organization is None:
                return render(request, "accounts/no_organization.html", status=403)
            portal = Portal(user=user, organization=organization, actor=Actor.portal(user))
            if permission is not None and not portal.holds(permission):
                return no_permission(request, portal, permission)
            try:
                return view(request, portal, *args, **kwargs)
            except NotFound:
                raise Http404() from None

        return wrapper

    return decorate


def add_domain_error(
    form: forms.Form,
    error: DomainError,
    fields: Mapping[str, str] | None = None,
    *,
    field: str | None = None,
) -> None:
    """Field errors beside their fields; a refusal without field errors goes beside
    ``field`` when given, else into the form's banner.

    ``fields`` maps a service's (dotted) field names onto the form's field names; a field
    the form does not have lands in the banner. ``form.error_code`` keeps the refusal's code
    for templates that add a way out (a link to User management, …).
    """
    mapping = dict(fields or {})
    form.error_code = error.code  # type: ignore[attr-defined]
    for field_error in error.errors:
        name = mapping.get(field_error.field, field_error.field)
        form.add_error(name if name in form.fields else None, field_error.message)
    if not error.errors:
        form.add_error(field if field in form.fields else None, error.message)
