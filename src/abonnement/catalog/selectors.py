"""Reads of the catalogue: editions, features, availability, prices in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Subquery
from django.utils.translation import gettext as _

from abonnement.catalog.errors import MissingPrice, UnknownEdition
from abonnement.catalog.models import (
    Availability,
    Edition,
    Feature,
    FeatureAvailability,
    Price,
    PriceList,
    StoragePack,
)
from abonnement.core.errors import ValidationFailed


@dataclass(frozen=True)
class PriceBook:
    price_list_id: int
    prices: dict[tuple[str, str], Decimal]

    def price(self, product: str, currency: str) -> Decimal:
        try:
            return self.prices[(product, currency)]
        except KeyError:
            raise MissingPrice(product, currency) from None

    def get(self, product: str, currency: str) -> Decimal | None:
        return self.prices.get((product, currency))


def price_list_in_force(day: date, *, field: str = "date") -> PriceList:
    """The latest list in force on ``day``; none is a field error on ``field``, the name
    the caller's input gave the day (``start_date``, ``at``)."""
    price_list = (
        PriceList.objects.filter(effective_from__lte=day).order_by("-effective_from").first()
    )
    if price_list is None:
        from abonnement.core.templatetags.portal import day as format_day

        raise ValidationFailed.single(
            field, _("No price list is in force on %(day)s.") % {"day": format_day(day)}
        )
    return price_list


def price_book(price_list_id: int) -> PriceBook:
    """The prices in force with this list: its own, and for every product and currency it
    leaves out, the price of the latest earlier list that has one. A new list need only
    hold what changes."""
    effective_from = PriceList.objects.filter(pk=price_list_id).values("effective_from")[:1]
    rows = (
        Price.objects.filter(price_list__effective_from__lte=Subquery(effective_from))
        .order_by("price_list__effective_from")
        .values_list("product", "currency", "monthly_amount")
    )
    return PriceBook(price_list_id, {(p, c): a for p, c, a in rows})


def price_book_on(day: date, *, field: str = "date") -> PriceBook:
    return price_book(price_list_in_force(day, field=field).pk)


def get_edition(code: str, *, field: str = "edition") -> Edition:
    try:
        return Edition.objects.get(code=code)
    except Edition.DoesNotExist:
        raise UnknownEdition(code, field) from None


def default_storage_pack() -> StoragePack:
    pack = StoragePack.objects.order_by("position", "code").first()
    if pack is None:
        raise ValidationFailed.single("storage", "The catalogue has no storage pack.")
    return pack


def availability_map() -> dict[tuple[int, int], str]:
    """(edition id, feature id) → availability, for the whole catalogue in one query."""
    return {
        (e, f): a
        for e, f, a in FeatureAvailability.objects.values_list(
            "edition_id", "feature_id", "availability"
        )
    }


def availability(edition_id: int, feature_id: int) -> str:
    value = (
        FeatureAvailability.objects.filter(edition_id=edition_id, feature_id=feature_id)
        .values_list("availability", flat=True)
        .first()
    )
    return value or Availability.UNAVAILABLE


def features_with_requirements() -> list[Feature]:
    return list(Feature.objects.prefetch_related("requires").order_by("kind", "position", "code"))


@dataclass(frozen=True)
class CatalogView:
    """The whole catalogue with the prices in force on ``day`` (the API's GET /catalog)."""

    day: date
    editions: list[Edition]
    features: list[Feature]
    storage_packs: list[StoragePack]
    availability: dict[tuple[int, int], str]
    book: PriceBook

    def offer(self, edition: Edition, feature: Feature) -> str:
        return self.availability.get((edition.pk, feature.pk), Availability.UNAVAILABLE)

    def prices(self, product: str) -> dict[str, Decimal]:
        return {
            currency: amount
            for (name, currency), amount in sorted(self.book.prices.items())
            if name == product
        }

    @property
    def currencies(self) -> list[str]:
        return sorted({currency for _product, currency in self.book.prices})


def catalog_on(day: date, *, field: str = "date") -> CatalogView:
    """Five queries, whatever the size of the catalogue."""
    return CatalogView(
        day=day,
        editions=list(Edition.objects.order_by("position", "code")),
        features=features_with_requirements(),
        storage_packs=list(StoragePack.objects.order_by("position", "code")),
        availability=availability_map(),
        book=price_book_on(day, field=field),
    )
