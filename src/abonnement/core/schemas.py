"""Building blocks of the JSON the API answers and the webhooks send (API.md "Conventions").

Every app's ``schemas.py`` describes its objects with these and presents domain objects as
plain dicts (``*_out`` functions), so an API response and a webhook payload of the same
object are the same JSON.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from abonnement.core.money import format_amount, quantize, quantize_unit
from abonnement.core.periods import Period

Money = Annotated[
    str,
    Field(
        pattern=r"^-?[0-9]+\.[0-9]{2}$",
        examples=["1234.50"],
        description="An amount with two decimals, in the object's currency.",
    ),
]
UnitPrice = Annotated[
    str,
    Field(
        pattern=r"^-?[0-9]+\.[0-9]{2,4}$",
        examples=["19.90"],
        description="A unit price: two decimals, or up to four where the price has them.",
    ),
]
Decimal_ = Annotated[
    str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$", examples=["60"], description="Exact decimal.")
]


def money(amount: Decimal) -> str:
    return format_amount(amount)


def money_or_none(amount: Decimal | None) -> str | None:
    return None if amount is None else format_amount(amount)


def unit_price(amount: Decimal) -> str:
    text = f"{quantize_unit(amount):.4f}"
    if quantize_unit(amount) == quantize(amount):
        return f"{quantize(amount):.2f}"
    return text.rstrip("0")


def decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


class PeriodOut(Schema):
    start: date = Field(examples=["2027-01-01"])
    end: date = Field(examples=["2027-06-30"], description="The last day, inclusive.")


def period_out(period: Period) -> dict[str, date]:
    return {"start": period.start, "end": period.end}


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("Text cannot contain the NUL character.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("Text must be valid Unicode (no lone surrogates).") from None
    elif isinstance(value, list | tuple | set):
        for item in value:
            _storable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key)
            _storable(item)
    return value


# The "not given" of a PATCH field, ``field: str | Omitted = None``: leave the field out to
# keep its value. ``null`` still parses, so ``patched_fields`` can refuse it with a field
# error, but the document shows only the field's own type: it must not offer a value the
# server refuses.
Omitted = SkipJsonSchema[None]


class ApiInput(Schema):
    """A request body. Text must be storable as it is: no NUL, no lone surrogates."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return _storable(value)


class FieldErrorOut(Schema):
    field: str = Field(examples=["licenses"])
    message: str


class ProblemOut(Schema):
    """application/problem+json (RFC 9457) with the machine-readable ``code`` of API.md."""

    type: str = Field(examples=["urn:abonnement:problem:below_active_users"])
    title: str
    status: int
    code: str = Field(examples=["below_active_users"])
    detail: str
    errors: list[FieldErrorOut] | None = Field(
        default=None, description="Present for field errors (validation_error)."
    )
