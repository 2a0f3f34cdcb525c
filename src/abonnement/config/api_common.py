"""Shared pieces of the endpoints: cursor pagination and PATCH bodies.

Lists (API.md "Conventions"): newest first, ``?limit=`` 1–200 (default 50), ``?cursor=``
from the previous page's ``next_cursor``.

The cursor is the last row's ordering values: a page is one indexed range query however
deep it is, and rows added meanwhile never shift a page.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Field as DjangoField
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field

from abonnement.core.errors import ValidationFailed

M = TypeVar("M", bound=Model)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def read_json(body: bytes | str) -> Any:
    """A request body as JSON. An integer too long for Python to read (over 4300 digits)
    is still JSON: it reads as an infinity, which every field refuses with a field error,
    as it does 1e400."""
    return json.loads(body, parse_int=_json_int)


def _json_int(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:  # only the digit limit: json hands over valid integer literals
        return float("-inf") if text.startswith("-") else float("inf")


def _encode(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else str(v) for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, fields: Sequence[str], model: type[Model]) -> list[Any]:
    """The values ``_encode`` wrote, or a 422 on ``cursor``: every value a string (as
    ``_encode`` writes them) that its field accepts and the database can compare, so
    nothing a client puts in a cursor reaches the query it cannot run."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(fields):
            raise ValueError
        result = []
        for name, value in zip(fields, values, strict=True):
            if not isinstance(value, str):
                raise ValueError
            field = model._meta.get_field("id" if name == "pk" else name)
            assert isinstance(field, DjangoField)
            python = field.to_python(value)
            if python is None:
                raise ValueError
            if isinstance(python, datetime):
                if timezone.is_naive(python):
                    raise ValueError
                python = python.astimezone(UTC)
            field.run_validators(python)  # an integer field's range, a text field's length
            result.append(python)
        return result
    except (ValueError, TypeError, ArithmeticError, DjangoValidationError, RecursionError):
        raise ValidationFailed.single(
            "cursor", _("This cursor is not valid; use a next_cursor from a list.")
        ) from None


def paginate(
    queryset: QuerySet[M],
    *,
    fields: Sequence[str],
    limit: int,
    cursor: str | None,
    present: Callable[[M], Any],
) -> dict[str, Any]:
    """``queryset`` must be ordered by ``fields``, all descending, the last one unique."""
    if cursor:
        values = _decode(cursor, fields, queryset.model)
        condition = Q()
        for index, name in enumerate(fields):
            step = Q(**{f"{name}__lt": values[index]})
            for before, value in zip(fields[:index], values[:index], strict=True):
                step &= Q(**{before: value})
            condition |= step
        queryset = queryset.filter(condition)
    rows = list(queryset[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, name) for name in fields])
    return {"data": [present(row) for row in rows], "next_cursor": next_cursor}


def whole_list(items: Sequence[Any], present: Callable[[Any], Any]) -> dict[str, Any]:
    """A list that is never long (the catalogue's features): one page, no cursor."""
    return {"data": [present(item) for item in items], "next_cursor": None}


class PageQuery(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="1–200; default 50.")
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")


def patched_fields(payload: Schema) -> dict[str, Any]:
    """The fields a PATCH body gives, as plain data. ``null`` is not a value here: leave
    the field out to keep it."""
    given = payload.model_dump(include=payload.model_fields_set)
    nulls = [name for name, value in given.items() if value is None]
    if nulls:
        from abonnement.core.errors import FieldError

        raise ValidationFailed(
            [FieldError(name, _("Give a value, or leave the field out.")) for name in nulls]
        )
    return given
