"""The subscription overview, previews and edition requests as the API shows them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import Field, StrictInt

from abonnement.catalog.models import Edition
from abonnement.core.schemas import ApiInput, Money, PeriodOut, money, period_out
from abonnement.orders.schemas import OrderOut
from abonnement.organizations.schemas import PurchaseChannelOut, purchase_channel_out
from abonnement.subscriptions.models import EditionChangeRequest
from abonnement.subscriptions.selectors import PeriodView, SubscriptionOverview
from abonnement.subscriptions.services import ChangePreview


class EditionRefOut(Schema):
    code: str
    name: str


class StorageOut(Schema):
    included_gb: int
    extra_gb: int
    total_gb: int
    used_gb: float | None = Field(
        description="Current period only: the storage in use as the vendor's product last "
        "reported it (PUT …/usage); null until the first report."
    )
    reported_at: datetime | None = Field(
        description="Current period only: when ``used_gb`` was reported; null until then."
    )


class PeriodViewOut(Schema):
    period: PeriodOut
    edition: EditionRefOut
    licenses: int
    free_licenses: int | None = Field(description="Current period only.")
    storage: StorageOut
    add_ons: list[str]
    monthly_price: Money
    total_price: Money


class SubscriptionOut(Schema):
    organization_id: str
    currency: str
    purchase_channel: PurchaseChannelOut
    managed_by_marketplace: bool
    period_months: int
    active_users: int
    change_deadline: datetime = Field(
        description="Changes made until this instant count for the next period."
    )
    current_period: PeriodViewOut
    next_period: PeriodViewOut


def edition_ref(edition: Edition) -> dict[str, str]:
    return {"code": edition.code, "name": edition.name}


def period_view_out(view: PeriodView) -> dict[str, Any]:
    return {
        "period": period_out(view.period),
        "edition": edition_ref(view.edition),
        "licenses": view.licenses,
        "free_licenses": view.free_licenses,
        "storage": {
            "included_gb": view.included_storage_gb,
            "extra_gb": view.extra_storage_gb,
            "total_gb": view.total_storage_gb,
            "used_gb": (
                None
                if view.used_storage_gb is None or view.used_storage_reported_at is None
                else float(view.used_storage_gb)
            ),
            "reported_at": view.used_storage_reported_at,
        },
        "add_ons": [add_on.code for add_on in view.add_ons],
        "monthly_price": money(view.monthly_price),
        "total_price": money(view.total_price),
    }


def subscription_out(overview: SubscriptionOverview) -> dict[str, Any]:
    subscription = overview.subscription
    return {
        "organization_id": str(subscription.organization_id),
        "currency": overview.currency,
        "purchase_channel": purchase_channel_out(subscription.organization),
        "managed_by_marketplace": overview.managed_by_marketplace,
        "period_months": subscription.period_months,
        "active_users": overview.active_users,
        "change_deadline": overview.change_deadline,
        "current_period": period_view_out(overview.current),
        "next_period": period_view_out(overview.next),
    }


class LicensesIn(ApiInput):
    licenses: StrictInt


class StorageIn(ApiInput):
    extra_packs: StrictInt


class UsageIn(ApiInput):
    storage_used_gb: Decimal = Field(
        description="The storage in use in GB, 0 to 999999999.999, at most three decimals.",
        examples=[12.5],
    )


class SubscriptionChangeOut(Schema):
    subscription: SubscriptionOut
    order: OrderOut | None


class PreviewOut(Schema):
    currency: str
    charge_now: Money
    charged_period: PeriodOut
    days: int
    period_days: int
    current_period: PeriodViewOut
    next_period: PeriodViewOut


def preview_out(preview: ChangePreview) -> dict[str, Any]:
    return {
        "currency": preview.overview.currency,
        "charge_now": money(preview.charge_now),
        "charged_period": period_out(preview.charged_period),
        "days": preview.days,
        "period_days": preview.period_days,
        "current_period": period_view_out(preview.overview.current),
        "next_period": period_view_out(preview.overview.next),
    }


class EditionRequestIn(ApiInput):
    edition: str
    message: str = ""


class EditionRequestOut(Schema):
    id: str
    edition: EditionRefOut
    message: str
    status: Literal["open", "scheduled", "declined"]
    response: str
    requested_by: str
    created_at: datetime
    decided_at: datetime | None


class EditionRequestList(Schema):
    data: list[EditionRequestOut]
    next_cursor: str | None


def edition_request_out(request: EditionChangeRequest) -> dict[str, Any]:
    return {
        "id": str(request.pk),
        "edition": edition_ref(request.edition),
        "message": request.message,
        "status": request.status,
        "response": request.response,
        "requested_by": request.requested_by,
        "created_at": request.created_at,
        "decided_at": request.decided_at,
    }


class NextEditionIn(ApiInput):
    edition: str


class ClockOut(Schema):
    now: datetime


class ClockIn(ApiInput):
    now: datetime = Field(description="Forward only, with a time zone.")


class ClockAdvanceOut(Schema):
    now: datetime
    transitions: int = Field(description="Period transitions run on the way.")
    subscriptions: int
    orders: int
