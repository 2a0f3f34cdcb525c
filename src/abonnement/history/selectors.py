from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.translation import get_language

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
    feature_names: dict[str, str]  # code → name in the reader's language
    edition_names: dict[str, str]
    # The English name order lines were stored with → the name in the reader's language.
    feature_names_by_name: dict[str, str] = field(default_factory=dict)


def history_page(
    *, organization_id: UUID, kind: str | None, page: int | str | None = 1, per_page: int = 25
) -> HistoryPage:
    from abonnement.catalog.models import Edition, Feature, localized_names

    entries = history_for(organization_id=organization_id, kind=kind)
    features = list(Feature.objects.all())
    language = get_language()
    return HistoryPage(
        page=Paginator(entries, per_page).get_page(page),
        kind=kind or "all",
        feature_names=localized_names(features, language),
        edition_names=dict(Edition.objects.values_list("code", "name")),
        feature_names_by_name={f.name: f.name_in(language) for f in features},
    )


@dataclass(frozen=True)
class StoredReferences:
    """What a page of entries refers to by a stored value, read for the whole page at once
    (``abonnement.history.texts`` shows the values with them)."""

    # The organisation's currency: amounts an entry stores without one are in it.
    currency: str | None = None
    # Contact user id → (name, e-mail) for the ids the entries hold; an id not here is a
    # user who no longer exists.
    users: dict[int, tuple[str, str]] = field(default_factory=dict)
    # The catalogue names order lines were stored with (English) → the reader's language.
    features: dict[str, str] = field(default_factory=dict)
    packs: dict[str, str] = field(default_factory=dict)


def stored_references(
    *, organization_id: UUID, currency: str | None, page: HistoryPage
) -> StoredReferences:
    """The users and catalogue names the page's entries refer to: one query for the users
    and one for the storage packs' names, each only when an entry needs it (the features'
    names come with the page); never one per entry."""
    from abonnement.accounts.models import User
    from abonnement.catalog.models import StoragePack

    user_ids: set[int] = set()
    orders = False
    for entry in page.page:
        for value in (entry.before, entry.after):
            if not isinstance(value, dict):
                continue
            user_id = value.get("contact_user_id")
            if isinstance(user_id, int) and not isinstance(user_id, bool):
                user_ids.add(user_id)
            orders = orders or isinstance(value.get("lines"), list)
    users = (
        {
            pk: (name, email)
            for pk, name, email in User.objects.filter(
                organization_id=organization_id, pk__in=user_ids
            ).values_list("pk", "name", "email")
        }
        if user_ids
        else {}
    )
    features: dict[str, str] = {}
    packs: dict[str, str] = {}
    if orders:
        language = get_language()
        features = page.feature_names_by_name
        packs = {p.name: p.name_in(language) for p in StoragePack.objects.all()}
    return StoredReferences(currency=currency, users=users, features=features, packs=packs)


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
