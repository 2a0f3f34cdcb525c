"""The one error handler of the API: every failure is application/problem+json (RFC 9457)
with the ``code`` of API.md's table. No input makes it answer 500."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.responses import NinjaJSONEncoder, Status

from abonnement.core.errors import DomainError, FieldError
from abonnement.subscriptions.errors import BelowActiveUsers, ManagedByMarketplace

logger = logging.getLogger("abonnement.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"

TITLES = {
    "malformed_request": "Malformed request",
    "unauthenticated": "Authentication required",
    "permission_denied": "Permission denied",
    "not_found": "Not found",
    "below_active_users": "Fewer licences than active users",
    "no_free_license": "No free licence",
    "managed_by_marketplace": "Managed by a marketplace",
    "last_subscription_admin": "Last subscription administrator",
    "feature_not_available": "Feature not available",
    "feature_required": "Feature required",
    "idempotency_in_progress": "Request in progress",
    "validation_error": "Validation error",
    "idempotency_key_reused": "Idempotency key reused",
    "rate_limited": "Too many requests",
    "user_inactive": "User deactivated",
    "internal_error": "Internal error",
}
HTTP_ERROR_CODES = {
    400: "malformed_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    429: "rate_limited",
}


READ_ERRORS = (401, 403, 404, 422, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 422, 429)


def responses(success: dict[int, Any], *, write: bool = False) -> dict[int, Any]:
    """An operation's documented answers: its own, and the problems it can give."""
    from abonnement.core.schemas import ProblemOut

    return {**success, **dict.fromkeys(WRITE_ERRORS if write else READ_ERRORS, ProblemOut)}


def created(request: HttpRequest, response: HttpResponse, item_id: object, body: Any) -> Status:
    """A 201 whose ``Location`` is the new item's own address: the collection it was
    posted to, then its id (``POST …/users`` → ``…/users/{id}``). Set only here, once the
    operation succeeded: ninja builds its error answers on the same response object."""
    response["Location"] = f"{request.path.rstrip('/')}/{item_id}"
    return Status(201, body)


# The attribute naming the fields of an answer that reveal a secret (``reveal_once``).
SECRET_FIELDS = "abonnement_secret_fields"


def reveal_once(response: HttpResponse, field: str) -> None:
    """Marks an answer whose ``field`` shows a secret once (a token, a signing secret): no
    cache may keep it (``Cache-Control: no-store``), and an idempotent replay answers
    without it (``api_idempotency``), so the secret is never stored in clear. Ninja builds
    the answer on this response object, so the mark reaches the idempotency layer."""
    response["Cache-Control"] = "no-store"
    setattr(response, SECRET_FIELDS, (*getattr(response, SECRET_FIELDS, ()), field))


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"urn:abonnement:problem:{code}",
        "title": TITLES.get(code) or HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    body.update(extra or {})
    response = HttpResponse(
        json.dumps(body, cls=NinjaJSONEncoder),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="abonnement"'
    return response


def _domain_extra(error: DomainError) -> dict[str, Any]:
    if isinstance(error, BelowActiveUsers):
        return {"active_users": error.active_users}
    if isinstance(error, ManagedByMarketplace):
        return {"marketplace": {"name": error.marketplace, "url": error.url}}
    return {}


def _field_name(location: tuple[Any, ...]) -> str:
    source, *rest = location or ("body",)
    if source == "body" and rest:
        rest = rest[1:]  # the operation's parameter name, not a field of the request
    return ".".join(str(part) for part in rest) or str(source)


def _validation_problem(error: NinjaValidationError) -> HttpResponse:
    for item in error.errors:
        location = tuple(item.get("loc", ()))
        if location and location[0] == "body" and len(location) <= 2:
            # The body as a whole is missing or not an object.
            return problem(400, "malformed_request", _("The request body must be a JSON object."))
    errors = [FieldError(_field_name(tuple(e.get("loc", ()))), str(e["msg"])) for e in error.errors]
    return problem(422, "validation_error", _("Some fields are not valid."), errors=errors)


def problem_for(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
    """The handler for everything an operation raises."""
    if isinstance(exc, type):
        exc = exc()
    if isinstance(exc, DomainError):
        return problem(
            exc.status, exc.code, exc.message, errors=exc.errors, extra=_domain_extra(exc)
        )
    if isinstance(exc, NinjaValidationError):
        return _validation_problem(exc)
    if isinstance(exc, AuthenticationError):
        return problem(
            401, "unauthenticated", _("Send a valid API token: Authorization: Bearer <token>.")
        )
    if isinstance(exc, Throttled):
        return problem(429, "rate_limited", _("Too many requests for this token; slow down."))
    if isinstance(exc, HttpError):
        code = HTTP_ERROR_CODES.get(exc.status_code, "malformed_request")
        if code == "malformed_request":
            return problem(400, code, _("The request body is not JSON, or not a JSON object."))
        return problem(exc.status_code, code, str(exc))
    if isinstance(exc, Http404):
        return problem(404, "not_found", _("Not found."))
    if isinstance(exc, RequestDataTooBig):
        return problem(400, "malformed_request", _("The request body is too large."))
    if isinstance(exc, SuspiciousOperation):
        return problem(400, "malformed_request", _("The request could not be read."))
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return problem(500, "internal_error", _("Something went wrong on our side."))


def method_not_allowed(request: HttpRequest, allowed: list[str]) -> HttpResponse:
    """A path that exists, asked with a method it does not take: 405 with ``Allow``.

    API.md's table has no 405 code. ``malformed_request`` is the client's request being
    wrong in its form, to be fixed and not retried; ``not_found`` would tell a client that
    the organisation or resource is gone when a GET on the same path works."""
    response = problem(
        405,
        "malformed_request",
        _("This path does not take %(method)s; it takes %(allowed)s.")
        % {"method": request.method, "allowed": ", ".join(allowed)},
    )
    response["Allow"] = ", ".join(allowed)
    return response


def install(api: NinjaAPI) -> None:
    # Registered for each class ninja has a default handler for, so this one always wins.
    for exception_class in (Exception, HttpError, NinjaValidationError, Http404):
        api.add_exception_handler(exception_class, problem_for)
