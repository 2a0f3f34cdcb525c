"""The NUL character (U+0000) is refused at the edge, once, for every request.

PostgreSQL cannot store NUL in a text column nor compare one in a query (psycopg raises), so
a NUL that reaches a lookup was a 500. No address, search, name or value of the product can
contain one, so it is refused before any view, form or API operation sees it:

- in the path: ``404``, as for any address that does not exist (the API answers its
  ``not_found`` problem);
- in the query string, a form field, a JSON string (value or key) or a cookie: the API
  answers ``422 validation_error`` naming the field, like its other validation errors; a
  portal or back-office page answers ``400`` with the product's problem page ("The request
  contained a character that is not allowed"). A page has no field to show the error
  beside: the request as a whole is wrong, and nothing was changed.

It is cheap: the query string and a form body are only parsed when their raw text holds
``%00`` or a NUL byte, and a JSON body only when it holds ``\\u0000`` or a NUL byte (so the
entitlements endpoint pays a byte search, never a parse). ``\\\\u0000`` in JSON is an
escaped backslash followed by the text ``u0000``, not a NUL: the parse tells them apart.
Uploaded files may hold NUL bytes; their form fields may not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from abonnement.core.errors import FieldError

NUL = "\x00"


class RefuseNulBytes:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = request.path.startswith("/api/")
        if NUL in request.path or NUL in request.path_info:
            if api:
                from abonnement.config.api_errors import problem

                return problem(404, "not_found", _("Not found."))
            raise Http404
        fields = _fields_with_nul(request)
        if fields:
            if api:
                from abonnement.config.api_errors import problem

                # The words the API's schemas already use for a NUL in a body string.
                message = "Value error, Text cannot contain the NUL character."
                return problem(
                    422,
                    "validation_error",
                    _("Some fields are not valid."),
                    errors=[FieldError(field, message) for field in fields],
                )
            template = (
                "backoffice/problem.html"
                if request.path.startswith("/backoffice/")
                else "portal/problem.html"
            )
            message = _("The request contained a character that is not allowed.")
            return render(request, template, {"message": message}, status=400)
        return self.get_response(request)


def _fields_with_nul(request: HttpRequest) -> list[str]:
    """The names of the fields (query, cookie, form or JSON) whose name or value holds a NUL,
    in the order they came; empty when none does."""
    fields: list[str] = []
    query = request.META.get("QUERY_STRING", "")
    if "%00" in query or NUL in query:
        fields += [
            key or value
            for key, value in parse_qsl(query, keep_blank_values=True)
            if NUL in key or NUL in value
        ]
    fields += [name for name, value in request.COOKIES.items() if NUL in name or NUL in value]
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return _named(fields)
    content_type = request.content_type or ""
    try:
        return _named(fields + _body_fields(request, content_type))
    except RequestDataTooBig:
        # A body over the limit: the view or the API refuses it as it always did.
        return _named(fields)


def _body_fields(request: HttpRequest, content_type: str) -> list[str]:
    fields: list[str] = []
    if content_type == "application/x-www-form-urlencoded":
        body = request.body
        if b"%00" in body or b"\x00" in body:
            fields += [
                key or value
                for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
                if NUL in key or NUL in value
            ]
    elif content_type == "multipart/form-data":
        fields += [
            key
            for key, values in request.POST.lists()
            if NUL in key or any(NUL in value for value in values)
        ]
    elif content_type == "application/json" or content_type.endswith("+json"):
        body = request.body
        if b"\\u0000" in body or b"\x00" in body:
            fields += _json_fields(body)
    return fields


def _named(fields: list[str]) -> list[str]:
    """Each field once, a NUL in its own name shown as the escape ``\\u0000``."""
    named = [field.replace(NUL, "\\u0000") for field in fields]
    return list(dict.fromkeys(named))


def _json_fields(body: bytes) -> list[str]:
    if b"\x00" in body:
        # Not JSON (a raw control character); the body as a whole is the field.
        return ["body"]
    try:
        document = json.loads(body)
    except ValueError:
        return []  # the API answers 400 malformed_request for a body that is not JSON
    return list(dict.fromkeys(_nul_paths(document, ())))


def _nul_paths(value: Any, at: tuple[str, ...]) -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield ".".join(at) or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                yield ".".join((*at, key))
            else:
                yield from _nul_paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, (*at, str(index)))
