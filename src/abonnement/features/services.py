"""Company-wide switches for features and integrations (PRODUCT.md section 3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from abonnement.accounts import permissions
from abonnement.catalog.models import Availability, Feature
from abonnement.catalog.selectors import availability
from abonnement.core.actor import Actor
from abonnement.core.errors import NotFound, ValidationFailed
from abonnement.core.events import Event, emit
from abonnement.features.errors import FeatureNotAvailable, FeatureRequired
from abonnement.features.models import FeatureSwitch
from abonnement.features.selectors import FeatureState, enabled_feature_ids, feature_states
from abonnement.history.models import HistoryKind
from abonnement.history.services import record
from abonnement.orders.models import Order
from abonnement.organizations.models import Organization
from abonnement.subscriptions import services as subscription_services
from abonnement.subscriptions.models import Subscription


@dataclass(frozen=True)
class FeatureChange:
    state: FeatureState
    order: Order | None


def get_feature(code: str) -> Feature:
    try:
        return Feature.objects.prefetch_related("requires", "required_by").get(code=code)
    except Feature.DoesNotExist:
        raise NotFound(
            _("There is no feature or integration “%(code)s”.") % {"code": code}
        ) from None


def _check_switch(
    *, subscription: Subscription, feature: Feature, enabled: bool, actor: Actor
) -> str:
    """The rules of a switch; raises the refusal, returns the feature's availability."""
    organization = subscription.organization
    permissions.require(actor, organization, "manage_subscription")
    offer = availability(subscription.edition_id, feature.pk)
    if enabled and offer == Availability.UNAVAILABLE:
        from abonnement.catalog.models import Edition, FeatureAvailability

        editions = Edition.objects.filter(
            pk__in=FeatureAvailability.objects.filter(feature=feature)
            .exclude(availability=Availability.UNAVAILABLE)
            .values("edition_id")
        ).order_by("position")
        raise FeatureNotAvailable(feature.display_name, [e.name for e in editions])
    if offer == Availability.ADD_ON:
        # Paid add-ons are part of the subscription: marketplace-managed ones change there.
        permissions.ensure_not_marketplace(actor, organization)
    on = enabled_feature_ids(organization.pk)
    if enabled:
        missing = [r for r in feature.requires.all() if r.pk not in on]
        if missing:
            raise FeatureRequired(
                _("%(feature)s needs %(required)s; switch that on first.")
                % {
                    "feature": feature.display_name,
                    "required": ", ".join(r.display_name for r in missing),
                }
            )
    else:
        dependants = [d for d in feature.required_by.all() if d.pk in on]
        if dependants:
            raise FeatureRequired(
                _("%(dependants)s needs %(feature)s; switch that off first.")
                % {
                    "dependants": ", ".join(d.display_name for d in dependants),
                    "feature": feature.display_name,
                }
            )
    return offer


def check_feature_switch(
    *, organization: Organization, code: str, enabled: bool, actor: Actor
) -> None:
    """Raise the refusal the switch would meet now (availability, requirements, permission);
    reads only, so the confirmation can say it before anything is submitted."""
    feature = get_feature(code)
    permissions.ensure_same_organization(actor, organization)
    subscription = Subscription.objects.select_related("organization").get(
        organization_id=organization.pk
    )
    _check_switch(subscription=subscription, feature=feature, enabled=enabled, actor=actor)


def preview_feature_change(
    *, organization: Organization, code: str, actor: Actor, now: datetime
) -> subscription_services.ChangePreview:
    """The purchase preview for switching a paid add-on on; commits nothing."""
    feature = get_feature(code)
    permissions.ensure_same_organization(actor, organization)
    with transaction.atomic():
        # Locked and caught up like the switch itself, so a preview made after a period end
        # (before the rollover job ran) prices the period that has started (Rule 2).
        subscription = subscription_services.lock_subscription(
            organization_id=organization.pk, now=now
        )
        offer = _check_switch(subscription=subscription, feature=feature, enabled=True, actor=actor)
        if offer != Availability.ADD_ON:
            raise ValidationFailed.single(
                "code", _("%(feature)s is not a paid add-on.") % {"feature": feature.display_name}
            )
        result = subscription_services.preview_add_on(
            subscription=subscription, feature=feature, now=now
        )
        transaction.set_rollback(True)  # a catch-up rollover here is redone by the real change
    return result


@transaction.atomic(durable=True)
def set_feature_enabled(
    *,
    organization: Organization,
    code: str,
    enabled: object,
    actor: Actor,
    now: datetime,
    reason: str = "",
) -> FeatureChange:
    """Switch a feature or integration on or off for everybody in the organisation."""
    if not isinstance(enabled, bool):
        raise ValidationFailed.single("enabled", _("Give true or false."))
    feature = get_feature(code)
    permissions.ensure_same_organization(actor, organization)
    subscription = subscription_services.lock_subscription(organization_id=organization.pk, now=now)
    offer = _check_switch(subscription=subscription, feature=feature, enabled=enabled, actor=actor)
    switch = FeatureSwitch.objects.filter(organization=organization, feature=feature).first()
    was_enabled = bool(switch and switch.enabled)
    order = None
    if was_enabled != enabled:
        if offer == Availability.ADD_ON:
            if enabled:
                order = subscription_services.start_add_on_locked(
                    subscription=subscription, feature=feature, actor=actor, now=now
                )
            else:
                subscription_services.stop_add_on_locked(
                    subscription=subscription, feature=feature, now=now
                )
        FeatureSwitch.objects.update_or_create(
            organization=organization,
            feature=feature,
            defaults={"enabled": enabled, "changed_at": now},
        )
        record(
            organization_id=organization.pk,
            actor=actor,
            now=now,
            kind=HistoryKind.FEATURES,
            action="enabled" if enabled else "disabled",
            subject=feature.code,
            before={"enabled": was_enabled},
            after={"enabled": enabled},
            reason=(reason or "").strip()[:500] or (f"Order {order.number}" if order else ""),
        )
        emit(
            Event(
                "feature.enabled" if enabled else "feature.disabled",
                str(organization.pk),
                {"feature": feature.code},
                at=now,
            )
        )
    state = next(s for s in feature_states(subscription=subscription) if s.feature.pk == feature.pk)
    return FeatureChange(state, order)
