"""Reads of a subscription: the two period views shown side by side (Overview)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Count, QuerySet
from django.utils.translation import get_language

from abonnement.catalog.models import (
    Availability,
    Edition,
    StoragePack,
    add_on_product,
    license_product,
    storage_product,
    translation_of,
)
from abonnement.catalog.selectors import PriceBook, availability_map, price_book_on
from abonnement.core import clock
from abonnement.core.money import quantize
from abonnement.core.periods import Period, next_period
from abonnement.subscriptions.models import EditionChangeRequest, Subscription, SubscriptionAddOn


@dataclass(frozen=True)
class AddOnView:
    code: str
    name: str  # the catalogue's English name
    monthly_price: Decimal
    translations: dict[str, Any] = field(default_factory=dict, compare=False)

    def name_in(self, language: str | None) -> str:
        return translation_of(self.translations, "name", language) or self.name

    @property
    def display_name(self) -> str:
        """The name in the active language (the portal's reader's)."""
        return self.name_in(get_language())


@dataclass(frozen=True)
class PeriodView:
    period: Period
    months: int
    edition: Edition
    licenses: int
    storage_pack_gb: int
    storage_packs: int
    included_storage_gb: int
    license_unit_price: Decimal
    storage_unit_price: Decimal
    add_ons: list[AddOnView] = field(default_factory=list)
    free_licenses: int | None = None
    used_storage_gb: Decimal | None = None
    # When the vendor's product reported ``used_storage_gb``; None until it first does.
    used_storage_reported_at: datetime | None = None

    @property
    def extra_storage_gb(self) -> int:
        return self.storage_packs * self.storage_pack_gb

    @property
    def total_storage_gb(self) -> int:
        return self.included_storage_gb + self.extra_storage_gb

    @property
    def license_monthly(self) -> Decimal:
        return quantize(self.licenses * self.license_unit_price)

    @property
    def storage_monthly(self) -> Decimal:
        return quantize(self.storage_packs * self.storage_unit_price)

    @property
    def monthly_price(self) -> Decimal:
        """Sum of rounded monthly lines (Rule 12)."""
        return (
            self.license_monthly
            + self.storage_monthly
            + sum((quantize(a.monthly_price) for a in self.add_ons), Decimal("0.00"))
        )

    @property
    def total_price(self) -> Decimal:
        return (
            quantize(self.licenses * self.months * self.license_unit_price)
            + quantize(self.storage_packs * self.months * self.storage_unit_price)
            + sum(
                (quantize(self.months * a.monthly_price) for a in self.add_ons),
                Decimal("0.00"),
            )
        )


@dataclass(frozen=True)
class SubscriptionOverview:
    subscription: Subscription
    currency: str
    active_users: int
    change_deadline: datetime
    current: PeriodView
    next: PeriodView
    scheduled_license_change: int | None
    scheduled_storage_change: int | None
    ending_add_ons: list[str]

    @property
    def managed_by_marketplace(self) -> bool:
        return self.subscription.organization.managed_by_marketplace


def active_user_count(organization_id: UUID) -> int:
    from abonnement.accounts.models import User

    return User.objects.filter(organization_id=organization_id, is_active=True).count()


def next_period_of(subscription: Subscription) -> Period:
    return next_period(
        subscription.current_period,
        months=subscription.period_months,
        anchor_day=subscription.anchor_day,
    )


def _add_on_rows(subscription: Subscription) -> list[SubscriptionAddOn]:
    return list(
        SubscriptionAddOn.objects.filter(subscription=subscription).select_related("feature")
    )


def current_period_view(
    subscription: Subscription,
    *,
    edition: Edition,
    pack: StoragePack,
    add_on_rows: list[SubscriptionAddOn],
    active_users: int,
) -> PeriodView:
    return PeriodView(
        period=subscription.current_period,
        months=subscription.period_months,
        edition=edition,
        licenses=subscription.licenses,
        storage_pack_gb=pack.gb,
        storage_packs=subscription.storage_packs,
        included_storage_gb=edition.included_storage_gb,
        license_unit_price=subscription.license_unit_price,
        storage_unit_price=subscription.storage_unit_price,
        add_ons=[
            AddOnView(row.feature.code, row.feature.name, row.unit_price, row.feature.translations)
            for row in sorted(add_on_rows, key=lambda r: r.feature.code)
            if row.in_current
        ],
        free_licenses=max(subscription.licenses - active_users, 0),
        used_storage_gb=subscription.storage_used_gb,
        used_storage_reported_at=subscription.storage_reported_at,
    )


def next_period_view(
    subscription: Subscription,
    *,
    edition: Edition,
    pack: StoragePack,
    add_on_rows: list[SubscriptionAddOn],
    book: PriceBook,
    availabilities: dict[tuple[int, int], str],
) -> PeriodView:
    """What the next period holds if nothing else changes, at the prices in force then."""
    currency = subscription.organization.currency
    add_ons = []
    for row in sorted(add_on_rows, key=lambda r: r.feature.code):
        if not row.in_next:
            continue
        if availabilities.get((edition.pk, row.feature_id)) != Availability.ADD_ON:
            continue
        add_ons.append(
            AddOnView(
                row.feature.code,
                row.feature.name,
                book.price(add_on_product(row.feature.code), currency),
                row.feature.translations,
            )
        )
    return PeriodView(
        period=next_period_of(subscription),
        months=subscription.period_months,
        edition=edition,
        licenses=subscription.licenses_next,
        storage_pack_gb=pack.gb,
        storage_packs=subscription.storage_packs_next,
        included_storage_gb=edition.included_storage_gb,
        license_unit_price=book.price(license_product(edition.code), currency),
        storage_unit_price=book.price(storage_product(pack.code), currency),
        add_ons=add_ons,
    )


def get_subscription(organization_id: UUID) -> Subscription:
    from abonnement.core.errors import NotFound

    try:
        return Subscription.objects.select_related(
            "organization", "edition", "next_edition", "storage_pack"
        ).get(organization_id=organization_id)
    except Subscription.DoesNotExist:
        raise NotFound("Subscription not found.") from None


def build_overview(
    subscription: Subscription,
    *,
    add_on_rows: list[SubscriptionAddOn] | None = None,
    active_users: int | None = None,
    availabilities: dict[tuple[int, int], str] | None = None,
    book_on: Callable[[date], PriceBook] | None = None,
) -> SubscriptionOverview:
    rows = add_on_rows if add_on_rows is not None else _add_on_rows(subscription)
    active = (
        active_users
        if active_users is not None
        else active_user_count(subscription.organization_id)
    )
    avail = availabilities if availabilities is not None else availability_map()
    next_edition = subscription.next_edition or subscription.edition
    upcoming = next_period_of(subscription)
    if book_on is None:
        book_on = price_book_on
    current = current_period_view(
        subscription,
        edition=subscription.edition,
        pack=subscription.storage_pack,
        add_on_rows=rows,
        active_users=active,
    )
    following = next_period_view(
        subscription,
        edition=next_edition,
        pack=subscription.storage_pack,
        add_on_rows=rows,
        book=book_on(upcoming.start),
        availabilities=avail,
    )
    next_codes = {a.code for a in following.add_ons}
    return SubscriptionOverview(
        subscription=subscription,
        currency=subscription.organization.currency,
        active_users=active,
        change_deadline=clock.end_of_day(subscription.current_period_end),
        current=current,
        next=following,
        scheduled_license_change=(
            subscription.licenses_next
            if subscription.licenses_next != subscription.licenses
            else None
        ),
        scheduled_storage_change=(
            subscription.storage_packs_next
            if subscription.storage_packs_next != subscription.storage_packs
            else None
        ),
        ending_add_ons=[a.code for a in current.add_ons if a.code not in next_codes],
    )


def subscription_overview(*, organization_id: UUID) -> SubscriptionOverview:
    return build_overview(get_subscription(organization_id))


def subscription_overviews(organization_ids: Iterable[UUID]) -> dict[UUID, SubscriptionOverview]:
    """The overviews of many organisations with a fixed number of queries (the webhook
    payloads of a rollover batch); an organisation without a subscription is left out."""
    from abonnement.accounts.models import User

    ids = list(set(organization_ids))
    if not ids:
        return {}
    subscriptions = list(
        Subscription.objects.select_related(
            "organization", "edition", "next_edition", "storage_pack"
        ).filter(organization_id__in=ids)
    )
    rows: dict[int, list[SubscriptionAddOn]] = defaultdict(list)
    for row in SubscriptionAddOn.objects.filter(
        subscription__in=[s.pk for s in subscriptions]
    ).select_related("feature"):
        rows[row.subscription_id].append(row)
    active = dict(
        User.objects.filter(organization_id__in=ids, is_active=True)
        .values("organization_id")
        .annotate(n=Count("pk"))
        .values_list("organization_id", "n")
    )
    availabilities = availability_map()
    books: dict[date, PriceBook] = {}

    def book_on(day: date) -> PriceBook:
        if day not in books:
            books[day] = price_book_on(day)
        return books[day]

    return {
        s.organization_id: build_overview(
            s,
            add_on_rows=rows[s.pk],
            active_users=active.get(s.organization_id, 0),
            availabilities=availabilities,
            book_on=book_on,
        )
        for s in subscriptions
    }


@dataclass(frozen=True)
class EditionPage:
    """The edition now and next, the editions there are, and the organisation's requests."""

    subscription: Subscription
    editions: list[Edition]
    requests: list[EditionChangeRequest]

    @property
    def next_edition(self) -> Edition:
        return self.subscription.next_edition or self.subscription.edition


def edition_page(*, organization_id: UUID) -> EditionPage:
    subscription = get_subscription(organization_id)
    return EditionPage(
        subscription=subscription,
        editions=list(Edition.objects.order_by("position", "code")),
        requests=list(
            EditionChangeRequest.objects.filter(organization_id=organization_id)
            .select_related("edition")
            .order_by("-created_at", "-id")[:50]
        ),
    )


def edition_requests_of(*, organization_id: UUID) -> QuerySet[EditionChangeRequest]:
    """The organisation's edition-change requests, newest first."""
    return (
        EditionChangeRequest.objects.filter(organization_id=organization_id)
        .select_related("edition")
        .order_by("-created_at", "-id")
    )
