"""Reads of orders, always scoped to one organisation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet, Sum

from abonnement.orders.models import Order


@dataclass(frozen=True)
class OrderHistory:
    """One page of orders with the catalogue names their lines refer to by code."""

    page: Page[Order]
    feature_names: dict[str, str]
    edition_names: dict[str, str]
    pack_names: dict[str, str]


def order_history(
    *, organization_id: UUID, page: int | str | None = 1, per_page: int = 20
) -> OrderHistory:
    """Newest first, with their lines, in a fixed number of queries."""
    from abonnement.catalog.models import Edition, Feature, StoragePack, localized_names

    orders = (
        Order.objects.filter(organization_id=organization_id)
        .prefetch_related("lines")
        .order_by("-created_at", "-number")
    )
    return OrderHistory(
        page=Paginator(orders, per_page).get_page(page),
        feature_names=localized_names(Feature.objects.all()),
        edition_names=dict(Edition.objects.values_list("code", "name")),
        pack_names=localized_names(StoragePack.objects.all()),
    )


def order_page(
    *, organization_id: UUID, page: int | str | None = 1, per_page: int = 20
) -> Page[Order]:
    """Newest first, with their lines, in a fixed number of queries."""
    orders = (
        Order.objects.filter(organization_id=organization_id)
        .prefetch_related("lines")
        .order_by("-created_at", "-number")
    )
    return Paginator(orders, per_page).get_page(page)


def orders_of(*, organization_id: UUID) -> QuerySet[Order]:
    """Newest first, with their lines (two queries however many orders)."""
    return (
        Order.objects.filter(organization_id=organization_id)
        .prefetch_related("lines")
        .order_by("-created_at", "-number")
    )


def get_order(*, organization_id: UUID, order_id: object) -> Order:
    """An order of this organisation; another organisation's order is "not found" too."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from abonnement.core.errors import NotFound

    try:
        return orders_of(organization_id=organization_id).get(pk=str(order_id))
    except (Order.DoesNotExist, ValueError, ValidationError):
        raise NotFound(_("Order not found.")) from None


def orders_by_id(order_ids: Iterable[str]) -> dict[str, Order]:
    return {
        str(order.pk): order
        for order in Order.objects.filter(pk__in=list(order_ids)).prefetch_related("lines")
    }


def ordered_for_period(*, organization_id: UUID, start: date, end: date) -> Decimal:
    """What the orders of one billing period add up to: its renewal order and what was bought
    during it, pro rata (Rule 3). Differs from the period's price at its current terms when
    something was bought after the period started."""
    total = Order.objects.filter(
        organization_id=organization_id, period_start__gte=start, period_end__lte=end
    ).aggregate(total=Sum("total"))["total"]
    return total if total is not None else Decimal("0.00")
