"""The subscription: overview, licences, storage, edition requests and scheduling, and the
simulated clock (API.md "Subscription", "Clock")."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from abonnement.accounts import permissions
from abonnement.accounts.api import VendorTokenInOrganization
from abonnement.config.api_auth import caller_of, organization_for, request_now, vendor_token
from abonnement.config.api_common import PageQuery, paginate
from abonnement.config.api_errors import responses
from abonnement.core import clock
from abonnement.core.errors import NotFound, ValidationFailed
from abonnement.orders.schemas import order_or_none
from abonnement.subscriptions import services
from abonnement.subscriptions.rollover import advance_clock
from abonnement.subscriptions.schemas import (
    ClockAdvanceOut,
    ClockIn,
    ClockOut,
    EditionRequestIn,
    EditionRequestList,
    EditionRequestOut,
    LicensesIn,
    NextEditionIn,
    PreviewOut,
    StorageIn,
    SubscriptionChangeOut,
    SubscriptionOut,
    UsageIn,
    edition_request_out,
    preview_out,
    subscription_out,
)
from abonnement.subscriptions.selectors import edition_requests_of, subscription_overview
from abonnement.subscriptions.usage import report_usage

router = Router(tags=["Subscription"])
clock_router = Router(tags=["Clock"])

# One request moves the demo clock at most this far: it runs every rollover on the way.
MAX_CLOCK_STEP = timedelta(days=3 * 366)


def _subscription(organization_id: Any) -> dict[str, Any]:
    return subscription_out(subscription_overview(organization_id=organization_id))


@router.get(
    "/organizations/{org}/subscription",
    response=responses({200: SubscriptionOut}),
    summary="Read the subscription",
)
def get_subscription(request: HttpRequest, org: str) -> Any:
    """The current and the next billing period side by side."""
    _caller, organization = organization_for(request, org, permission="manage_subscription")
    return _subscription(organization.pk)


@router.put(
    "/organizations/{org}/subscription/licenses",
    response=responses({200: SubscriptionChangeOut}, write=True),
    summary="Set the number of licences",
)
def set_licenses(request: HttpRequest, org: str, payload: LicensesIn) -> Any:
    """Raising buys the difference now (an order, pro rata); lowering applies from the next
    period; never below the active users."""
    caller, organization = organization_for(request, org)
    result = services.set_license_count(
        organization=organization, licenses=payload.licenses, actor=caller.actor, now=caller.now
    )
    return {"subscription": _subscription(organization.pk), "order": order_or_none(result.order)}


@router.post(
    "/organizations/{org}/subscription/licenses/preview",
    response=responses({200: PreviewOut}, write=True),
    summary="Preview a licence change",
)
def preview_licenses(request: HttpRequest, org: str, payload: LicensesIn) -> Any:
    """What the PUT would do, with the same errors; commits nothing (scope read)."""
    caller, organization = organization_for(request, org)
    preview = services.preview_license_change(
        organization=organization, licenses=payload.licenses, actor=caller.actor, now=caller.now
    )
    return preview_out(preview)


@router.put(
    "/organizations/{org}/subscription/storage",
    response=responses({200: SubscriptionChangeOut}, write=True),
    summary="Set the number of storage packs",
)
def set_storage(request: HttpRequest, org: str, payload: StorageIn) -> Any:
    """The licences' timing rules: more packs now (pro rata), fewer from the next period."""
    caller, organization = organization_for(request, org)
    result = services.set_storage_packs(
        organization=organization,
        extra_packs=payload.extra_packs,
        actor=caller.actor,
        now=caller.now,
    )
    return {"subscription": _subscription(organization.pk), "order": order_or_none(result.order)}


@router.post(
    "/organizations/{org}/subscription/storage/preview",
    response=responses({200: PreviewOut}, write=True),
    summary="Preview a storage change",
)
def preview_storage(request: HttpRequest, org: str, payload: StorageIn) -> Any:
    caller, organization = organization_for(request, org)
    preview = services.preview_storage_change(
        organization=organization,
        extra_packs=payload.extra_packs,
        actor=caller.actor,
        now=caller.now,
    )
    return preview_out(preview)


@router.post(
    "/organizations/{org}/edition-requests",
    response=responses({201: EditionRequestOut}, write=True),
    summary="Ask customer service for another edition",
)
def request_edition(request: HttpRequest, org: str, payload: EditionRequestIn) -> Any:
    caller, organization = organization_for(request, org)
    edition_request = services.request_edition_change(
        organization=organization,
        edition=payload.edition,
        message=payload.message,
        actor=caller.actor,
        now=caller.now,
    )
    return Status(201, edition_request_out(edition_request))


@router.get(
    "/organizations/{org}/edition-requests",
    response=responses({200: EditionRequestList}),
    summary="List edition-change requests",
)
def list_edition_requests(request: HttpRequest, org: str, page: Query[PageQuery]) -> Any:
    _caller, organization = organization_for(request, org, permission="manage_subscription")
    return paginate(
        edition_requests_of(organization_id=organization.pk),
        fields=("created_at", "id"),
        limit=page.limit,
        cursor=page.cursor,
        present=edition_request_out,
    )


@router.put(
    "/organizations/{org}/subscription/next-edition",
    response=responses({200: SubscriptionOut}, write=True),
    summary="Schedule the next period's edition (vendor)",
)
def schedule_next_edition(request: HttpRequest, org: str, payload: NextEditionIn) -> Any:
    caller, organization = organization_for(request, org)
    services.schedule_edition_change(
        organization=organization, edition=payload.edition, actor=caller.actor, now=caller.now
    )
    return _subscription(organization.pk)


@router.delete(
    "/organizations/{org}/subscription/next-edition",
    response=responses({200: SubscriptionOut}, write=True),
    summary="Cancel a scheduled edition change (vendor)",
)
def cancel_next_edition(request: HttpRequest, org: str) -> Any:
    caller, organization = organization_for(request, org)
    services.cancel_edition_change(organization=organization, actor=caller.actor, now=caller.now)
    return _subscription(organization.pk)


@router.put(
    "/organizations/{org}/usage",
    auth=[VendorTokenInOrganization()],
    response=responses({200: SubscriptionOut}, write=True),
    summary="Report the storage in use (vendor)",
)
def put_usage(request: HttpRequest, org: str, payload: UsageIn) -> Any:
    """The vendor's product reports how much storage the organisation uses, in GB (0 to
    999999999.999, at most three decimals). The subscription then shows it as
    ``storage.used_gb`` of the current period, with ``reported_at``."""
    caller, organization = organization_for(request, org)
    report_usage(
        organization=organization,
        storage_used_gb=payload.storage_used_gb,
        actor=caller.actor,
        now=caller.now,
    )
    return _subscription(organization.pk)


@clock_router.get("/clock", response=responses({200: ClockOut}), summary="Read the clock")
def get_clock(request: HttpRequest) -> Any:
    """Only where the simulated clock is switched on (ABONNEMENT_SIMULATED_CLOCK=1)."""
    if not clock.simulated():
        raise NotFound(_("The clock is real here; it cannot be read or set over the API."))
    return {"now": request_now(request)}


@clock_router.post(
    "/clock",
    auth=[vendor_token],
    response=responses({200: ClockAdvanceOut}, write=True),
    summary="Move the clock",
)
def move_clock(request: HttpRequest, payload: ClockIn) -> Any:
    """Forward only (vendor); runs every period transition on the way before it answers."""
    caller = caller_of(request)
    if not clock.simulated():
        raise NotFound(_("The clock is real here; it cannot be read or set over the API."))
    permissions.require_vendor_or_staff(caller.actor)
    target = payload.now
    if target.tzinfo is not None:
        try:
            target = target.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationFailed.single("now", _("Give an instant in years 1–9999.")) from None
    if target.tzinfo is not None and target - caller.now > MAX_CLOCK_STEP:
        raise ValidationFailed.single("now", _("Move the clock at most three years per request."))
    result = advance_clock(to=target, now=caller.now)
    return {
        "now": target,
        "transitions": result.transitions,
        "subscriptions": result.subscriptions,
        "orders": result.orders,
    }
