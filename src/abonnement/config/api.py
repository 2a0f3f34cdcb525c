"""The REST API v1 (API.md): the ninja API object, its authentication, rate limit,
idempotency, the one problem+json error handler, and the routers of the apps.

Endpoints live in each app's ``api.py`` and are thin: parse and authorise, call one service
or selector, present with the app's ``schemas.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI, Router
from ninja.openapi.docs import Swagger
from ninja.parser import Parser
from ninja.types import DictStrAny

from abonnement.config import api_errors
from abonnement.config.api_auth import TokenRateLimit, bearer_token
from abonnement.config.api_common import read_json
from abonnement.config.api_idempotency import HEADER, WRITE_METHODS, idempotent
from abonnement.core.errors import NotFound

DESCRIPTION = """\
Subscriptions, licences, features, billing details, orders, invoices and history of a vendor's
customer organisations, and webhooks for what changes. The contract is API.md; this
document is its full reference.

* **Auth**: `Authorization: Bearer <token>`. Vendor tokens act on every organisation;
  organisation tokens on their own, for the user who created them, with the scopes `read`
  (GET and the previews) and `write` (everything else).
* **Errors**: `application/problem+json` with a machine-readable `code`.
* **Idempotency**: send `Idempotency-Key` (1–255 characters) with any POST, PUT, PATCH or
  DELETE; a retry within 24 hours returns the first answer with `Idempotent-Replayed: true`.
* **Lists**: `{"data": [...], "next_cursor": ...}`, newest first; `?limit=` 1–200, `?cursor=`.
"""


class JsonObjectParser(Parser):
    """A body must be a JSON object; anything else is 400 ``malformed_request``."""

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        data = read_json(request.body)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return data


class AbonnementAPI(NinjaAPI):
    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = _problem_when_not_allowed(pattern.callback)
        return urls

    def get_openapi_operation_id(self, operation: Any) -> str:
        return str(operation.view_func.__name__)

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        for methods in schema.get("paths", {}).values():
            for method, operation in methods.items():
                _describe_operation(method.upper(), operation)
        return schema


def _problem_when_not_allowed(view: Callable[..., HttpResponseBase]) -> Callable[..., Any]:
    """ninja answers a method a path does not take with a plain-text 405 of its own, before
    any handler; this makes it the API's problem+json, keeping its ``Allow`` header."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = sorted(m.strip() for m in response["Allow"].split(",") if m.strip())
            return api_errors.method_not_allowed(request, allowed)
        return response

    return wrapper


def _describe_operation(method: str, operation: dict[str, Any]) -> None:
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {})
        if int(status) >= 400 and "application/json" in content:
            response["content"] = {api_errors.PROBLEM_CONTENT_TYPE: content["application/json"]}
    if method in WRITE_METHODS:
        operation.setdefault("parameters", []).append(
            {
                "name": HEADER,
                "in": "header",
                "required": False,
                "description": "Makes a retry safe: the same key and body within 24 hours "
                "returns the first answer again, with the header Idempotent-Replayed: true.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            }
        )


api = AbonnementAPI(
    title="Abonnement API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=[bearer_token],
    throttle=[TokenRateLimit()],
    parser=JsonObjectParser(),
    docs=Swagger(settings={"persistAuthorization": True}),
)
api_errors.install(api)
api.add_decorator(idempotent, mode="view")


def _add_routers() -> None:
    from abonnement.accounts.api import router as accounts
    from abonnement.billing.api import router as billing
    from abonnement.catalog.api import router as catalog
    from abonnement.features.api import router as features
    from abonnement.history.api import router as history
    from abonnement.invoicing.api import router as invoicing
    from abonnement.notifications.api import router as notifications
    from abonnement.orders.api import router as orders
    from abonnement.organizations.api import router as organizations
    from abonnement.subscriptions.api import clock_router
    from abonnement.subscriptions.api import router as subscriptions

    for router in (
        catalog,
        organizations,
        accounts,
        subscriptions,
        features,
        billing,
        orders,
        invoicing,
        history,
        clock_router,
        notifications,
    ):
        api.add_router("/", router)
    api.add_router("/", fallback)


fallback = Router()


ANY_METHOD = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]


@fallback.api_operation(ANY_METHOD, "/{path:rest}", include_in_schema=False, auth=None)
def unknown_path(request: HttpRequest, rest: str) -> None:
    """Everything under /api/v1/ that is not an operation, with any method: a problem, not
    an HTML page (a 405 would claim the path exists)."""
    raise NotFound("There is no such API path.")


@fallback.api_operation(ANY_METHOD, "/", include_in_schema=False, auth=None)
def api_root(request: HttpRequest) -> None:
    """/api/v1/ itself, which ``{path:rest}`` does not match: the same problem, rather than
    the portal's HTML 404, or Django's HTML CSRF refusal for a write."""
    raise NotFound("There is no such API path.")


_add_routers()
