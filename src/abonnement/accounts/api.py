"""Users and API tokens of an organisation (API.md "Users", "Organisations")."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from abonnement.accounts import passwords, permissions, portal_sessions, services
from abonnement.accounts.models import Permission
from abonnement.accounts.schemas import (
    DeactivateIn,
    PortalSessionIn,
    PortalSessionOut,
    ReactivateIn,
    TokenCreatedOut,
    TokenCreateIn,
    TokenList,
    TokenOut,
    UserChangeOut,
    UserCreateIn,
    UserList,
    UserOut,
    UserPatchIn,
    token_out,
    user_out,
)
from abonnement.accounts.selectors import get_user, organization_tokens, users_of
from abonnement.config.api_auth import (
    ApiCaller,
    BearerToken,
    organization_for,
    require_any_permission,
)
from abonnement.config.api_common import PageQuery, paginate, patched_fields, whole_list
from abonnement.config.api_errors import created, responses, reveal_once
from abonnement.core.errors import NotFound
from abonnement.orders.schemas import order_or_none
from abonnement.organizations.selectors import get_organization

router = Router(tags=["Users"])
tokens = Router(tags=["API tokens"])
router.add_router("", tokens)
portal = Router(tags=["Portal sessions"])
router.add_router("", portal)

USER_READERS = (Permission.MANAGE_USERS, Permission.MANAGE_SUBSCRIPTION)


@router.get("/organizations/{org}/users", response=responses({200: UserList}), summary="List users")
def list_users(
    request: HttpRequest, org: str, page: Query[PageQuery], active: bool | None = None
) -> Any:
    """Newest first; ``?active=true|false`` filters by status."""
    caller, organization = organization_for(request, org)
    require_any_permission(caller, organization, *USER_READERS)
    return paginate(
        users_of(organization_id=organization.pk, active=active),
        fields=("pk",),
        limit=page.limit,
        cursor=page.cursor,
        present=user_out,
    )


@router.post(
    "/organizations/{org}/users",
    response=responses({201: UserChangeOut}, write=True),
    summary="Create a user",
)
def create_user(
    request: HttpRequest, response: HttpResponse, org: str, payload: UserCreateIn
) -> Any:
    """Needs a free licence, or ``buy_license`` (and the subscription permission). Unless
    ``invite`` is false, the user is e-mailed an invitation to choose a password."""
    caller, organization = organization_for(request, org)
    change = services.create_user(
        organization=organization,
        email=payload.email,
        name=payload.name,
        permissions_granted=list(payload.permissions),
        buy_license=payload.buy_license,
        invite=payload.invite,
        actor=caller.actor,
        now=caller.now,
    )
    body = {"user": user_out(change.user), "order": order_or_none(change.order)}
    return created(request, response, change.user.pk, body)


@router.get(
    "/organizations/{org}/users/{user}",
    response=responses({200: UserOut}),
    summary="Read a user",
)
def get_organization_user(request: HttpRequest, org: str, user: str) -> Any:
    caller, organization = organization_for(request, org)
    require_any_permission(caller, organization, *USER_READERS)
    return user_out(get_user(organization_id=organization.pk, user_id=user))


@router.patch(
    "/organizations/{org}/users/{user}",
    response=responses({200: UserOut}, write=True),
    summary="Change a user's name or permissions",
)
def update_user(request: HttpRequest, org: str, user: str, payload: UserPatchIn) -> Any:
    caller, organization = organization_for(request, org)
    fields = patched_fields(payload)
    changes: dict[str, Any] = {}
    if "name" in fields:
        changes["name"] = fields["name"]
    if "permissions" in fields:
        changes["permissions_granted"] = fields["permissions"]
    updated = services.update_user(
        organization=organization, user_id=user, actor=caller.actor, now=caller.now, **changes
    )
    return user_out(updated)


@router.post(
    "/organizations/{org}/users/{user}/deactivate",
    response=responses({200: UserOut}, write=True),
    summary="Deactivate a user",
)
def deactivate_user(request: HttpRequest, org: str, user: str, payload: DeactivateIn) -> Any:
    """``license``: ``keep`` (it becomes free) or ``remove`` (one less next period)."""
    caller, organization = organization_for(request, org)
    deactivated = services.deactivate_user(
        organization=organization,
        user_id=user,
        license=payload.license,
        actor=caller.actor,
        now=caller.now,
    )
    return user_out(deactivated)


@router.post(
    "/organizations/{org}/users/{user}/reactivate",
    response=responses({200: UserChangeOut}, write=True),
    summary="Reactivate a user",
)
def reactivate_user(request: HttpRequest, org: str, user: str, payload: ReactivateIn) -> Any:
    caller, organization = organization_for(request, org)
    change = services.reactivate_user(
        organization=organization,
        user_id=user,
        buy_license=payload.buy_license,
        actor=caller.actor,
        now=caller.now,
    )
    return {"user": user_out(change.user), "order": order_or_none(change.order)}


@router.post(
    "/organizations/{org}/users/{user}/invite",
    response=responses({200: UserOut}, write=True),
    summary="Send a user an invitation again",
)
def invite_user(request: HttpRequest, org: str, user: str) -> Any:
    """E-mails a new link to choose a password (valid 7 days); any earlier invitation link
    stops working. ``409 user_inactive`` for a deactivated user."""
    caller, organization = organization_for(request, org)
    invitation = passwords.send_invitation(
        organization=organization, user_id=user, actor=caller.actor, now=caller.now
    )
    return user_out(invitation.user)


@tokens.post(
    "/organizations/{org}/tokens",
    response=responses({201: TokenCreatedOut}, write=True),
    summary="Create an organisation token",
)
def create_token(
    request: HttpRequest, response: HttpResponse, org: str, payload: TokenCreateIn
) -> Any:
    """Acts on this organisation for the user who creates it; the token is shown once."""
    caller, organization = organization_for(request, org)
    issued = services.create_organization_token(
        organization=organization,
        name=payload.name,
        scopes=list(payload.scopes),
        actor=caller.actor,
        now=caller.now,
    )
    reveal_once(response, "token")
    return Status(201, {**token_out(issued.token), "token": issued.secret})


@tokens.get(
    "/organizations/{org}/tokens",
    response=responses({200: TokenList}),
    summary="List organisation tokens",
)
def list_tokens(request: HttpRequest, org: str) -> Any:
    """Active tokens first, then revoked ones; never the tokens themselves."""
    _caller, organization = organization_for(request, org, permission="manage_subscription")
    return whole_list(organization_tokens(organization_id=organization.pk), token_out)


@tokens.delete(
    "/organizations/{org}/tokens/{id}",
    response=responses({200: TokenOut}, write=True),
    summary="Revoke an organisation token",
)
def revoke_token(request: HttpRequest, org: str, id: str) -> Any:
    caller, organization = organization_for(request, org)
    if not id.isascii() or not id.isdigit() or len(id) > 18:
        raise NotFound(_("Token not found."))
    token = services.revoke_token(
        token_id=int(id), organization=organization, actor=caller.actor, now=caller.now
    )
    return token_out(token)


# --------------------------------------------------------------------------- portal sessions


class VendorTokenInOrganization(BearerToken):
    """A vendor-only call under an organisation's path: another organisation's token gets
    404 (tenancy first, as on every such path), this organisation's own tokens 403; both
    before the body is read, as ``VendorToken`` does."""

    def __call__(self, request: HttpRequest) -> ApiCaller | None:
        caller = super().__call__(request)
        if caller is not None:
            match = request.resolver_match
            get_organization(
                organization_id=match.kwargs.get("org", "") if match else "", actor=caller.actor
            )
            permissions.require_vendor_or_staff(caller.actor)
        return caller


@portal.post(
    "/organizations/{org}/portal-sessions",
    auth=[VendorTokenInOrganization()],
    response=responses({201: PortalSessionOut}, write=True),
    summary="Make a portal sign-in link (vendor)",
)
def create_portal_session(
    request: HttpRequest, response: HttpResponse, org: str, payload: PortalSessionIn
) -> Any:
    """A link that signs the user in to the portal once, within
    ABONNEMENT_PORTAL_SESSION_SECONDS (default 300), on the section asked for: redirect the
    user's browser to ``url``. Name the user by ``user`` or ``email``; another
    organisation's user is 404, a deactivated one ``409 user_inactive``."""
    caller, organization = organization_for(request, org)
    issued = portal_sessions.create_portal_session(
        organization=organization,
        user_id=payload.user,
        email=payload.email,
        return_url=payload.return_url,
        section=payload.section,
        language=payload.language,
        actor=caller.actor,
        now=caller.now,
    )
    reveal_once(response, "url")
    return Status(201, {"url": issued.url, "expires_at": issued.session.expires_at})
