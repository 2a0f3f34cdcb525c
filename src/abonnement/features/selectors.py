"""Feature and integration states of an organisation, and its entitlements."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Aggregate, Count, IntegerField, OuterRef, Subquery, TextField
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from abonnement.catalog.models import Availability, Edition, Feature
from abonnement.catalog.selectors import availability_map
from abonnement.core.errors import NotFound
from abonnement.features.models import FeatureSwitch
from abonnement.organizations.models import Organization
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


class _JSONCodes(Aggregate):
    """The aggregated values as a JSON array in text (SQLite ``json_group_array``,
    PostgreSQL ``json_agg``); the order is left to the caller."""

    function = "JSON_GROUP_ARRAY"
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function="JSON_AGG",
            template="%(function)s(%(distinct)s%(expressions)s)::text",
            **extra,
        )


@dataclass(frozen=True)
class OrganizationEntitlements:
    organization: Organization
    entitlements: Entitlements | None  # None: the organisation has no subscription


def organization_entitlements(*, organization_id: object) -> OrganizationEntitlements:
    """The organisation with its entitlements, in ONE query: the organisation by primary
    key, its subscription (unique ``organization_id``), edition and storage pack (primary
    keys), and two correlated subqueries over indexed columns: the codes of the enabled
    switches (``one_switch`` unique index, feature by primary key) and the count of active
    users (``user_org_active``). Unknown or malformed ids are NotFound, as
    ``get_organization`` has them."""
    from abonnement.accounts.models import User

    switches = (
        FeatureSwitch.objects.filter(organization_id=OuterRef("pk"), enabled=True)
        .order_by()
        .values("organization_id")
        .annotate(codes=_JSONCodes("feature__code"))
        .values("codes")
    )
    users = (
        User.objects.filter(organization_id=OuterRef("pk"), is_active=True)
        .order_by()
        .values("organization_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    try:
        organization = (
            Organization.objects.select_related(
                "subscription__edition", "subscription__storage_pack"
            )
            .annotate(
                enabled_codes=Subquery(switches, output_field=TextField()),
                active_users=Coalesce(Subquery(users, output_field=IntegerField()), 0),
            )
            .get(pk=str(organization_id))
        )
    except (Organization.DoesNotExist, ValueError, ValidationError):
        raise NotFound(_("Organisation not found.")) from None
    try:
        subscription = organization.subscription
    except Subscription.DoesNotExist:
        return OrganizationEntitlements(organization=organization, entitlements=None)
    codes: Any = organization.enabled_codes  # type: ignore[attr-defined]
    return OrganizationEntitlements(
        organization=organization,
        entitlements=Entitlements(
            edition=subscription.edition.code,
            features=sorted(json.loads(codes) if codes else []),
            licenses=subscription.licenses,
            active_users=int(organization.active_users),  # type: ignore[attr-defined]
            storage_gb=subscription.edition.included_storage_gb
            + subscription.storage_packs * subscription.storage_pack.gb,
        ),
    )


def entitlements(*, organization_id: UUID) -> Entitlements:
    """What the vendor's product needs to decide access (one query)."""
    found = organization_entitlements(organization_id=organization_id).entitlements
    if found is None:
        raise NotFound(_("Organisation not found."))
    return found


@dataclass(frozen=True)
class FeatureRow:
    state: FeatureState
    required_names: list[str]


@dataclass(frozen=True)
class FeaturePage:
    subscription: Subscription
    states: list[FeatureState]

    def _rows(self, kind: str) -> list[FeatureRow]:
        names = {s.feature.code: s.feature.display_name for s in self.states}
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
