"""The period rollover: next becomes current, a renewal order per subscription and period.

Contract (PRODUCT.md Rules 1, 2, 5, 7, 8, 9):
- A subscription is due when its current period ended before today (business time zone).
- Each transition moves exactly one period; a subscription that missed several periods is
  caught up period by period (each pass of the loop picks up what is still due).
- Exactly once: every batch is one transaction that claims its rows with
  ``FOR UPDATE SKIP LOCKED`` (any number of workers may run at once) and the unique
  constraint "one renewal order per subscription and period" makes a duplicate impossible.
- Set-based: a batch is read with a handful of queries, computed in memory, and written with
  bulk statements (COPY on PostgreSQL, executemany on SQLite) and one ``UPDATE … FROM``.
  No per-row ORM save on this path.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from abonnement.catalog.models import (
    Availability,
    Edition,
    Feature,
    StoragePack,
    add_on_product,
    license_product,
    storage_product,
)
from abonnement.catalog.selectors import (
    PriceBook,
    availability_map,
    price_book,
    price_list_in_force,
)
from abonnement.core import clock
from abonnement.core.actor import Actor
from abonnement.core.counters import take_numbers
from abonnement.core.errors import ValidationFailed
from abonnement.core.events import Event, emit_many, has_listeners
from abonnement.core.models import SimulatedClock
from abonnement.core.money import format_amount, quantize
from abonnement.core.periods import Period, next_period
from abonnement.features.models import FeatureSwitch
from abonnement.history.models import HistoryEntry, HistoryKind
from abonnement.orders.models import Order, OrderKind, OrderLine
from abonnement.orders.services import ORDER_COUNTER
from abonnement.subscriptions.models import Subscription, SubscriptionAddOn

ProgressCallback = Callable[[int, int], None]


class _History(NamedTuple):
    """A history row written in bulk; actor and time are the batch's."""

    organization_id: Any
    kind: str
    action: str
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str = ""


@dataclass
class RolloverResult:
    transitions: int = 0
    subscriptions: int = 0
    orders: int = 0
    batches: int = 0
    seconds: float = 0.0
    due: int = 0
    dry_run: bool = False
    rolled_ids: set[int] = field(default_factory=set)

    def summary(self) -> str:
        if self.dry_run:
            return (
                f"dry run: {self.due} subscriptions due, {self.transitions} period "
                f"transitions would run; nothing was changed"
            )
        return (
            f"{self.transitions} period transitions for {self.subscriptions} subscriptions, "
            f"{self.orders} renewal orders, {self.batches} batches, {self.seconds:.2f} s"
        )


class _Catalog:
    """The catalogue read once per rollover run (it is small and changes rarely)."""

    def __init__(self) -> None:
        self.editions = {e.pk: e for e in Edition.objects.all()}
        self.features = {f.pk: f for f in Feature.objects.prefetch_related("requires")}
        self.packs = {p.pk: p for p in StoragePack.objects.all()}
        self.availability = availability_map()
        self._books: dict[int, PriceBook] = {}
        self._lists: dict[date, int] = {}

    def book_on(self, day: date) -> PriceBook:
        list_id = self._lists.get(day)
        if list_id is None:
            list_id = price_list_in_force(day).pk
            self._lists[day] = list_id
        book = self._books.get(list_id)
        if book is None:
            book = price_book(list_id)
            self._books[list_id] = book
        return book

    def offer(self, edition_id: int, feature_id: int) -> str:
        return self.availability.get((edition_id, feature_id), Availability.UNAVAILABLE)


# ---------------------------------------------------------------------------- entry points


def roll_over_subscriptions(
    *,
    now: datetime,
    batch_size: int | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> RolloverResult:
    """Run every due period transition at ``now``; safe to run from many workers at once."""
    started = time.perf_counter()
    today = clock.business_date(now)
    if dry_run:
        return _dry_run(today)
    size = batch_size or settings.ROLLOVER_BATCH_SIZE
    result = RolloverResult()
    catalog = _Catalog()
    while True:
        with transaction.atomic(durable=True):
            ids = _claim(today, size)
            if not ids:
                break
            rolled, orders = _roll_batch(ids, now=now, today=today, catalog=catalog)
        result.batches += 1
        result.transitions += rolled
        result.orders += orders
        result.rolled_ids.update(ids)
        if progress is not None:
            progress(result.transitions, result.orders)
    result.subscriptions = len(result.rolled_ids)
    result.seconds = time.perf_counter() - started
    return result


def roll_over_locked(ids: Sequence[int], *, now: datetime) -> int:
    """Roll the given (already locked) subscriptions one period if due; inside a transaction."""
    today = clock.business_date(now)
    due = list(
        Subscription.objects.filter(pk__in=ids, current_period_end__lt=today).values_list(
            "pk", flat=True
        )
    )
    if not due:
        return 0
    rolled, _orders = _roll_batch(due, now=now, today=today, catalog=_Catalog())
    return rolled


def advance_clock(
    *, to: datetime, now: datetime, progress: ProgressCallback | None = None
) -> RolloverResult:
    """Move the simulated clock forward to ``to`` and run the rollovers that fall in between."""
    if not clock.simulated():
        raise ValidationFailed.single(
            "now", _("The clock can only be set when ABONNEMENT_SIMULATED_CLOCK=1.")
        )
    if to.tzinfo is None:
        raise ValidationFailed.single(
            "now", _("Give the instant with a time zone, e.g. 2027-01-01T00:00:00Z.")
        )
    to = to.astimezone(UTC)
    if to < now:
        raise ValidationFailed.single(
            "now",
            _("The clock only moves forward; it is %(now)s.") % {"now": now.isoformat()},
        )
    with transaction.atomic(durable=True):
        SimulatedClock.objects.update_or_create(pk=1, defaults={"now": to})
    return roll_over_subscriptions(now=to, progress=progress)


# ---------------------------------------------------------------------------- claim


def _claim(today: date, size: int) -> list[int]:
    # Ordered like the (current_period_end, id) index, so each claim reads only due rows.
    query = Subscription.objects.filter(current_period_end__lt=today).order_by(
        "current_period_end", "pk"
    )
    if connection.features.has_select_for_update_skip_locked:
        query = query.select_for_update(skip_locked=True, no_key=True)
    return list(query.values_list("pk", flat=True)[:size])


def _dry_run(today: date) -> RolloverResult:
    result = RolloverResult(dry_run=True)
    groups = (
        Subscription.objects.filter(current_period_end__lt=today)
        .values("current_period_start", "current_period_end", "period_months", "anchor_day")
        .annotate(n=Count("pk"))
    )
    for group in groups:
        period = Period(group["current_period_start"], group["current_period_end"])
        steps = 0
        while period.end < today:
            period = next_period(
                period, months=group["period_months"], anchor_day=group["anchor_day"]
            )
            steps += 1
        result.due += group["n"]
        result.transitions += steps * group["n"]
    return result


# ---------------------------------------------------------------------------- one batch


def _roll_batch(
    ids: Sequence[int], *, now: datetime, today: date, catalog: _Catalog
) -> tuple[int, int]:
    """One transition for each subscription in ``ids``. Returns (transitions, orders)."""
    rows = list(
        Subscription.objects.filter(pk__in=ids, current_period_end__lt=today).values_list(
            "pk",
            "organization_id",
            "organization__currency",
            "period_months",
            "anchor_day",
            "current_period_start",
            "current_period_end",
            "edition_id",
            "next_edition_id",
            "licenses",
            "licenses_next",
            "storage_pack_id",
            "storage_packs",
            "storage_packs_next",
        )
    )
    if not rows:
        return 0, 0
    add_ons: dict[int, list[tuple[int, bool]]] = {}
    for sub_id, feature_id, in_next in SubscriptionAddOn.objects.filter(
        subscription_id__in=[r[0] for r in rows]
    ).values_list("subscription_id", "feature_id", "in_next"):
        add_ons.setdefault(sub_id, []).append((feature_id, in_next))

    actor = Actor.system(_("Period rollover"))
    periods: dict[tuple[date, date, int, int], Period] = {}
    updates: list[tuple[Any, ...]] = []
    orders: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    kept_add_ons: list[tuple[Any, ...]] = []
    history: list[_History] = []
    events: list[Event] = []
    edition_changes: list[tuple[Any, int, int, Period]] = []
    paid_add_ons: set[tuple[Any, int]] = set()
    publish = has_listeners()

    for (
        sub_id,
        org_id,
        currency,
        months,
        anchor,
        start,
        end,
        edition_id,
        next_edition_id,
        licenses,
        licenses_next,
        pack_id,
        packs,
        packs_next,
    ) in rows:
        kept_from = len(kept_add_ons)
        key = (start, end, months, anchor)
        period = periods.get(key)
        if period is None:
            period = next_period(Period(start, end), months=months, anchor_day=anchor)
            periods[key] = period
        new_edition_id = next_edition_id or edition_id
        edition = catalog.editions[new_edition_id]
        pack = catalog.packs[pack_id]
        book = catalog.book_on(period.start)
        license_price = book.price(license_product(edition.code), currency)
        storage_price = book.price(storage_product(pack.code), currency)
        order_id = uuid.uuid4()
        order_lines: list[tuple[str, str, Decimal, Decimal, Decimal]] = []
        if licenses_next:
            quantity = Decimal(licenses_next * months)
            order_lines.append(
                (
                    license_product(edition.code),
                    f"User licences, {edition.name} × {licenses_next} × {months} months",
                    quantity,
                    license_price,
                    quantize(quantity * license_price),
                )
            )
        if packs_next:
            quantity = Decimal(packs_next * months)
            order_lines.append(
                (
                    storage_product(pack.code),
                    f"File storage, {pack.name} × {packs_next} × {months} months",
                    quantity,
                    storage_price,
                    quantize(quantity * storage_price),
                )
            )
        for feature_id, in_next in add_ons.get(sub_id, ()):
            if not in_next or catalog.offer(new_edition_id, feature_id) != Availability.ADD_ON:
                continue
            feature = catalog.features[feature_id]
            price = book.price(add_on_product(feature.code), currency)
            kept_add_ons.append((sub_id, feature_id, True, True, price))
            order_lines.append(
                (
                    add_on_product(feature.code),
                    f"Add-on, {feature.name} × {months} months",
                    Decimal(months),
                    price,
                    quantize(months * price),
                )
            )
        total = sum((line[4] for line in order_lines), Decimal("0.00"))
        if order_lines:
            orders.append((order_id, org_id, sub_id, period, currency, total))
            for position, (product, description, quantity, unit_price, amount) in enumerate(
                order_lines, start=1
            ):
                lines.append(
                    (order_id, position, product, description, quantity, unit_price, amount, period)
                )
        updates.append(
            (
                sub_id,
                period.start,
                period.end,
                new_edition_id,
                licenses_next,
                licenses_next,
                packs_next,
                packs_next,
                license_price,
                storage_price,
                book.price_list_id,
            )
        )
        history.append(
            _History(
                organization_id=org_id,
                kind=HistoryKind.PERIOD,
                action="period_rolled_over",
                subject=f"{period.start.isoformat()}–{period.end.isoformat()}",
                before={
                    "period": {"start": start.isoformat(), "end": end.isoformat()},
                    "edition": catalog.editions[edition_id].code,
                    "licenses": licenses,
                    "storage_packs": packs,
                },
                after={
                    "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
                    "edition": edition.code,
                    "licenses": licenses_next,
                    "storage_packs": packs_next,
                    "total": format_amount(total),
                    "currency": currency,
                },
            )
        )
        if publish:
            events.append(
                Event(
                    "subscription.renewed",
                    str(org_id),
                    {"period": {"start": period.start.isoformat(), "end": period.end.isoformat()}},
                )
            )
        if new_edition_id != edition_id:
            edition_changes.append((org_id, edition_id, new_edition_id, period))
            paid_add_ons.update(
                (org_id, row[1]) for row in kept_add_ons[kept_from:] if row[0] == sub_id
            )

    first_number = take_numbers(ORDER_COUNTER, len(orders)) if orders else 0
    order_rows = []
    for offset, (order_id, org_id, sub_id, period, currency, total) in enumerate(orders):
        order_rows.append(
            (
                order_id,
                first_number + offset,
                org_id,
                sub_id,
                OrderKind.RENEWAL.value,
                now,
                period.start,
                period.end,
                currency,
                total,
                actor.name,
            )
        )
        events.append(Event("order.created", str(org_id), {"order_id": str(order_id)}))
    # The history entry of each transition names its renewal order.
    number_by_subscription = {row[3]: row[1] for row in order_rows}
    for entry, update in zip(history, updates, strict=True):
        assert isinstance(entry.after, dict)
        entry.after["order_number"] = number_by_subscription.get(update[0])

    writer = _BulkWriter()
    writer.update_subscriptions(updates, now)
    writer.replace_add_ons([r[0] for r in updates], kept_add_ons)
    writer.insert_orders(order_rows)
    writer.insert_lines(lines)
    if edition_changes:
        history.extend(
            _switch_features_for_editions(
                edition_changes, paid_add_ons, now=now, actor=actor, catalog=catalog
            )
        )
        Subscription.objects.filter(pk__in=[r[0] for r in updates]).update(next_edition=None)
    writer.insert_history(history, actor=actor, now=now)
    emit_many(events)
    return len(updates), len(order_rows)


def _switch_features_for_editions(
    changes: list[tuple[Any, int, int, Period]],
    paid_add_ons: set[tuple[Any, int]],
    *,
    now: datetime,
    actor: Actor,
    catalog: _Catalog,
) -> list[_History]:
    """Rule 5 at the boundary: off what the new edition lacks, on what it adds.

    A feature the new edition offers only as a paid add-on stays on only if the next period
    pays for it; it is never switched on, or kept on, at a price nobody agreed to.

    Edition changes are rare, so this path reads the switches of the changed organisations
    with one query and writes them with a few set-based statements.
    """
    org_ids = [c[0] for c in changes]
    switches: dict[tuple[Any, int], bool] = {
        (org, feature): enabled
        for org, feature, enabled in FeatureSwitch.objects.filter(
            organization_id__in=org_ids
        ).values_list("organization_id", "feature_id", "enabled")
    }
    turn_off: list[tuple[Any, int]] = []
    turn_on: list[tuple[Any, int]] = []
    entries: list[_History] = []
    for org_id, old_edition, new_edition, _period in changes:
        new_name = catalog.editions[new_edition].name
        enabled = {f for (o, f), on in switches.items() if o == org_id and on}
        for feature_id in catalog.features:
            offer = catalog.offer(new_edition, feature_id)
            lacking = offer == Availability.UNAVAILABLE or (
                offer == Availability.ADD_ON and (org_id, feature_id) not in paid_add_ons
            )
            if lacking and feature_id in enabled:
                enabled.discard(feature_id)
                turn_off.append((org_id, feature_id))
            elif (
                offer == Availability.INCLUDED
                and catalog.offer(old_edition, feature_id) != Availability.INCLUDED
                and feature_id not in enabled
            ):
                enabled.add(feature_id)
                turn_on.append((org_id, feature_id))
        # A feature whose requirement went away goes with it.
        changed = True
        while changed:
            changed = False
            for feature_id in list(enabled):
                required = {r.pk for r in catalog.features[feature_id].requires.all()}
                if not required <= enabled:
                    enabled.discard(feature_id)
                    turn_off.append((org_id, feature_id))
                    changed = True
        for switched, action in (
            ([f for o, f in turn_off if o == org_id], "disabled"),
            ([f for o, f in turn_on if o == org_id], "enabled"),
        ):
            for feature_id in switched:
                feature = catalog.features[feature_id]
                entries.append(
                    _History(
                        organization_id=org_id,
                        kind=HistoryKind.FEATURES,
                        action=action,
                        subject=feature.code,
                        before={"enabled": action == "disabled"},
                        after={"enabled": action == "enabled"},
                        reason=f"Edition change to {new_name} at the period boundary",
                    )
                )
        entries.append(
            _History(
                organization_id=org_id,
                kind=HistoryKind.EDITION,
                action="edition_changed",
                subject=new_name,
                before={"edition": catalog.editions[old_edition].code},
                after={"edition": catalog.editions[new_edition].code},
                reason="Scheduled edition change at the period boundary",
            )
        )
    for org_id, feature_id in turn_off:
        FeatureSwitch.objects.filter(organization_id=org_id, feature_id=feature_id).update(
            enabled=False, changed_at=now
        )
    existing = set(switches)
    FeatureSwitch.objects.bulk_create(
        FeatureSwitch(organization_id=o, feature_id=f, enabled=True, changed_at=now)
        for o, f in turn_on
        if (o, f) not in existing
    )
    for org_id, feature_id in turn_on:
        if (org_id, feature_id) in existing:
            FeatureSwitch.objects.filter(organization_id=org_id, feature_id=feature_id).update(
                enabled=True, changed_at=now
            )
    emit_many(
        [
            Event("feature.disabled", str(o), {"feature": catalog.features[f].code})
            for o, f in turn_off
        ]
        + [
            Event("feature.enabled", str(o), {"feature": catalog.features[f].code})
            for o, f in turn_on
        ]
    )
    return entries


# ---------------------------------------------------------------------------- bulk writes


def _columns(model: Any, names: Iterable[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in names]


class _BulkWriter:
    """Bulk statements in the dialect of the connection: COPY on PostgreSQL."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"

    # Values for SQLite go through Django's own adapters; PostgreSQL's COPY takes Python types.
    def _uuid(self, value: uuid.UUID) -> Any:
        return value if self.postgres else value.hex

    def _decimal(self, value: Decimal) -> Any:
        return value if self.postgres else str(value)

    def _date(self, value: date) -> Any:
        return value if self.postgres else value.isoformat()

    def _datetime(self, value: datetime) -> Any:
        return value if self.postgres else connection.ops.adapt_datetimefield_value(value)

    def _insert(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )

    def update_subscriptions(self, updates: list[tuple[Any, ...]], now: datetime) -> None:
        table = Subscription._meta.db_table
        names = [
            "current_period_start",
            "current_period_end",
            "edition",
            "licenses",
            "licenses_next",
            "storage_packs",
            "storage_packs_next",
            "license_unit_price",
            "storage_unit_price",
            "price_list",
        ]
        columns = _columns(Subscription, names)
        types = [
            "date",
            "date",
            "bigint",
            "integer",
            "integer",
            "integer",
            "integer",
            "numeric",
            "numeric",
            "bigint",
        ]
        with connection.cursor() as cursor:
            definition = ", ".join(
                ["id bigint"] + [f"{c} {t}" for c, t in zip(columns, types, strict=True)]
            )
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS rollover_staging ({definition})")
            cursor.execute("DELETE FROM rollover_staging")
        rows = [
            (
                sub_id,
                self._date(start),
                self._date(end),
                edition_id,
                licenses,
                licenses_next,
                packs,
                packs_next,
                self._decimal(license_price),
                self._decimal(storage_price),
                price_list_id,
            )
            for (
                sub_id,
                start,
                end,
                edition_id,
                licenses,
                licenses_next,
                packs,
                packs_next,
                license_price,
                storage_price,
                price_list_id,
            ) in updates
        ]
        self._insert("rollover_staging", ["id", *columns], rows)
        assignments = ", ".join(f"{c} = s.{c}" for c in columns)
        updated_at = Subscription._meta.get_field("updated_at").column
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {assignments}, {updated_at} = %s "
                f"FROM rollover_staging AS s WHERE {table}.id = s.id",
                [self._datetime(now)],
            )

    def replace_add_ons(self, subscription_ids: list[int], kept: list[tuple[Any, ...]]) -> None:
        table = SubscriptionAddOn._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE subscription_id IN (SELECT id FROM rollover_staging)"
            )
        self._insert(
            table,
            _columns(
                SubscriptionAddOn,
                ["subscription", "feature", "in_current", "in_next", "unit_price"],
            ),
            [(s, f, c, n, self._decimal(p)) for s, f, c, n, p in kept],
        )

    def insert_orders(self, rows: list[tuple[Any, ...]]) -> None:
        names = [
            "id",
            "number",
            "organization",
            "subscription",
            "kind",
            "created_at",
            "period_start",
            "period_end",
            "currency",
            "total",
            "actor_name",
        ]
        self._insert(
            Order._meta.db_table,
            _columns(Order, names),
            [
                (
                    self._uuid(order_id),
                    number,
                    self._uuid(org_id) if isinstance(org_id, uuid.UUID) else org_id,
                    sub_id,
                    kind,
                    self._datetime(created),
                    self._date(start),
                    self._date(end),
                    currency,
                    self._decimal(total),
                    actor_name,
                )
                for (
                    order_id,
                    number,
                    org_id,
                    sub_id,
                    kind,
                    created,
                    start,
                    end,
                    currency,
                    total,
                    actor_name,
                ) in rows
            ],
        )

    def insert_lines(self, rows: list[tuple[Any, ...]]) -> None:
        names = [
            "order",
            "position",
            "product",
            "description",
            "quantity",
            "unit_price",
            "amount",
            "period_start",
            "period_end",
        ]
        self._insert(
            OrderLine._meta.db_table,
            _columns(OrderLine, names),
            [
                (
                    self._uuid(order_id),
                    position,
                    product,
                    description,
                    self._decimal(quantity),
                    self._decimal(unit_price),
                    self._decimal(amount),
                    self._date(period.start),
                    self._date(period.end),
                )
                for (
                    order_id,
                    position,
                    product,
                    description,
                    quantity,
                    unit_price,
                    amount,
                    period,
                ) in rows
            ],
        )

    def insert_history(self, entries: list[_History], *, actor: Actor, now: datetime) -> None:
        names = [
            "organization",
            "at",
            "actor_type",
            "actor_name",
            "channel",
            "kind",
            "action",
            "subject",
            "before",
            "after",
            "reason",
        ]
        at = self._datetime(now)
        actor_type, actor_name, channel = actor.type.value, actor.name, actor.channel.value
        dumps = json.dumps
        self._insert(
            HistoryEntry._meta.db_table,
            _columns(HistoryEntry, names),
            [
                (
                    self._uuid(e.organization_id)
                    if isinstance(e.organization_id, uuid.UUID)
                    else e.organization_id,
                    at,
                    actor_type,
                    actor_name,
                    channel,
                    e.kind,
                    e.action,
                    e.subject,
                    dumps(e.before) if e.before is not None else None,
                    dumps(e.after) if e.after is not None else None,
                    e.reason,
                )
                for e in entries
            ],
        )
