"""Invoices, credit notes and deliveries as the API shows them (API.md "Orders, invoices,
history"), and as the ``invoice.*`` webhooks carry them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from abonnement.core.periods import Period
from abonnement.core.schemas import (
    Money,
    PeriodOut,
    decimal_text,
    money,
    period_out,
    unit_price,
)
from abonnement.invoicing.models import Delivery
from abonnement.invoicing.selectors import DeliveryView, InvoiceView, delivery_view
from abonnement.orders.schemas import OrderLineOut


class DeliveryOut(Schema):
    channel: Literal["email", "e_invoice"]
    to: str = Field(description="Where it went; empty until it is sent.")
    status: Literal["pending", "sent", "failed"]
    sent_at: datetime | None


class InvoiceOut(Schema):
    id: str
    number: int = Field(description="Gapless per seller; credit notes share the sequence.")
    document_type: Literal["invoice", "credit_note"] = Field(
        description="A credit note reverses an invoice; its amounts are positive, as on the "
        "document itself."
    )
    issue_date: date
    due_date: date
    period: PeriodOut
    lines: list[OrderLineOut]
    net_total: Money
    vat_total: Money
    total: Money
    currency: str
    vat_treatment: Literal["domestic", "reverse_charge", "outside_eu"]
    payment_reference: str
    order_id: str | None = Field(description="The order invoiced; null for a credit note.")
    credits_invoice_number: int | None = Field(
        description="The invoice a credit note reverses; null for an invoice."
    )
    delivery: DeliveryOut | None = Field(
        description="The latest delivery (a resend adds one); null only if none was made."
    )


class InvoiceList(Schema):
    data: list[InvoiceOut]
    next_cursor: str | None


def _delivery(view: DeliveryView) -> dict[str, Any]:
    return {"channel": view.channel, "to": view.to, "status": view.status, "sent_at": view.sent_at}


def delivery_out(delivery: Delivery) -> dict[str, Any]:
    return _delivery(delivery_view(delivery))


def invoice_out(view: InvoiceView) -> dict[str, Any]:
    return {
        "id": view.id,
        "number": view.number,
        "document_type": view.document_type,
        "issue_date": view.issue_date,
        "due_date": view.due_date,
        "period": period_out(Period(view.period_start, view.period_end)),
        "lines": [
            {
                "description": line.description,
                "quantity": decimal_text(line.quantity),
                "unit_price": unit_price(line.unit_price),
                "amount": money(line.amount),
                "period": period_out(Period(line.period_start, line.period_end)),
            }
            for line in view.lines
        ],
        "net_total": money(view.net_total),
        "vat_total": money(view.vat_total),
        "total": money(view.total),
        "currency": view.currency,
        "vat_treatment": view.vat_treatment,
        "payment_reference": view.payment_reference,
        "order_id": view.order_id,
        "credits_invoice_number": view.credits_invoice_number,
        "delivery": None if view.delivery is None else _delivery(view.delivery),
    }
