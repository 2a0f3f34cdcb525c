"""Every write to a subscription: licences, storage, add-on purchases, edition scheduling.

Rules of PRODUCT.md kept here: 2 (timing), 3 (pro rata), 4 (licences vs active users),
5 (edition only by customer service, at the boundary), 6 (marketplace lock), 7 (prices of a
started period never change), 13 (history in the same transaction), 14 (refusals change
nothing). Entry points are durable transactions; ``*_locked`` helpers run inside them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from abonnement.accounts import permissions
from abonnement.catalog.models import (
    Edition,
    Feature,
    add_on_product,
    license_product,
    storage_product,
)
from abonnement.catalog.selectors import PriceBook, get_edition, price_book_on
from abonnement.core import clock
from abonnement.core.actor import Actor
from abonnement.core.errors import NotFound, PermissionDenied, ValidationFailed
from abonnement.core.events import Event, emit
from abonnement.core.money import ZERO, pro_rata, quantize
from abonnement.core.periods import PERIOD_MONTHS, Period, period_at
from abonnement.core.templatetags.portal import number
from abonnement.history.models import HistoryKind
from abonnement.history.services import record
from abonnement.orders.models import Order, OrderKind
from abonnement.orders.services import LineSpec, place_order
from abonnement.organizations.models import Organization
from abonnement.subscriptions.errors import BelowActiveUsers
from abonnement.subscriptions.models import (
    EditionChangeRequest,
    EditionRequestStatus,
    Subscription,
    SubscriptionAddOn,
)
from abonnement.subscriptions.selectors import (
    SubscriptionOverview,
    active_user_count,
    build_overview,
)

MAX_STORAGE_PACKS = 10_000


# --------------------------------------------------------------------------- locking


def lock_subscription(*, organization_id: UUID, now: datetime) -> Subscription:
    """Lock organisation → subscription (the house lock order) and catch up due periods.

    A change made after a period ended but before the rollover job ran must count for the
    period that has started (Rule 2), so a due subscription is rolled over here first.
    """
    from abonnement.subscriptions.rollover import roll_over_locked

    if not Organization.objects.select_for_update(no_key=True).filter(pk=organization_id).exists():
        raise NotFound(_("Organisation not found."))
    subscription = _select_locked(organization_id)
    today = clock.business_date(now)
    if subscription.current_period_end < today:
        while roll_over_locked([subscription.pk], now=now):
            pass
        subscription = _select_locked(organization_id)
    return subscription


def _select_locked(organization_id: UUID) -> Subscription:
    try:
        return (
            Subscription.objects.select_for_update(no_key=True, of=("self",))
            .select_related("organization", "edition", "next_edition", "storage_pack")
            .get(organization_id=organization_id)
        )
    except Subscription.DoesNotExist:
        raise NotFound(_("Subscription not found.")) from None


# --------------------------------------------------------------------------- quantities


@dataclass(frozen=True)
class QuantityPlan:
    """How a requested total changes the current and the next period."""

    current: int
    next: int
    line: LineSpec | None


@dataclass(frozen=True)
class ChangePreview:
    charge_now: Decimal
    charged_period: Period
    days: int
    period_days: int
    overview: SubscriptionOverview
    line: LineSpec | None


def charge_start(subscription: Subscription, today: date) -> date:
    """Charged from the day of the change; a change before the period starts pays it all."""
    return max(today, subscription.current_period_start)


def pro_rata_line(
    *,
    subscription: Subscription,
    product: str,
    description: str,
    quantity: int,
    unit_price: Decimal,
    today: date,
) -> LineSpec:
    period = subscription.current_period
    start = charge_start(subscription, today)
    days = period.days_from(start)
    amount = pro_rata(
        quantity=quantity,
        monthly_price=unit_price,
        months=subscription.period_months,
        days=days,
        period_days=period.days,
    )
    return LineSpec(
        product=product,
        description=f"{description} × {quantity}, {start.isoformat()}–{period.end.isoformat()} "
        f"({days}/{period.days} days)",
        quantity=Decimal(quantity),
        unit_price=unit_price,
        amount=amount,
        period=Period(start, period.end),
        days=days,
        period_days=period.days,
    )


def plan_quantity(
    *,
    subscription: Subscription,
    current: int,
    target: int,
    product: str,
    description: str,
    unit_price: Decimal,
    today: date,
) -> QuantityPlan:
    """Raise → buy the difference now, pro rata; equal → cancel a scheduled removal;
    lower → from the next period, no refund (Rules 2 and 3)."""
    if target > current:
        line = pro_rata_line(
            subscription=subscription,
            product=product,
            description=description,
            quantity=target - current,
            unit_price=unit_price,
            today=today,
        )
        return QuantityPlan(current=target, next=target, line=line)
    return QuantityPlan(current=current, next=target, line=None)


def _validate_count(value: object, *, field: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed.single(field, _("Enter a whole number."))
    if value < 0:
        raise ValidationFailed.single(field, _("The number cannot be negative."))
    if value > maximum:
        raise ValidationFailed.single(
            field, _("The number cannot be more than %(max)s.") % {"max": number(maximum)}
        )
    return value


def _license_plan(subscription: Subscription, target: int, *, today: date) -> QuantityPlan:
    active = active_user_count(subscription.organization_id)
    if target < active:
        raise BelowActiveUsers(active_users=active, requested=target)
    return plan_quantity(
        subscription=subscription,
        current=subscription.licenses,
        target=target,
        product=license_product(subscription.edition.code),
        description=f"User licences, {subscription.edition.name}",
        unit_price=subscription.license_unit_price,
        today=today,
    )


def _storage_plan(subscription: Subscription, target: int, *, today: date) -> QuantityPlan:
    pack = subscription.storage_pack
    return plan_quantity(
        subscription=subscription,
        current=subscription.storage_packs,
        target=target,
        product=storage_product(pack.code),
        description=f"File storage, {pack.name}",
        unit_price=subscription.storage_unit_price,
        today=today,
    )


def _preview(
    subscription: Subscription, plan: QuantityPlan, field: str, today: date
) -> ChangePreview:
    changed = copy.copy(subscription)
    setattr(changed, field, plan.current)
    setattr(changed, f"{field}_next", plan.next)
    overview = build_overview(changed)
    period = subscription.current_period
    start = charge_start(subscription, today)
    return ChangePreview(
        charge_now=plan.line.amount if plan.line else ZERO,
        charged_period=Period(start, period.end),
        days=period.days_from(start),
        period_days=period.days,
        overview=overview,
        line=plan.line,
    )


def _check_change(actor: Actor, organization: Organization) -> None:
    permissions.require(actor, organization, "manage_subscription")
    permissions.ensure_not_marketplace(actor, organization)


def preview_license_change(
    *, organization: Organization, licenses: object, actor: Actor, now: datetime
) -> ChangePreview:
    """What ``set_license_count`` would do; commits nothing (same errors as the change)."""
    target = _validate_count(licenses, field="licenses", maximum=settings.MAX_LICENSES)
    _check_change(actor, organization)
    with transaction.atomic():
        subscription = lock_subscription(organization_id=organization.pk, now=now)
        today = clock.business_date(now)
        result = _preview(
            subscription, _license_plan(subscription, target, today=today), "licenses", today
        )
        transaction.set_rollback(True)  # a catch-up rollover here is redone by the real change
    return result


@dataclass(frozen=True)
class ChangeResult:
    subscription: Subscription
    order: Order | None


def _apply_plan(
    *,
    subscription: Subscription,
    plan: QuantityPlan,
    field: str,
    kind: str,
    actor: Actor,
    now: datetime,
) -> Order | None:
    before = {
        "current": getattr(subscription, field),
        "next": getattr(subscription, f"{field}_next"),
    }
    after = {"current": plan.current, "next": plan.next}
    if before == after:
        return None
    order = None
    if plan.line is not None:
        order = place_order(
            subscription_id=subscription.pk,
            organization_id=subscription.organization_id,
            currency=subscription.organization.currency,
            kind=kind,
            period=subscription.current_period,
            lines=[plan.line],
            actor=actor,
            now=now,
        )
    setattr(subscription, field, plan.current)
    setattr(subscription, f"{field}_next", plan.next)
    subscription.updated_at = now
    subscription.save(update_fields=[field, f"{field}_next", "updated_at"])
    if plan.line is not None:
        action = "bought"
    elif plan.next == plan.current:
        action = "removal_cancelled"
    elif plan.next < before["next"]:
        action = "removal_scheduled"  # a removal, or a bigger one
    else:
        action = "removal_reduced"  # still a removal, a smaller one
    record(
        organization_id=subscription.organization_id,
        actor=actor,
        now=now,
        kind=HistoryKind.LICENSES,
        action=f"{field}_{action}",
        subject=field,
        before=before,
        after=after,
        reason=f"Order {order.number}" if order else "",
    )
    emit(Event("subscription.updated", str(subscription.organization_id), {}, at=now))
    return order


@transaction.atomic(durable=True)
def set_license_count(
    *, organization: Organization, licenses: object, actor: Actor, now: datetime
) -> ChangeResult:
    """Set the total number of user licences (PRODUCT.md "User licences", Rules 2–4)."""
    target = _validate_count(licenses, field="licenses", maximum=settings.MAX_LICENSES)
    _check_change(actor, organization)
    subscription = lock_subscription(organization_id=organization.pk, now=now)
    plan = _license_plan(subscription, target, today=clock.business_date(now))
    order = _apply_plan(
        subscription=subscription,
        plan=plan,
        field="licenses",
        kind=OrderKind.LICENSES,
        actor=actor,
        now=now,
    )
    return ChangeResult(subscription, order)


def preview_storage_change(
    *, organization: Organization, extra_packs: object, actor: Actor, now: datetime
) -> ChangePreview:
    target = _validate_count(extra_packs, field="extra_packs", maximum=MAX_STORAGE_PACKS)
    _check_change(actor, organization)
    with transaction.atomic():
        subscription = lock_subscription(organization_id=organization.pk, now=now)
        today = clock.business_date(now)
        result = _preview(
            subscription, _storage_plan(subscription, target, today=today), "storage_packs", today
        )
        transaction.set_rollback(True)
    return result


@transaction.atomic(durable=True)
def set_storage_packs(
    *, organization: Organization, extra_packs: object, actor: Actor, now: datetime
) -> ChangeResult:
    """Set the number of bought storage packs, with the licences' timing rules."""
    target = _validate_count(extra_packs, field="extra_packs", maximum=MAX_STORAGE_PACKS)
    _check_change(actor, organization)
    subscription = lock_subscription(organization_id=organization.pk, now=now)
    plan = _storage_plan(subscription, target, today=clock.business_date(now))
    order = _apply_plan(
        subscription=subscription,
        plan=plan,
        field="storage_packs",
        kind=OrderKind.STORAGE,
        actor=actor,
        now=now,
    )
    return ChangeResult(subscription, order)


# --------------------------------------------------------------------------- licences for users


def ensure_license_for_activation_locked(
    *, subscription: Subscription, buy_license: bool, actor: Actor, now: datetime
) -> Order | None:
    """Make room for one more active user (Rule 4), inside the caller's locked transaction.

    Needs a free licence now; the next period is raised as far as needed (cancelling part
    of a scheduled removal costs nothing, but changes the next period's subscription, so it
    needs the subscription permission and is not for marketplace organisations). Without a
    free licence, a user holding the subscription permission may buy one in the same step.
    """
    from abonnement.subscriptions.errors import NextPeriodShort, NoFreeLicense

    organization = subscription.organization
    active = active_user_count(organization.pk)
    if active < subscription.licenses:
        if subscription.licenses_next < active + 1:
            try:
                permissions.require(actor, organization, "manage_subscription")
            except PermissionDenied:
                raise NextPeriodShort(licenses_next=subscription.licenses_next) from None
            permissions.ensure_not_marketplace(actor, organization)
            _apply_plan(
                subscription=subscription,
                plan=QuantityPlan(subscription.licenses, active + 1, None),
                field="licenses",
                kind=OrderKind.LICENSES,
                actor=actor,
                now=now,
            )
        return None
    if not buy_license:
        raise NoFreeLicense()
    permissions.require(actor, organization, "manage_subscription")
    permissions.ensure_not_marketplace(actor, organization)
    if subscription.licenses + 1 > settings.MAX_LICENSES:
        raise ValidationFailed.single("licenses", _("The licence limit has been reached."))
    plan = _license_plan(subscription, subscription.licenses + 1, today=clock.business_date(now))
    plan = QuantityPlan(plan.current, max(subscription.licenses_next, active + 1), plan.line)
    return _apply_plan(
        subscription=subscription,
        plan=plan,
        field="licenses",
        kind=OrderKind.LICENSES,
        actor=actor,
        now=now,
    )


def remove_license_next_period_locked(
    *, subscription: Subscription, actor: Actor, now: datetime
) -> None:
    """Take one licence out of the next period (a deactivation that removes its licence)."""
    permissions.require(actor, subscription.organization, "manage_subscription")
    permissions.ensure_not_marketplace(actor, subscription.organization)
    target = subscription.licenses_next - 1
    active = active_user_count(subscription.organization_id)
    if target < active:
        raise BelowActiveUsers(active_users=active, requested=target)
    _apply_plan(
        subscription=subscription,
        plan=QuantityPlan(subscription.licenses, target, None),
        field="licenses",
        kind=OrderKind.LICENSES,
        actor=actor,
        now=now,
    )


# --------------------------------------------------------------------------- add-ons


def add_on_purchase_line(*, subscription: Subscription, feature: Feature, today: date) -> LineSpec:
    unit_price = _current_add_on_price(subscription, feature)
    return pro_rata_line(
        subscription=subscription,
        product=add_on_product(feature.code),
        description=f"Add-on, {feature.name}",
        quantity=1,
        unit_price=unit_price,
        today=today,
    )


def _current_add_on_price(subscription: Subscription, feature: Feature) -> Decimal:
    """Add-ons bought during a period cost what they cost at its start (Rule 7)."""
    from abonnement.catalog.errors import MissingPrice

    price = subscription.add_on_prices.get(feature.code)
    if price is None:
        raise MissingPrice(add_on_product(feature.code), subscription.organization.currency)
    return Decimal(price)


def add_on_price_snapshot(*, book: PriceBook, edition_id: int, currency: str) -> dict[str, str]:
    """The edition's paid add-ons at the prices of ``book``, as stored on the subscription."""
    from abonnement.catalog.models import Availability, FeatureAvailability

    codes = FeatureAvailability.objects.filter(
        edition_id=edition_id, availability=Availability.ADD_ON
    ).values_list("feature__code", flat=True)
    return {code: f"{book.price(add_on_product(code), currency):.4f}" for code in sorted(codes)}


def start_add_on_locked(
    *, subscription: Subscription, feature: Feature, actor: Actor, now: datetime
) -> Order | None:
    """Bill a paid add-on from now: an order unless it is already paid this period."""
    row, _created = SubscriptionAddOn.objects.get_or_create(
        subscription=subscription, feature=feature, defaults={"unit_price": Decimal("0")}
    )
    if row.in_current and row.in_next:
        return None  # already paid for now and next: nothing changes
    order = None
    if not row.in_current:
        line = add_on_purchase_line(
            subscription=subscription, feature=feature, today=clock.business_date(now)
        )
        order = place_order(
            subscription_id=subscription.pk,
            organization_id=subscription.organization_id,
            currency=subscription.organization.currency,
            kind=OrderKind.ADD_ON,
            period=subscription.current_period,
            lines=[line],
            actor=actor,
            now=now,
        )
        row.in_current = True
        row.unit_price = line.unit_price
    row.in_next = True
    row.save(update_fields=["in_current", "in_next", "unit_price"])
    # The subscription's add-ons and prices changed (API.md: subscription.updated).
    emit(Event("subscription.updated", str(subscription.organization_id), {}, at=now))
    return order


def stop_add_on_locked(*, subscription: Subscription, feature: Feature, now: datetime) -> None:
    """Stop billing from the next period; no refund for the current one."""
    stopped = SubscriptionAddOn.objects.filter(
        subscription=subscription, feature=feature, in_next=True
    ).update(in_next=False)
    if stopped:
        emit(Event("subscription.updated", str(subscription.organization_id), {}, at=now))


def preview_add_on(*, subscription: Subscription, feature: Feature, now: datetime) -> ChangePreview:
    """The preview for switching a paid add-on on; the caller holds no lock (read only)."""
    today = clock.business_date(now)
    row = SubscriptionAddOn.objects.filter(subscription=subscription, feature=feature).first()
    paid = row is not None and row.in_current
    line = (
        None
        if paid
        else add_on_purchase_line(subscription=subscription, feature=feature, today=today)
    )
    rows = list(
        SubscriptionAddOn.objects.filter(subscription=subscription).select_related("feature")
    )
    if row is None:
        row = SubscriptionAddOn(subscription=subscription, feature=feature)
        rows.append(row)
    for candidate in rows:
        if candidate.feature_id == feature.pk:
            if line is not None:
                candidate.in_current = True
                candidate.unit_price = line.unit_price
            candidate.in_next = True
    overview = build_overview(subscription, add_on_rows=rows)
    period = subscription.current_period
    start = charge_start(subscription, today)
    return ChangePreview(
        charge_now=line.amount if line else ZERO,
        charged_period=Period(start, period.end),
        days=period.days_from(start),
        period_days=period.days,
        overview=overview,
        line=line,
    )


# --------------------------------------------------------------------------- creation


def create_subscription_locked(
    *,
    organization: Organization,
    edition: Edition,
    licenses: int,
    period_months: int,
    start_date: date,
    actor: Actor,
    now: datetime,
) -> Subscription:
    """The first period and its order, at provisioning."""
    from abonnement.catalog.selectors import default_storage_pack

    if period_months not in PERIOD_MONTHS:
        raise ValidationFailed.single("period_months", _("Choose 1, 3, 6 or 12 months."))
    pack = default_storage_pack()
    book = price_book_on(start_date)
    period = period_at(start=start_date, months=period_months, anchor_day=start_date.day)
    license_price = book.price(license_product(edition.code), organization.currency)
    storage_price = book.price(storage_product(pack.code), organization.currency)
    subscription = Subscription.objects.create(
        organization=organization,
        period_months=period_months,
        anchor_day=start_date.day,
        current_period_start=period.start,
        current_period_end=period.end,
        edition=edition,
        licenses=licenses,
        licenses_next=licenses,
        storage_pack=pack,
        license_unit_price=license_price,
        storage_unit_price=storage_price,
        price_list_id=book.price_list_id,
        add_on_prices=add_on_price_snapshot(
            book=book, edition_id=edition.pk, currency=organization.currency
        ),
        updated_at=now,
    )
    quantity = Decimal(licenses * period_months)
    if licenses:
        place_order(
            subscription_id=subscription.pk,
            organization_id=organization.pk,
            currency=organization.currency,
            kind=OrderKind.RENEWAL,
            period=period,
            lines=[
                LineSpec(
                    product=license_product(edition.code),
                    description=f"User licences, {edition.name} × {licenses} "
                    f"× {period_months} {'month' if period_months == 1 else 'months'}",
                    quantity=quantity,
                    unit_price=license_price,
                    amount=quantize(quantity * license_price),
                    period=period,
                )
            ],
            actor=actor,
            now=now,
        )
    return subscription


# --------------------------------------------------------------------------- edition


def _edition_price_check(subscription: Subscription, edition: Edition) -> None:
    from abonnement.subscriptions.selectors import next_period_of

    book = price_book_on(next_period_of(subscription).start)
    book.price(license_product(edition.code), subscription.organization.currency)


@transaction.atomic(durable=True)
def schedule_edition_change(
    *,
    organization: Organization,
    edition: str,
    actor: Actor,
    now: datetime,
) -> Subscription:
    """Customer service (or the vendor's API) sets the next period's edition (Rule 5).

    Staff need the billing role; support staff schedule only by answering a customer's
    request (``decide_edition_request``)."""
    permissions.require_vendor_or_staff(actor, billing_role=True)
    return _schedule_edition_locked(
        organization=organization, edition_code=edition, actor=actor, now=now, reason=""
    )


def _schedule_edition_locked(
    *,
    organization: Organization,
    edition_code: str,
    actor: Actor,
    now: datetime,
    reason: str,
    skip_request_id: int | None = None,
) -> Subscription:
    target = get_edition(edition_code)
    subscription = lock_subscription(organization_id=organization.pk, now=now)
    _edition_price_check(subscription, target)
    before = (subscription.next_edition or subscription.edition).code
    if before == target.code:
        return subscription  # already what the next period holds: no change, no history
    subscription.next_edition = None if target.pk == subscription.edition_id else target
    subscription.updated_at = now
    subscription.save(update_fields=["next_edition", "updated_at"])
    record(
        organization_id=organization.pk,
        actor=actor,
        now=now,
        kind=HistoryKind.EDITION,
        action="edition_change_scheduled",
        subject=target.name,
        before={"next_edition": before},
        after={"next_edition": target.code},
        reason=reason,
    )
    _sync_edition_requests(subscription, actor=actor, now=now, skip_id=skip_request_id)
    emit(Event("subscription.updated", str(organization.pk), {}, at=now))
    return subscription


def _sync_edition_requests(
    subscription: Subscription, *, actor: Actor, now: datetime, skip_id: int | None = None
) -> None:
    """Keep the customer's edition-change requests truthful after the next edition changed.

    Runs under the subscription lock, after ``next_edition`` was saved. A request scheduled
    in this period for an edition the next period no longer has goes back to *Open*: it was
    not carried out, and a decline needs a message to the customer that only a person can
    write, so customer service answers it again. An open request for exactly the edition
    the next period now has is *Scheduled* (it is what happens). Requests scheduled in an
    earlier period were carried out by that period's rollover and are left alone. Each
    update is conditional on the status it read, so a concurrent answer is never
    overwritten.
    """
    target = subscription.next_edition or subscription.edition
    requests = EditionChangeRequest.objects.filter(
        organization_id=subscription.organization_id
    ).select_related("edition")
    stale = requests.filter(
        status=EditionRequestStatus.SCHEDULED,
        decided_at__gte=clock.start_of_day(subscription.current_period_start),
    ).exclude(edition_id=target.pk)
    for item in stale.order_by("id"):
        _move_request(
            subscription,
            item,
            EditionRequestStatus.SCHEDULED,
            {
                "status": EditionRequestStatus.OPEN,
                "response": "",
                "decided_at": None,
                "decided_by": "",
            },
            action="edition_request_reopened",
            before={"status": EditionRequestStatus.SCHEDULED.value, "response": item.response},
            after={"status": EditionRequestStatus.OPEN.value, "request_id": item.pk},
            actor=actor,
            now=now,
        )
    fulfilled = requests.filter(status=EditionRequestStatus.OPEN, edition_id=target.pk)
    if skip_id is not None:
        fulfilled = fulfilled.exclude(pk=skip_id)
    for item in fulfilled.order_by("id"):
        _move_request(
            subscription,
            item,
            EditionRequestStatus.OPEN,
            {
                "status": EditionRequestStatus.SCHEDULED,
                "response": "",
                "decided_at": now,
                "decided_by": actor.name,
            },
            action="edition_request_scheduled",
            before={"status": EditionRequestStatus.OPEN.value},
            after={
                "status": EditionRequestStatus.SCHEDULED.value,
                "response": "",
                "request_id": item.pk,
            },
            actor=actor,
            now=now,
        )


def _move_request(
    subscription: Subscription,
    item: EditionChangeRequest,
    expected: str,
    changes: dict[str, Any],
    *,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
    actor: Actor,
    now: datetime,
) -> None:
    """One request to a new status, only if it still has the one it was read with (a
    concurrent answer is never overwritten), with its history entry."""
    if EditionChangeRequest.objects.filter(pk=item.pk, status=expected).update(**changes):
        record(
            organization_id=subscription.organization_id,
            actor=actor,
            now=now,
            kind=HistoryKind.EDITION,
            action=action,
            subject=item.edition.name,
            before=before,
            after=after,
        )


@transaction.atomic(durable=True)
def cancel_edition_change(
    *, organization: Organization, actor: Actor, now: datetime
) -> Subscription:
    permissions.require_vendor_or_staff(actor, billing_role=True)
    subscription = lock_subscription(organization_id=organization.pk, now=now)
    if subscription.next_edition_id is None:
        raise ValidationFailed.single("edition", _("No edition change is scheduled."))
    before = subscription.next_edition.code if subscription.next_edition else None
    subscription.next_edition = None
    subscription.updated_at = now
    subscription.save(update_fields=["next_edition", "updated_at"])
    record(
        organization_id=organization.pk,
        actor=actor,
        now=now,
        kind=HistoryKind.EDITION,
        action="edition_change_cancelled",
        before={"next_edition": before},
        after={"next_edition": subscription.edition.code},
    )
    _sync_edition_requests(subscription, actor=actor, now=now)
    emit(Event("subscription.updated", str(organization.pk), {}, at=now))
    return subscription


@transaction.atomic(durable=True)
def request_edition_change(
    *, organization: Organization, edition: str, message: str, actor: Actor, now: datetime
) -> EditionChangeRequest:
    """An administrator asks customer service for another edition."""
    permissions.require(actor, organization, "manage_subscription")
    permissions.ensure_not_marketplace(actor, organization)
    target = get_edition(edition)
    text = (message or "").strip()
    if len(text) > 2000:
        raise ValidationFailed.single("message", _("Keep the message under 2,000 characters."))
    subscription = lock_subscription(organization_id=organization.pk, now=now)
    if target.pk == (subscription.next_edition_id or subscription.edition_id):
        raise ValidationFailed.single(
            "edition",
            _("The next period already has the edition %(name)s.") % {"name": target.name},
        )
    request = EditionChangeRequest.objects.create(
        organization=organization,
        edition=target,
        message=text,
        requested_by=actor.name,
        requested_by_user=actor.user,
        created_at=now,
    )
    record(
        organization_id=organization.pk,
        actor=actor,
        now=now,
        kind=HistoryKind.EDITION,
        action="edition_change_requested",
        subject=target.name,
        before={"edition": subscription.edition.code},
        after={"requested_edition": target.code, "request_id": request.pk},
        reason=text[:500],
    )
    return request


@transaction.atomic(durable=True)
def decide_edition_request(
    *, request_id: int, schedule: bool, response: str, actor: Actor, now: datetime
) -> EditionChangeRequest:
    """Customer service schedules or declines a request; the customer sees the answer."""
    permissions.require_vendor_or_staff(actor)
    try:
        request = EditionChangeRequest.objects.select_related("organization", "edition").get(
            pk=request_id
        )
    except EditionChangeRequest.DoesNotExist:
        raise NotFound(_("Edition-change request not found.")) from None
    if request.status != EditionRequestStatus.OPEN:
        raise ValidationFailed.single("status", _("This request has already been answered."))
    text = (response or "").strip()
    if len(text) > 2000:
        raise ValidationFailed.single("response", _("Keep the message under 2,000 characters."))
    if not schedule and not text:
        raise ValidationFailed.single(
            "response", _("Tell the customer why the request is declined.")
        )
    if schedule:
        _schedule_edition_locked(
            organization=request.organization,
            edition_code=request.edition.code,
            actor=actor,
            now=now,
            reason=f"Edition-change request {request.pk}",
            skip_request_id=request.pk,
        )
    # Conditional on still being open: of two agents answering at once, the second one's
    # UPDATE waits for the first's row lock, then matches nothing and is refused (its
    # scheduling above rolls back with it).
    answered = EditionChangeRequest.objects.filter(
        pk=request.pk, status=EditionRequestStatus.OPEN
    ).update(
        status=EditionRequestStatus.SCHEDULED if schedule else EditionRequestStatus.DECLINED,
        response=text,
        decided_at=now,
        decided_by=actor.name,
    )
    if not answered:
        raise ValidationFailed.single("status", _("This request has already been answered."))
    request.refresh_from_db()
    record(
        organization_id=request.organization_id,
        actor=actor,
        now=now,
        kind=HistoryKind.EDITION,
        action="edition_request_scheduled" if schedule else "edition_request_declined",
        subject=request.edition.name,
        before={"status": EditionRequestStatus.OPEN.value},
        after={"status": request.status, "response": text},
    )
    return request
