"""``Idempotency-Key`` on every POST, PUT, PATCH and DELETE (API.md "Conventions").

Wraps each operation around authentication, so keys belong to a token: the first request
with a key runs and its answer is stored; a retry with the same body gets that answer again
with ``Idempotent-Replayed: true``. Server errors and rate limiting store nothing (the
request did not happen), so a retry runs it.

The 24 hours are real hours (``clock.real_now``), like the rate limit's window: a client's
retry happens in real time, so moving the simulated business clock neither expires a key
nor keeps one alive.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from abonnement.config.api_auth import bearer_token, required_scope
from abonnement.config.api_common import read_json
from abonnement.config.api_errors import SECRET_FIELDS, problem, problem_for
from abonnement.core import clock
from abonnement.core.errors import DomainError, FieldError
from abonnement.idempotency.services import StoredResponse, claim_key, complete_key, release_key

HEADER = "Idempotency-Key"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STORED_HEADERS = ("Content-Type", "ETag", "Location", "Cache-Control")
MAX_KEY_LENGTH = 255


def fingerprint(request: HttpRequest) -> str:
    """Method, path and body; JSON bodies compare by content, not by spacing or key order.

    A body json cannot read (not JSON, too deeply nested, numbers too long) compares by
    its bytes; the operation then refuses it as it would without a key."""
    body = request.body
    try:
        canonical = json.dumps(read_json(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        canonical = body
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path()):
        digest.update(part.encode())
        digest.update(b"\n")
    digest.update(canonical)
    return digest.hexdigest()


def _key_is_valid(key: str) -> bool:
    return 1 <= len(key) <= MAX_KEY_LENGTH and all(" " <= c <= "~" for c in key)


def _without_secrets(response: HttpResponseBase) -> bytes:
    """The body to keep for a replay: as sent, except a secret shown once (``reveal_once``),
    which is kept as null: only its hash is stored anywhere."""
    body = bytes(getattr(response, "content", b""))
    secrets = getattr(response, SECRET_FIELDS, ())
    if not secrets:
        return body
    data = json.loads(body)
    for field in secrets:
        data[field] = None
    return json.dumps(data, separators=(",", ":")).encode()


def _replay(stored: StoredResponse) -> HttpResponse:
    response = HttpResponse(stored.body, status=stored.status)
    for name, value in stored.headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A ninja "view" decorator: it sees the request before validation and the response
    after the error handler."""

    @functools.wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        key = request.headers.get(HEADER)
        if request.method not in WRITE_METHODS or key is None:
            return run(request, *args, **kwargs)
        try:
            caller = bearer_token.identify(request)
        except DomainError:
            caller = None
        if caller is None or not caller.may(required_scope(request)):
            return run(request, *args, **kwargs)  # answers 401 / 403; nothing to keep
        if not _key_is_valid(key):
            return problem(
                422,
                "validation_error",
                _("Some fields are not valid."),
                errors=[FieldError(HEADER, _("Give 1–255 printable ASCII characters as the key."))],
            )
        try:
            outcome = claim_key(
                token_id=caller.token.pk,
                key=key,
                fingerprint=fingerprint(request),
                now=clock.real_now(),  # a transport window: the simulated clock has no say
            )
        except (DomainError, RequestDataTooBig) as error:
            return problem_for(request, error)
        if isinstance(outcome, StoredResponse):
            return _replay(outcome)
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            release_key(outcome)
            raise
        if response.status_code >= 500 or response.status_code == 429:
            release_key(outcome)
        else:
            complete_key(
                outcome,
                status=response.status_code,
                headers={h: response[h] for h in STORED_HEADERS if response.has_header(h)},
                body=_without_secrets(response),
            )
        return response

    return wrapper
