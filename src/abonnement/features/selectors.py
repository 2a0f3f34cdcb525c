"""Feature and integration states of an organisation, and its entitlements."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.utils.translation import gettext as _

from abonnement.catalog.models import Availability, Edition, Feature
from abonnement.catalog.selectors import availability_map
from abonnement.core.errors import NotFound
from abonnement.features.models import FeatureSwitch
from abonnement.subscriptions.models import Subscription


@dataclass(frozen=True)
class FeatureState:
    feature: Feature
    availability: str
    enabled: bool
    monthly_price: Decimal | None
    requires: list[str]
    available_in: list[str]
    available_in_names: list[str]
    paid_this_period: bool


def enabled_feature_ids(organization_id: UUID) -> set[int]:
    return set(
        FeatureSwitch.objects.filter(organization_id=organization_id, enabled=True).values_list(
            "feature_id", flat=True
        )
    )


def feature_states(*, subscription: Subscription) -> list[FeatureState]:
    """Every catalogue feature with its state, in a fixed number of queries."""
    from abonnement.subscriptions.models import SubscriptionAddOn

    features = list(
        Feature.objects.prefetch_related("requires").order_by("kind", "position", "code")
    )
    editions = list(Edition.objects.order_by("position", "code"))
    offers = availability_map()
    enabled = enabled_feature_ids(subscription.organization_id)
    paid = set(
        SubscriptionAddOn.objects.filter(subscription=subscription, in_current=True).values_list(
            "feature_id", flat=True
        )
    )
    states = []
    for feature in features:
        offer = offers.get((subscription.edition_id, feature.pk), Availability.UNAVAILABLE)
        offering = [
            e
            for e in editions
            if offers.get((e.pk, feature.pk), Availability.UNAVAILABLE) != Availability.UNAVAILABLE
        ]
        states.append(
            FeatureState(
                feature=feature,
                availability=offer,
                enabled=feature.pk in enabled,
                monthly_price=(
                    Decimal(subscription.add_on_prices[feature.code])
                    if offer == Availability.ADD_ON and feature.code in subscription.add_on_prices
                    else None
                ),
                requires=[r.code for r in feature.requires.all()],
                available_in=[e.code for e in offering],
                available_in_names=[e.name for e in offering],
                paid_this_period=feature.pk in paid,
            )
        )
    return states


@dataclass(frozen=True)
class Entitlements:
    edition: str
    features: list[str]
    licenses: int
    active_users: int
    storage_gb: int


def entitlements(*, organization_id: UUID) -> Entitlements:
    from abonnement.subscriptions.selectors import active_user_count

    try:
        subscription = Subscription.objects.select_related("edition", "storage_pack").get(
            organization_id=organization_id
        )
    except Subscription.DoesNotExist:
        raise NotFound(_("Organisation not found.")) from None
    codes = sorted(
        FeatureSwitch.objects.filter(organization_id=organization_id, enabled=True).values_list(
            "feature__code", flat=True
        )
    )
    return Entitlements(
        edition=subscription.edition.code,
        features=codes,
        licenses=subscription.licenses,
        active_users=active_user_count(organization_id),
        storage_gb=subscription.edition.included_storage_gb
        + subscription.storage_packs * subscription.storage_pack.gb,
    )


@dataclass(frozen=True)
class FeatureRow:
    state: FeatureState
    required_names: list[str]


@dataclass(frozen=True)
class FeaturePage:
    subscription: Subscription
    states: list[FeatureState]

    def _rows(self, kind: str) -> list[FeatureRow]:
        names = {s.feature.code: s.feature.name for s in self.states}
        return [
            FeatureRow(s, [names.get(code, code) for code in s.requires])
            for s in self.states
            if s.feature.kind == kind
        ]

    @property
    def features(self) -> list[FeatureRow]:
        return self._rows("feature")

    @property
    def integrations(self) -> list[FeatureRow]:
        return self._rows("integration")


def feature_page(*, organization_id: UUID) -> FeaturePage:
    """Features and integrations of the organisation, grouped as the portal shows them."""
    from abonnement.subscriptions.selectors import get_subscription

    subscription = get_subscription(organization_id)
    return FeaturePage(subscription=subscription, states=feature_states(subscription=subscription))
