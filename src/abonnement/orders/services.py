"""Placing orders. An order is created once, numbered from a gapless counter, never edited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from abonnement.core.actor import Actor
from abonnement.core.counters import take_numbers
from abonnement.core.events import Event, emit
from abonnement.core.money import format_amount, quantize
from abonnement.core.periods import Period
from abonnement.history.models import HistoryKind
from abonnement.history.services import record
from abonnement.orders.models import Order, OrderLine

ORDER_COUNTER = "order"


@dataclass(frozen=True)
class LineSpec:
    product: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    period: Period
    days: int | None = None
    period_days: int | None = None


def order_total(lines: list[LineSpec]) -> Decimal:
    """Totals are the sum of rounded lines (Rule 12)."""
    return sum((quantize(line.amount) for line in lines), Decimal("0.00"))


def place_order(
    *,
    subscription_id: int,
    organization_id: UUID,
    currency: str,
    kind: str,
    period: Period,
    lines: list[LineSpec],
    actor: Actor,
    now: datetime,
) -> Order:
    """Create the order with its lines and history; must run in the caller's transaction."""
    if not lines:
        raise ValueError("an order needs at least one line")
    number = take_numbers(ORDER_COUNTER)
    total = order_total(lines)
    order = Order.objects.create(
        number=number,
        organization_id=organization_id,
        subscription_id=subscription_id,
        kind=kind,
        created_at=now,
        period_start=period.start,
        period_end=period.end,
        currency=currency,
        total=total,
        actor_name=actor.name[:200],
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            position=index,
            product=line.product,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=quantize(line.amount),
            period_start=line.period.start,
            period_end=line.period.end,
            days=line.days,
            period_days=line.period_days,
        )
        for index, line in enumerate(lines, start=1)
    )
    record(
        organization_id=organization_id,
        actor=actor,
        now=now,
        kind=HistoryKind.ORDERS,
        action="order_created",
        subject=f"Order {number}",
        after={
            "number": number,
            "kind": kind,
            "total": format_amount(total),
            "currency": currency,
            "lines": [line.description for line in lines],
        },
    )
    emit(Event("order.created", str(organization_id), {"order_id": str(order.pk)}, at=now))
    return order
