"""Features, integrations and entitlements as the API shows them."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Schema
from pydantic import StrictBool

from abonnement.core.schemas import ApiInput, Money, money_or_none
from abonnement.features.selectors import Entitlements, FeatureState
from abonnement.orders.schemas import OrderOut


class FeatureOut(Schema):
    code: str
    name: str
    kind: Literal["feature", "integration"]
    availability: Literal["included", "add_on", "unavailable"]
    enabled: bool
    monthly_price: Money | None
    requires: list[str]
    available_in: list[str]


class FeatureList(Schema):
    data: list[FeatureOut]
    next_cursor: str | None


def feature_out(state: FeatureState) -> dict[str, Any]:
    return {
        "code": state.feature.code,
        "name": state.feature.name,
        "kind": state.feature.kind,
        "availability": state.availability,
        "enabled": state.enabled,
        "monthly_price": money_or_none(state.monthly_price),
        "requires": state.requires,
        "available_in": state.available_in,
    }


class FeatureSwitchIn(ApiInput):
    enabled: StrictBool


class FeatureChangeOut(Schema):
    feature: FeatureOut
    order: OrderOut | None


class EntitlementsOut(Schema):
    edition: str
    features: list[str]
    licenses: int
    active_users: int
    storage_gb: int


def entitlements_out(entitlements: Entitlements) -> dict[str, Any]:
    return {
        "edition": entitlements.edition,
        "features": entitlements.features,
        "licenses": entitlements.licenses,
        "active_users": entitlements.active_users,
        "storage_gb": entitlements.storage_gb,
    }
