"""Webhook payloads: ``{"type", "timestamp", "data"}`` where ``data`` carries the changed
object exactly as the API shows it (the same presenters) and ``timestamp`` is when the change
happened.

When ``data`` is read:

- with the change (a snapshot): every event, unless emitted with ``snapshot=False``.
  ``notifications.services.record_events`` builds ``data`` inside the transaction of the
  change and stores it, as the JSON text to be sent, on the outbox row; the publisher sends
  it as stored, so a later change (a deactivation, another licence count) never shows in an
  earlier event's payload.
- when published: the events of a period rollover, ``subscription.renewed`` and
  ``order.created`` (``subscriptions/rollover.py``, thousands per batch transaction, whose
  reading would multiply the rollover's time). ``order.created`` shows a renewal order,
  which is never changed once written; ``subscription.renewed`` carries its ``period`` in
  the event itself, but its ``subscription`` is read when published, so it shows any change
  made after the renewal and before the publishing (usually seconds). Outbox rows written
  before snapshots existed are read when published too.

A batch of events is read with a fixed number of queries per event type, whatever the
number of events and organisations (a rollover batch records or publishes thousands at
once).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from abonnement.core.errors import NotFound
from abonnement.core.events import Event


class _Reader:
    """Reads what the events of one batch refer to, each thing once."""

    def __init__(self, events: Sequence[Event]) -> None:
        from abonnement.accounts.selectors import users_by_id
        from abonnement.invoicing.selectors import invoices_by_id
        from abonnement.orders.selectors import orders_by_id
        from abonnement.organizations.models import Organization
        from abonnement.subscriptions.selectors import subscription_overviews

        self.organizations = {
            str(org.pk): org
            for org in Organization.objects.filter(
                pk__in={e.organization_id for e in events if e.type == "organization.created"}
            )
        }
        self.orders = orders_by_id(
            str(e.data["order_id"]) for e in events if e.type == "order.created"
        )
        self.users = users_by_id(
            [int(e.data["user_id"]) for e in events if e.type.startswith("user.")]
        )
        self.invoices = invoices_by_id(
            str(e.data["invoice_id"]) for e in events if e.type.startswith("invoice.")
        )
        self.overviews = subscription_overviews(
            UUID(e.organization_id) for e in events if e.type.startswith("subscription.")
        )
        self._feature_orgs = {e.organization_id for e in events if e.type.startswith("feature.")}
        self._subscriptions: dict[str, dict[str, Any]] = {}
        self._features: dict[str, dict[str, dict[str, Any]]] | None = None

    def subscription(self, organization_id: str) -> dict[str, Any]:
        from abonnement.subscriptions.schemas import subscription_out

        if organization_id not in self._subscriptions:
            overview = self.overviews[UUID(organization_id)]  # KeyError: no subscription
            self._subscriptions[organization_id] = subscription_out(overview)
        return self._subscriptions[organization_id]

    def feature(self, organization_id: str, code: str) -> dict[str, Any] | None:
        if self._features is None:
            self._features = self._read_features()
        return self._features[organization_id].get(code)  # KeyError: no subscription

    def _read_features(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The feature states (as ``features.selectors.feature_states`` makes them) of every
        organisation with a feature event, in seven queries (a rollover batch's edition
        changes switch features of many organisations)."""
        from abonnement.catalog.models import Availability, Edition, Feature
        from abonnement.catalog.selectors import availability_map
        from abonnement.features.models import FeatureSwitch
        from abonnement.features.schemas import feature_out
        from abonnement.features.selectors import FeatureState
        from abonnement.subscriptions.models import Subscription, SubscriptionAddOn

        subscriptions = list(Subscription.objects.filter(organization_id__in=self._feature_orgs))
        if not subscriptions:
            return {}
        features = list(
            Feature.objects.prefetch_related("requires").order_by("kind", "position", "code")
        )
        editions = list(Edition.objects.order_by("position", "code"))
        offers = availability_map()
        enabled: set[tuple[UUID, int]] = set(
            FeatureSwitch.objects.filter(
                organization_id__in=self._feature_orgs, enabled=True
            ).values_list("organization_id", "feature_id")
        )
        paid: set[tuple[int, int]] = set(
            SubscriptionAddOn.objects.filter(
                subscription__in=[s.pk for s in subscriptions], in_current=True
            ).values_list("subscription_id", "feature_id")
        )
        offering = {
            feature.pk: [
                e
                for e in editions
                if offers.get((e.pk, feature.pk), Availability.UNAVAILABLE)
                != Availability.UNAVAILABLE
            ]
            for feature in features
        }
        read: dict[str, dict[str, dict[str, Any]]] = {}
        for subscription in subscriptions:
            states = {}
            for feature in features:
                offer = offers.get((subscription.edition_id, feature.pk), Availability.UNAVAILABLE)
                state = FeatureState(
                    feature=feature,
                    availability=offer,
                    enabled=(subscription.organization_id, feature.pk) in enabled,
                    monthly_price=(
                        Decimal(subscription.add_on_prices[feature.code])
                        if offer == Availability.ADD_ON
                        and feature.code in subscription.add_on_prices
                        else None
                    ),
                    requires=[r.code for r in feature.requires.all()],
                    available_in=[e.code for e in offering[feature.pk]],
                    available_in_names=[e.name for e in offering[feature.pk]],
                    paid_this_period=(subscription.pk, feature.pk) in paid,
                )
                states[feature.code] = feature_out(state)
            read[str(subscription.organization_id)] = states
        return read


def event_data(event: Event, reader: _Reader) -> dict[str, Any]:
    from abonnement.accounts.schemas import user_out
    from abonnement.invoicing.schemas import invoice_out
    from abonnement.invoicing.selectors import API_CHANNELS, invoice_view
    from abonnement.orders.schemas import order_out
    from abonnement.organizations.schemas import organization_out

    data: dict[str, Any] = {"organization_id": event.organization_id}
    kind = event.type
    try:
        if kind == "organization.created":
            data["organization"] = organization_out(reader.organizations[event.organization_id])
        elif kind in ("subscription.updated", "subscription.renewed"):
            if "period" in event.data:
                data["period"] = event.data["period"]
            data["subscription"] = reader.subscription(event.organization_id)
        elif kind == "order.created":
            data["order"] = order_out(reader.orders[str(event.data["order_id"])])
        elif kind.startswith("feature."):
            data["feature"] = reader.feature(event.organization_id, str(event.data["feature"]))
        elif kind.startswith("user."):
            data["user"] = user_out(reader.users[int(event.data["user_id"])])
        elif kind.startswith("invoice."):
            invoice = reader.invoices[str(event.data["invoice_id"])]
            data["invoice"] = invoice_out(invoice_view(invoice))
            if kind == "invoice.delivery_failed":
                data["failure"] = {
                    "channel": API_CHANNELS.get(event.data["channel"], event.data["channel"]),
                    "error": event.data["error"],
                    "rule_ids": list(event.data["rule_ids"]),
                }
        else:
            data.update(event.data)
    except (KeyError, NotFound):
        # Gone again before we could read it: send what the event itself says.
        data.update(event.data)
    return data


def build_data(events: Sequence[Event]) -> list[dict[str, Any]]:
    """The ``data`` of each event, as things stand now."""
    if not events:
        return []
    reader = _Reader(events)
    return [event_data(event, reader) for event in events]
