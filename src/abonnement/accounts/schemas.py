"""Users and API tokens as the API shows them and accepts them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field, StrictBool

from abonnement.accounts.models import ApiToken, User
from abonnement.core.schemas import ApiInput, Omitted
from abonnement.orders.schemas import OrderOut

PermissionName = Literal["manage_subscription", "manage_users"]
Scope = Literal["read", "write"]


class UserOut(Schema):
    id: str
    email: str
    name: str
    active: bool
    permissions: list[PermissionName]
    invited_at: datetime | None = Field(
        description="When the latest invitation (a link to choose a password) was sent."
    )
    last_sign_in_at: datetime | None = Field(description="The user's latest sign-in.")


class UserList(Schema):
    data: list[UserOut]
    next_cursor: str | None


def user_out(user: User) -> dict[str, Any]:
    return {
        "id": str(user.pk),
        "email": user.email,
        "name": user.name,
        "active": user.is_active,
        "permissions": user.permissions,
        "invited_at": user.invited_at,
        "last_sign_in_at": user.last_login,
    }


class UserCreateIn(ApiInput):
    email: str
    name: str
    permissions: list[PermissionName] = Field(default_factory=list)
    buy_license: StrictBool = Field(
        default=False,
        description="Buy a licence when none is free (needs manage_subscription).",
    )
    invite: StrictBool = Field(
        default=True,
        description="E-mail the user an invitation (a link to choose a password, valid 7 days).",
    )


class UserPatchIn(ApiInput):
    name: str | Omitted = None
    permissions: list[PermissionName] | Omitted = None


class DeactivateIn(ApiInput):
    license: Literal["keep", "remove"] = Field(
        description="keep: the licence becomes free; remove: one licence less next period."
    )


class ReactivateIn(ApiInput):
    buy_license: StrictBool = False


class UserChangeOut(Schema):
    user: UserOut
    order: OrderOut | None


class TokenCreateIn(ApiInput):
    name: str
    scopes: list[Scope]


class TokenOut(Schema):
    id: str
    name: str
    prefix: str = Field(description="The first characters of the token, to recognise it.")
    scopes: list[Scope]
    user_id: str | None = Field(description="The user the token acts for.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str | None = Field(
        description="The bearer token. Shown only now; store it safely. An idempotent replay "
        "of this answer has null here: only the token's hash is kept (revoke the token and "
        "create another if it was lost)."
    )


class TokenList(Schema):
    data: list[TokenOut]
    next_cursor: str | None


def token_out(token: ApiToken) -> dict[str, Any]:
    return {
        "id": str(token.pk),
        "name": token.name,
        "prefix": token.prefix,
        "scopes": list(token.scopes),
        "user_id": None if token.user_id is None else str(token.user_id),
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


# --------------------------------------------------------------------------- portal sessions

PortalSection = Literal["overview", "licenses", "features", "billing", "history", "users"]
PortalLanguage = Literal["en", "nl", "fi"]


class PortalSessionIn(ApiInput):
    """Name the user by ``user`` (their id) or by ``email``: exactly one of the two. A
    field that is null or left out is not given."""

    user: str | None = Field(default=None, description="The user's id.", examples=["42"])
    email: str | None = Field(
        default=None, description="The user's e-mail address.", examples=["anna@testi.example"]
    )
    return_url: str | None = Field(
        default=None,
        description="Where the portal's “Back to <product>” link leads: http(s) on a host "
        "listed in ABONNEMENT_RETURN_URL_HOSTS.",
        examples=["https://app.vendor.example/settings"],
    )
    section: PortalSection = Field(default="overview", description="The page to land on.")
    language: PortalLanguage | None = Field(
        default=None,
        description="The portal's language for this session (the user's own otherwise); "
        "the user's saved language is not changed.",
    )


class PortalSessionOut(Schema):
    url: str | None = Field(
        description="Send the user's browser here (a redirect). It signs them in once, until "
        "expires_at. An idempotent replay of this answer has null here: only the link's hash "
        "is kept (make another one).",
        examples=["https://billing.vendor.example/portal-session/4mV…/"],
    )
    expires_at: datetime
