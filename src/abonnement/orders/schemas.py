"""Orders as the API shows them (and ``order.created`` webhooks carry them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema

from abonnement.core.periods import Period
from abonnement.core.schemas import (
    Decimal_,
    Money,
    PeriodOut,
    UnitPrice,
    decimal_text,
    money,
    period_out,
    unit_price,
)
from abonnement.orders.models import Order


class OrderLineOut(Schema):
    description: str
    quantity: Decimal_
    unit_price: UnitPrice
    amount: Money
    period: PeriodOut


class OrderOut(Schema):
    id: str
    number: int
    created_at: datetime
    kind: Literal["licenses", "storage", "add_on", "renewal"]
    lines: list[OrderLineOut]
    total: Money
    currency: str
    period: PeriodOut


class OrderList(Schema):
    data: list[OrderOut]
    next_cursor: str | None


def order_out(order: Order) -> dict[str, Any]:
    """Reads ``order.lines.all()``: prefetch the lines for lists."""
    return {
        "id": str(order.pk),
        "number": order.number,
        "created_at": order.created_at,
        "kind": order.kind,
        "lines": [
            {
                "description": line.description,
                "quantity": decimal_text(line.quantity),
                "unit_price": unit_price(line.unit_price),
                "amount": money(line.amount),
                "period": period_out(Period(line.period_start, line.period_end)),
            }
            for line in order.lines.all()
        ],
        "total": money(order.total),
        "currency": order.currency,
        "period": period_out(Period(order.period_start, order.period_end)),
    }


def order_or_none(order: Order | None) -> dict[str, Any] | None:
    return None if order is None else order_out(order)
