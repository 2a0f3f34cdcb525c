from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from abonnement.history.models import HistoryEntry

if TYPE_CHECKING:
    from abonnement.invoicing.models import OrderConfirmation
    from abonnement.orders.selectors import OrderHistory


def history_for(*, organization_id: UUID, kind: str | None = None) -> QuerySet[HistoryEntry]:
    qs = HistoryEntry.objects.filter(organization_id=organization_id)
    if kind and kind != "all":
        qs = qs.filter(kind=kind)
    return qs.order_by("-at", "-id")


@dataclass(frozen=True)
class HistoryPage:
    """One page of history with the catalogue names its entries refer to by code."""

    page: Page[HistoryEntry]
    kind: str
    feature_names: dict[str, str]
    edition_names: dict[str, str]


def history_page(
    *, organization_id: UUID, kind: str | None, page: int | str | None = 1, per_page: int = 25
) -> HistoryPage:
    from abonnement.catalog.models import Edition, Feature, localized_names

    entries = history_for(organization_id=organization_id, kind=kind)
    return HistoryPage(
        page=Paginator(entries, per_page).get_page(page),
        kind=kind or "all",
        feature_names=localized_names(Feature.objects.all()),
        edition_names=dict(Edition.objects.values_list("code", "name")),
    )


def name_changes(*, organization_id: UUID, limit: int = 20) -> list[HistoryEntry]:
    """The company name's history (Company settings)."""
    return list(
        history_for(organization_id=organization_id, kind="organization").filter(
            action="name_changed"
        )[:limit]
    )


@dataclass(frozen=True)
class OrderDocumentsPage:
    """One page of orders with their order confirmations (by order id; an order whose
    documents the background worker has not issued yet has none)."""

    orders: OrderHistory
    confirmations: dict[str, OrderConfirmation]


def order_documents_page(
    *, organization_id: UUID, page: int | str | None = 1, per_page: int = 20
) -> OrderDocumentsPage:
    """History › Order confirmations: the orders and the confirmations of those on the page,
    in a fixed number of queries."""
    from abonnement.invoicing.selectors import confirmations_for
    from abonnement.orders.selectors import order_history

    orders = order_history(organization_id=organization_id, page=page, per_page=per_page)
    return OrderDocumentsPage(
        orders=orders,
        confirmations=confirmations_for(
            organization_id=organization_id, order_ids=[order.pk for order in orders.page]
        ),
    )
