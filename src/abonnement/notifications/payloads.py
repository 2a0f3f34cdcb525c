"""Webhook payloads: ``{"type", "timestamp", "data"}`` where ``data`` carries the changed
object exactly as the API shows it (the same presenters), read once the change committed;
``timestamp`` is when the change happened.

A batch of events is read with a fixed number of queries per event type, whatever the
number of events and organisations (a rollover publishes thousands at once); only feature
events, which come a few at a time, are read per organisation.
"""

from __future__ import annotations

from collections.abc import Sequence
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
        self._subscriptions: dict[str, dict[str, Any]] = {}
        self._features: dict[str, dict[str, dict[str, Any]]] = {}

    def subscription(self, organization_id: str) -> dict[str, Any]:
        from abonnement.subscriptions.schemas import subscription_out

        if organization_id not in self._subscriptions:
            overview = self.overviews[UUID(organization_id)]  # KeyError: no subscription
            self._subscriptions[organization_id] = subscription_out(overview)
        return self._subscriptions[organization_id]

    def feature(self, organization_id: str, code: str) -> dict[str, Any] | None:
        from abonnement.features.schemas import feature_out
        from abonnement.features.selectors import feature_states
        from abonnement.subscriptions.selectors import get_subscription

        if organization_id not in self._features:
            subscription = get_subscription(UUID(organization_id))
            self._features[organization_id] = {
                state.feature.code: feature_out(state)
                for state in feature_states(subscription=subscription)
            }
        return self._features[organization_id].get(code)


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


def build_payloads(events: Sequence[Event]) -> list[dict[str, Any]]:
    reader = _Reader(events)
    return [
        {"type": event.type, "timestamp": event.at, "data": event_data(event, reader)}
        for event in events
    ]
