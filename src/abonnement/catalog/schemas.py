"""The catalogue with the prices in force on a day."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from ninja import Schema

from abonnement.catalog.models import add_on_product, license_product, storage_product
from abonnement.catalog.selectors import CatalogView
from abonnement.core.periods import PERIOD_MONTHS
from abonnement.core.schemas import Money, money

AvailabilityName = Literal["included", "add_on", "unavailable"]


class CatalogEditionOut(Schema):
    code: str
    name: str
    license_prices: dict[str, Money]
    included_storage_gb: int
    features: dict[str, AvailabilityName]


class CatalogFeatureOut(Schema):
    code: str
    name: str
    kind: Literal["feature", "integration"]
    requires: list[str]
    add_on_prices: dict[str, Money]


class CatalogStoragePackOut(Schema):
    code: str
    gb: int
    prices: dict[str, Money]


class CatalogOut(Schema):
    prices_on: date
    editions: list[CatalogEditionOut]
    features: list[CatalogFeatureOut]
    storage_packs: list[CatalogStoragePackOut]
    period_months: list[int]
    currencies: list[str]


def _money_map(prices: dict[str, Any]) -> dict[str, str]:
    return {currency: money(amount) for currency, amount in prices.items()}


def catalog_out(catalog: CatalogView) -> dict[str, Any]:
    return {
        "prices_on": catalog.day,
        "editions": [
            {
                "code": edition.code,
                "name": edition.name,
                "license_prices": _money_map(catalog.prices(license_product(edition.code))),
                "included_storage_gb": edition.included_storage_gb,
                "features": {
                    feature.code: catalog.offer(edition, feature) for feature in catalog.features
                },
            }
            for edition in catalog.editions
        ],
        "features": [
            {
                "code": feature.code,
                "name": feature.name,
                "kind": feature.kind,
                "requires": sorted(r.code for r in feature.requires.all()),
                "add_on_prices": _money_map(catalog.prices(add_on_product(feature.code))),
            }
            for feature in catalog.features
        ],
        "storage_packs": [
            {
                "code": pack.code,
                "gb": pack.gb,
                "prices": _money_map(catalog.prices(storage_product(pack.code))),
            }
            for pack in catalog.storage_packs
        ],
        "period_months": list(PERIOD_MONTHS),
        "currencies": catalog.currencies,
    }
