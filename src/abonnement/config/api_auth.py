"""Who calls the API: bearer tokens, their scopes, the tenancy check, the rate limit.

- A vendor token acts on every organisation; an organisation token on its own only, for
  the user who created it. Anything else is 401.
- ``read`` suffices for GET and for the previews (POST …/preview commits nothing); every
  other call needs ``write``. A missing scope is 403.
- The business clock is read once per request (``request_now``).
- A vendor call on an organisation that bought through a marketplace is the marketplace's
  own call (PRODUCT.md rule 6): it acts, and history records it, under channel
  ``marketplace`` (``organization_for``).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from abonnement.accounts import permissions
from abonnement.accounts.models import ApiToken
from abonnement.accounts.services import authenticate_token
from abonnement.core import clock
from abonnement.core.actor import Actor, Channel
from abonnement.core.errors import PermissionDenied
from abonnement.organizations.models import Organization
from abonnement.organizations.selectors import get_organization

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class ApiCaller:
    token: ApiToken
    actor: Actor
    now: datetime

    def may(self, scope: str) -> bool:
        return scope in self.token.scopes


def request_now(request: HttpRequest) -> datetime:
    """The business clock, read once per request at the boundary."""
    now: datetime | None = getattr(request, "_abonnement_now", None)
    if now is None:
        now = clock.now()
        request._abonnement_now = now  # type: ignore[attr-defined]
    return now


def required_scope(request: HttpRequest) -> str:
    if request.method in READ_METHODS or request.path.endswith("/preview"):
        return "read"
    return "write"


def _actor_for(token: ApiToken) -> Actor:
    if token.vendor:
        return Actor.vendor_token(token.name, token.pk)
    assert token.user is not None
    return Actor.organization_token(token.name, token.user, token.pk)


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``; the result is kept on the request."""

    def identify(self, request: HttpRequest) -> ApiCaller | None:
        if not hasattr(request, "_abonnement_caller"):
            request._abonnement_caller = super().__call__(request)  # type: ignore[attr-defined]
        caller: ApiCaller | None = request._abonnement_caller  # type: ignore[attr-defined]
        return caller

    def __call__(self, request: HttpRequest) -> ApiCaller | None:
        caller = self.identify(request)
        if caller is not None and not caller.may(required_scope(request)):
            raise PermissionDenied(
                _("This token has the scopes %(scopes)s; this call needs “%(scope)s”.")
                % {"scopes": ", ".join(caller.token.scopes), "scope": required_scope(request)}
            )
        return caller

    def authenticate(self, request: HttpRequest, token: str) -> ApiCaller | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        now = request_now(request)
        api_token = authenticate_token(token, now=now)
        if api_token is None:
            return None
        return ApiCaller(token=api_token, actor=_actor_for(api_token), now=now)


class VendorToken(BearerToken):
    """The calls only the vendor makes (provisioning, the organisation list, webhook
    endpoints, the demo clock): any other token is refused here, before its request body
    is read, so a caller who may not make the call learns that first (403), not what would
    be wrong with the body (422). The services check the same again."""

    def __call__(self, request: HttpRequest) -> ApiCaller | None:
        caller = super().__call__(request)
        if caller is not None:
            permissions.require_vendor_or_staff(caller.actor)
        return caller


bearer_token = BearerToken()
vendor_token = VendorToken()


def caller_of(request: HttpRequest) -> ApiCaller:
    caller = getattr(request, "auth", None)
    assert isinstance(caller, ApiCaller), "operation without authentication"
    return caller


def organization_for(
    request: HttpRequest, organization_id: str, *, permission: str | None = None
) -> tuple[ApiCaller, Organization]:
    """The organisation in the path as this caller may see it (404 otherwise), and, when
    ``permission`` is given, with the acting user holding it (403 otherwise)."""
    caller = caller_of(request)
    organization = get_organization(organization_id=organization_id, actor=caller.actor)
    if permission is not None:
        permissions.require(caller.actor, organization, permission)
    return _acting_on(caller, organization), organization


def _acting_on(caller: ApiCaller, organization: Organization) -> ApiCaller:
    """The caller as it acts on ``organization``: a vendor token on a marketplace-managed
    organisation is the marketplace's own call (rule 6), so its actor carries channel
    ``marketplace``. The purchase channel is the one loaded as the call starts; a call that
    changes it is recorded under the channel in force before it."""
    if caller.actor.vendor and organization.managed_by_marketplace:
        return replace(caller, actor=replace(caller.actor, channel=Channel.MARKETPLACE))
    return caller


def require_any_permission(caller: ApiCaller, organization: Organization, *names: str) -> None:
    if not any(permissions.holds(caller.actor, organization, name) for name in names):
        permissions.require(caller.actor, organization, names[0])


# --------------------------------------------------------------------------- rate limit

_PERIODS = {"s": 1, "sec": 1, "min": 60, "m": 60, "hour": 3600, "h": 3600, "day": 86400, "d": 86400}


def parse_rate(text: str) -> tuple[int, int] | None:
    """``"1200/min"`` → (1200, 60); ``"off"`` → None."""
    value = text.strip().lower()
    if value in ("", "off", "none", "0"):
        return None
    count, _sep, period = value.partition("/")
    try:
        return int(count), _PERIODS[period.strip() or "s"]
    except (ValueError, KeyError):
        raise ValueError(f"ABONNEMENT_API_RATE_LIMIT: not a rate: {text!r}") from None


class TokenRateLimit(BaseThrottle):
    """A fixed window per token in Django's cache (shared across processes when the cache
    is). 429 with ``Retry-After`` once a token used up its window."""

    _local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        caller = getattr(request, "auth", None)
        rate = parse_rate(settings.API_RATE_LIMIT)
        if not isinstance(caller, ApiCaller) or rate is None:
            return True
        limit, window = rate
        now = clock.real_now().timestamp()
        window_start = math.floor(now / window) * window
        key = f"abonnement:api-rate:{caller.token.pk}:{window}:{window_start}"
        cache.add(key, 0, timeout=window + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window + 1)
            count = 1
        self._local.wait = window_start + window - now
        return count <= limit

    def wait(self) -> float | None:
        wait: Any = getattr(self._local, "wait", None)
        return None if wait is None else max(float(wait), 1.0)
