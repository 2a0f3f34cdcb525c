"""Orders (API.md "Orders, invoices, history"). Their confirmation document (PDF) and
sending it again are documents: ``abonnement.invoicing.api``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from abonnement.config.api_auth import organization_for
from abonnement.config.api_common import PageQuery, paginate
from abonnement.config.api_errors import responses
from abonnement.orders.schemas import OrderList, OrderOut, order_out
from abonnement.orders.selectors import get_order, orders_of

router = Router(tags=["Orders"])


@router.get(
    "/organizations/{org}/orders", response=responses({200: OrderList}), summary="List orders"
)
def list_orders(request: HttpRequest, org: str, page: Query[PageQuery]) -> Any:
    _caller, organization = organization_for(request, org, permission="manage_subscription")
    return paginate(
        orders_of(organization_id=organization.pk),
        fields=("created_at", "number"),
        limit=page.limit,
        cursor=page.cursor,
        present=order_out,
    )


@router.get(
    "/organizations/{org}/orders/{id}", response=responses({200: OrderOut}), summary="Read an order"
)
def get_organization_order(request: HttpRequest, org: str, id: str) -> Any:
    _caller, organization = organization_for(request, org, permission="manage_subscription")
    return order_out(get_order(organization_id=organization.pk, order_id=id))
