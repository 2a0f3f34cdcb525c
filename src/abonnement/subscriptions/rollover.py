"""The period rollover: next becomes current, a renewal order per subscription and period.

Contract (PRODUCT.md Rules 1, 2, 5, 7, 8, 9):
- A subscription is due when its current period ended before today (business time zone).
- Each transition moves exactly one period; a subscription that missed several periods is
  caught up period by period (each pass of the loop picks up what is still due).
- Exactly once: every batch is one transaction that claims its rows with
  ``FOR NO KEY UPDATE SKIP LOCKED`` (any number of workers may run at once) and checks
  again that each is due (a pass's list of due ids is read at the pass's start), and the unique
  constraint "one renewal order per subscription and period" makes a duplicate impossible.
- Set-based: Python computes only what SQL cannot — the next period of each distinct
  (period end, length, anchor day) and the prices in force at each distinct new start, a few
  dozen rows per batch. The database does the per-subscription work: INSERT … SELECT of the
  renewal orders, their lines and the history entries, and one UPDATE … FROM of the
  subscriptions. No per-row ORM work on this path; memory stays flat as N grows.
- Money in SQL is exact: numeric ``round(…, 2)`` (half away from zero, i.e. half-up for
  these non-negative amounts) on PostgreSQL; integer arithmetic in ten-thousandths and cents
  on SQLite, whose decimals are floats.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from abonnement.catalog.errors import MissingPrice
from abonnement.catalog.models import (
    Availability,
    Edition,
    Feature,
    FeatureAvailability,
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
from abonnement.core.ids import uuid7
from abonnement.core.models import SimulatedClock
from abonnement.core.periods import Period, next_period
from abonnement.features.models import FeatureSwitch
from abonnement.history.models import HistoryEntry, HistoryKind
from abonnement.history.services import build_entry
from abonnement.orders.models import Order, OrderLine
from abonnement.orders.services import ORDER_COUNTER
from abonnement.subscriptions.models import Subscription, SubscriptionAddOn

ProgressCallback = Callable[[int, int], None]


class _History(NamedTuple):
    """A history row of the edition-change path; actor and time are the batch's."""

    organization_id: Any
    kind: str
    action: str
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str = ""


class _Batch(NamedTuple):
    """What one batch did: transitions, orders, the last id claimed (None: nothing was
    left to claim), and the subscriptions it held back for want of a price."""

    rolled: int
    orders: int
    last: int | None
    held: dict[int, MissingPrice]


@dataclass
class RolloverResult:
    transitions: int = 0
    subscriptions: int = 0
    orders: int = 0
    batches: int = 0
    seconds: float = 0.0
    due: int = 0
    dry_run: bool = False
    # Subscriptions left due because the catalogue has no price for them, and why.
    held: set[int] = field(default_factory=set)
    problems: set[str] = field(default_factory=set)

    def summary(self) -> str:
        if self.dry_run:
            return (
                f"dry run: {self.due} subscriptions due, {self.transitions} period "
                f"transitions would run; nothing was changed"
            )
        text = (
            f"{self.transitions} period transitions for {self.subscriptions} subscriptions, "
            f"{self.orders} renewal orders, {self.batches} batches, {self.seconds:.2f} s"
        )
        if self.held:
            text += (
                f"; {len(self.held)} subscriptions not rolled over (they stay due): "
                + " ".join(sorted(self.problems))
            )
        return text


class _Catalog:
    """The catalogue read once per rollover run (it is small and changes rarely)."""

    def __init__(self) -> None:
        self.editions = {e.pk: e for e in Edition.objects.all()}
        self.features = {f.pk: f for f in Feature.objects.prefetch_related("requires")}
        self.packs = {p.pk: p for p in StoragePack.objects.all()}
        self.availability = availability_map()
        self.add_ons_by_edition: dict[int, list[int]] = {}
        for edition_id, feature_id in FeatureAvailability.objects.filter(
            availability=Availability.ADD_ON
        ).values_list("edition_id", "feature_id"):
            self.add_ons_by_edition.setdefault(edition_id, []).append(feature_id)
        self._books: dict[int, PriceBook] = {}
        self._lists: dict[date, int] = {}

    def book_on(self, day: date) -> PriceBook:
        list_id = self._lists.get(day)
        if list_id is None:
            list_id = price_list_in_force(day).pk
            self._lists[day] = list_id
        return self.book(list_id)

    def book(self, list_id: int) -> PriceBook:
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
    workers: int = 1,
) -> RolloverResult:
    """Run every due period transition at ``now``; safe to run from many workers at once.

    ``workers`` > 1 runs that many sweeps side by side, each in its own thread with its own
    database connection (PostgreSQL only: SQLite has one writer at a time). They divide the
    due rows between them through ``SKIP LOCKED``; the order-number counter, taken last in
    each batch, is the only thing they wait for. If one fails, the others stop after their
    current batch and its error is raised; every committed batch is whole, and a rerun
    finishes the rest.
    """
    started = time.perf_counter()
    today = clock.business_date(now)
    if dry_run:
        return _dry_run(today)
    size = batch_size or settings.ROLLOVER_BATCH_SIZE
    result = RolloverResult()
    result.subscriptions = Subscription.objects.filter(current_period_end__lt=today).count()
    tally = _Tally(result, progress)
    # Other connections cannot see what an enclosing transaction has not committed, so
    # inside one (a caller's atomic block, a test) the sweep runs on this connection alone.
    parallel = connection.vendor == "postgresql" and not connection.in_atomic_block
    if workers > 1 and parallel and result.subscriptions:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rollover") as pool:
            sweeps = [
                pool.submit(_sweep_in_thread, now=now, today=today, size=size, tally=tally)
                for _ in range(workers)
            ]
            for sweep in sweeps:
                sweep.result()  # re-raises a worker's error
    else:
        _sweep(now=now, today=today, size=size, tally=tally)
    result.seconds = time.perf_counter() - started
    return result


class _Tally:
    """The totals of a run, added to by every worker."""

    def __init__(self, result: RolloverResult, progress: ProgressCallback | None) -> None:
        self.result = result
        self.progress = progress
        self.lock = threading.Lock()
        # Set when a worker fails: the others stop after their current batch, and the
        # error is raised once all have stopped (every committed batch is whole).
        self.failed = threading.Event()
        # How far the workers of this process have claimed in each pass over the due list,
        # so that a worker continues after its neighbours' claims instead of stepping over
        # every row they hold (SKIP LOCKED would skip them, but only after reading them).
        self.claimed_through: dict[int, int] = {}

    def position(self, pass_number: int, after: int | None) -> int | None:
        with self.lock:
            shared = self.claimed_through.get(pass_number)
        if shared is None:
            return after
        return shared if after is None else max(after, shared)

    def claimed(self, pass_number: int, last: int) -> None:
        with self.lock:
            self.claimed_through[pass_number] = max(
                last, self.claimed_through.get(pass_number, last)
            )

    def add(self, rolled: int, orders: int, held: dict[int, MissingPrice]) -> None:
        with self.lock:
            self.result.batches += 1
            self.result.transitions += rolled
            self.result.orders += orders
            self.result.held.update(held)
            self.result.problems.update(str(problem) for problem in held.values())
            if self.progress is not None:
                self.progress(self.result.transitions, self.result.orders)


def _sweep(*, now: datetime, today: date, size: int, tally: _Tally) -> None:
    """Roll batches until nothing due is left that another worker does not hold.

    Each pass lists the ids due at its start (one scan of the due index) and walks them in
    id order, continuing after the last row claimed, so no claim reads a row twice. Id
    order is the order the rows were written in: a batch's subscriptions, organisations,
    add-ons and their index entries lie on neighbouring pages, so each page is read, dirtied
    and written to the WAL once per batch rather than once per row (in period-end order the
    rows of a batch are spread over the whole table: three times the WAL at a million).
    A subscription that is still due after one transition is picked up by the next pass.
    """
    catalog = _Catalog()
    pass_number = 0
    while not tally.failed.is_set():
        with transaction.atomic(durable=True):
            _list_due(today)
        after: int | None = None
        rolled_this_pass = 0
        while not tally.failed.is_set():
            after = tally.position(pass_number, after)
            with transaction.atomic(durable=True):
                batch = _roll_batch(now=now, today=today, catalog=catalog, limit=size, after=after)
            if batch.last is None:  # the end of a pass
                break
            after = batch.last
            tally.claimed(pass_number, after)
            rolled_this_pass += batch.rolled
            tally.add(batch.rolled, batch.orders, batch.held)
        # Done when a whole pass rolled nothing: what is left is held for want of a price.
        if rolled_this_pass == 0:
            return
        pass_number += 1


def _list_due(today: date) -> None:
    """The ids due at the start of a pass, into this connection's ``rollover_due`` (kept
    across the pass's batch transactions; each batch checks again that its rows are due)."""
    d = _Dialect()
    sub = Subscription._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS rollover_due (id bigint PRIMARY KEY)")
        cursor.execute("DELETE FROM rollover_due")
        cursor.execute(
            f"INSERT INTO rollover_due (id) SELECT id FROM {sub} WHERE current_period_end < %s",
            [d.param(today)],
        )
        if d.postgres:
            cursor.execute("ANALYZE rollover_due")


def _sweep_in_thread(*, now: datetime, today: date, size: int, tally: _Tally) -> None:
    try:
        _sweep(now=now, today=today, size=size, tally=tally)
    except BaseException:
        tally.failed.set()
        raise
    finally:
        connection.close()  # this thread's own connection


def roll_over_locked(ids: Sequence[int], *, now: datetime) -> int:
    """Roll the given (already locked) subscriptions one period if due; inside a transaction.

    A subscription the catalogue has no price for raises :class:`MissingPrice`: a change
    cannot be made to a period that cannot start."""
    batch = _roll_batch(
        now=now, today=clock.business_date(now), catalog=_Catalog(), limit=len(ids), ids=ids
    )
    for problem in batch.held.values():
        raise problem
    return batch.rolled


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
    result = roll_over_subscriptions(now=to, progress=progress)
    from abonnement.organizations.services import apply_due_vat_numbers

    apply_due_vat_numbers(now=to)  # transfers dated in between take effect, as the worker's would
    return result


# ---------------------------------------------------------------------------- dry run


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


class _Dialect:
    """The few expressions that differ between PostgreSQL and SQLite."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.uuid_type = "uuid" if self.postgres else "char(32)"
        self.price_type = "numeric(14, 4)" if self.postgres else "integer"
        # An amount staged before it is stored: exact decimal, or whole cents on SQLite.
        self.cents_type = "numeric(16, 2)" if self.postgres else "integer"
        # Time-ordered ids, so that new orders land at the right edge of the primary-key
        # index instead of on random pages. On PostgreSQL a batch's ids share the first
        # half of one UUIDv7 (milliseconds, version, counter) and differ in the second: its
        # 62 random bits plus the subscription's id, which is unique in the batch (about
        # five times cheaper per row than hashing a random number for each).
        self.new_uuid = (
            "CAST(%s || to_hex(((%s + b.id) & 4611686018427387903) | -9223372036854775808) AS uuid)"
            if self.postgres
            else "printf('%012x', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))"
            " || lower(hex(randomblob(10)))"
        )
        self.lock = " FOR NO KEY UPDATE OF s SKIP LOCKED" if self.postgres else ""

    def new_uuid_params(self) -> list[Any]:
        """The parameters of :attr:`new_uuid` for one batch."""
        if not self.postgres:
            return []
        seed = uuid7().int
        return [f"{seed >> 64:016x}", seed & ((1 << 62) - 1)]

    def json_object(self, fields: Sequence[tuple[str, str, str]], *, nested: bool = False) -> str:
        """A JSON object of ``(key, SQL expression, kind)`` fields, kind being ``text``,
        ``number`` (NULL becomes null) or ``object`` (another :meth:`json_object`).

        On PostgreSQL the object is written as text and cast once: a third of the CPU of
        ``jsonb_build_object`` per row, and the same stored value (jsonb orders its keys
        itself). Keys are constants; text values are escaped by ``to_json``."""
        if not self.postgres:
            return "json_object(" + ", ".join(f"'{k}', {v}" for k, v, _ in fields) + ")"
        parts = []
        for key, value, kind in fields:
            if kind == "text":
                value = f"CAST(to_json(CAST({value} AS TEXT)) AS TEXT)"
            elif kind == "number":
                value = f"COALESCE(CAST({value} AS TEXT), 'null')"
            parts.append(f"'\"{key}\": ' || {value}")
        text = "'{' || " + " || ', ' || ".join(parts) + " || '}'"
        return f"({text})" if nested else f"CAST({text} AS jsonb)"

    def price(self, value: Decimal) -> Any:
        """A unit price as stored in the staging tables (ten-thousandths on SQLite)."""
        return value if self.postgres else int(value * 10000)

    def unit(self, column: str) -> str:
        """A staged unit price as a stored decimal value."""
        return column if self.postgres else f"({column}) / 10000.0"

    def cents(self, quantity: str, price: str) -> str:
        """quantity × unit price, rounded half-up to the cent (Rule 12)."""
        if self.postgres:
            return f"round(({quantity}) * {price}, 2)"
        return f"((({quantity}) * {price} + 50) / 100)"

    def money(self, cents: str) -> str:
        return cents if self.postgres else f"({cents}) / 100.0"

    def json_value(self, column: str) -> str:
        return f"CAST({column} AS jsonb)" if self.postgres else column

    def money_text(self, column: str) -> str:
        return f"CAST({column} AS TEXT)" if self.postgres else f"printf('%.2f', {column})"

    def param(self, value: Any) -> Any:
        if self.postgres:
            return value
        if isinstance(value, datetime):
            return connection.ops.adapt_datetimefield_value(value)
        if isinstance(value, date):
            return value.isoformat()
        return value

    def to_uuid(self, value: Any) -> uuid.UUID:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _staging(d: _Dialect) -> None:
    """The per-connection scratch tables of a batch (temporary: no WAL, no locks)."""
    price, uuid_type = d.price_type, d.uuid_type
    claimed = (
        f"id bigint PRIMARY KEY, organization_id {uuid_type}, currency varchar(3), "
        "months integer, anchor integer, old_start date, old_end date, edition_id bigint, "
        "new_edition_id bigint, licenses integer, licenses_next integer, pack_id bigint, "
        "packs integer, packs_next integer"
    )
    tables = {
        # One row per claimed subscription, as it is now.
        "rollover_claim": claimed,
        # The paid add-ons that carry on into the next period, at the new price.
        "rollover_claim_add_on": "subscription_id bigint, add_on_id bigint, code varchar(64), "
        f"name varchar(200), price {price}, amount {d.cents_type}, "
        "PRIMARY KEY (subscription_id, add_on_id)",
        # The claimed rows with everything the writes need: the next period, the prices in
        # force at its start, and the renewal order (id, total) if one is due; its number is
        # given last, when the orders are written.
        "rollover_batch": f"{claimed}, new_start date, new_end date, "
        f"price_list_id bigint, license_price {price}, storage_price {price}, "
        f"add_on_prices text, order_id {uuid_type}, total {d.cents_type}",
        # The small lookup tables are keyed so that each claimed row finds its period and
        # prices with one index probe (hash joins are off inside a batch; see _index_probes).
        "rollover_period": "old_end date, months integer, anchor integer, new_start date, "
        "new_end date, price_list_id bigint, PRIMARY KEY (old_end, months, anchor)",
        "rollover_unit": f"price_list_id bigint, edition_id bigint, currency varchar(3), "
        f"pack_id bigint, license_price {price}, storage_price {price}, add_on_prices text, "
        "PRIMARY KEY (price_list_id, edition_id, currency, pack_id)",
        "rollover_add_on": "price_list_id bigint, edition_id bigint, currency varchar(3), "
        f"feature_id bigint, price {price}, "
        "PRIMARY KEY (price_list_id, edition_id, currency, feature_id)",
    }
    with connection.cursor() as cursor:
        for name, columns in tables.items():
            # On PostgreSQL the tables are emptied at every commit without leaving dead rows
            # behind (autovacuum never visits temporary tables, so emptying them with DELETE
            # alone would make every later batch scan more pages); the DELETE covers several
            # batches in one transaction (a subscription caught up before a change).
            on_commit = " ON COMMIT DELETE ROWS" if d.postgres else ""
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns}){on_commit}")
            cursor.execute(f"DELETE FROM {name}")


# Joins of a claimed row to its next period and the prices in force at its start.
_PERIOD = (
    "JOIN rollover_period p ON p.old_end = c.old_end AND p.months = c.months "
    "AND p.anchor = c.anchor"
)
_UNIT = (
    "JOIN rollover_unit u ON u.price_list_id = p.price_list_id "
    "AND u.edition_id = c.new_edition_id AND u.currency = c.currency AND u.pack_id = c.pack_id"
)


def _insert_rows(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if rows:
        marks = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _price_groups(
    groups: list[tuple[Any, ...]], d: _Dialect, catalog: _Catalog
) -> dict[tuple[Any, ...], MissingPrice]:
    """Python's part of a batch: the next period of each distinct (end, length, anchor) and
    the prices in force at its start, into the small staging tables. Returns the groups the
    catalogue has no price for, with the missing price."""
    periods: dict[tuple[Any, int, int], tuple[Period, int]] = {}
    units: dict[tuple[int, int, str, int], tuple[Any, ...]] = {}
    add_on_prices: dict[tuple[int, int, str, int], tuple[Any, ...]] = {}
    unpriced: dict[tuple[Any, ...], MissingPrice] = {}
    for group in groups:
        try:
            _price_group(group, d, catalog, periods, units, add_on_prices)
        except MissingPrice as missing:
            unpriced[tuple(group)] = missing
    _insert_rows(
        "rollover_period",
        ["old_end", "months", "anchor", "new_start", "new_end", "price_list_id"],
        [
            (key[0], key[1], key[2], d.param(p.start), d.param(p.end), list_id)
            for key, (p, list_id) in periods.items()
        ],
    )
    _insert_rows(
        "rollover_unit",
        [
            "price_list_id",
            "edition_id",
            "currency",
            "pack_id",
            "license_price",
            "storage_price",
            "add_on_prices",
        ],
        list(units.values()),
    )
    _insert_rows(
        "rollover_add_on",
        ["price_list_id", "edition_id", "currency", "feature_id", "price"],
        list(add_on_prices.values()),
    )
    return unpriced


def _price_group(
    group: tuple[Any, ...],
    d: _Dialect,
    catalog: _Catalog,
    periods: dict[tuple[Any, int, int], tuple[Period, int]],
    units: dict[tuple[int, int, str, int], tuple[Any, ...]],
    add_on_prices: dict[tuple[int, int, str, int], tuple[Any, ...]],
) -> None:
    """The next period and the prices of one (end, length, anchor, edition, currency, pack)."""
    old_end, months, anchor, edition_id, currency, pack_id = group
    end = old_end if isinstance(old_end, date) else date.fromisoformat(old_end)
    key = (old_end, months, anchor)
    if key not in periods:
        period = next_period(Period(end, end), months=months, anchor_day=anchor)
        periods[key] = (period, catalog.book_on(period.start).price_list_id)
    period, list_id = periods[key]
    book = catalog.book(list_id)
    unit_key = (list_id, edition_id, currency, pack_id)
    if unit_key not in units:
        codes = [catalog.features[f].code for f in catalog.add_ons_by_edition.get(edition_id, ())]
        # The add-on prices of the period, for buying one later in it; an add-on without
        # a price is left out (buying it is refused then) and holds back only the
        # subscriptions that renew it (see _hold_unpriced_add_ons).
        prices = {code: book.get(add_on_product(code), currency) for code in sorted(codes)}
        snapshot = {code: f"{price:.4f}" for code, price in prices.items() if price is not None}
        units[unit_key] = (
            *unit_key,
            d.price(book.price(license_product(catalog.editions[edition_id].code), currency)),
            d.price(book.price(storage_product(catalog.packs[pack_id].code), currency)),
            json.dumps(snapshot),
        )
    for feature_id in catalog.add_ons_by_edition.get(edition_id, ()):
        add_on_key = (list_id, edition_id, currency, feature_id)
        if add_on_key not in add_on_prices:
            code = catalog.features[feature_id].code
            price = book.get(add_on_product(code), currency)
            add_on_prices[add_on_key] = (*add_on_key, None if price is None else d.price(price))


def _roll_batch(
    *,
    now: datetime,
    today: date,
    catalog: _Catalog,
    limit: int,
    ids: Sequence[int] | None = None,
    after: int | None = None,
) -> _Batch:
    """One transition for up to ``limit`` due subscriptions: the given ``ids``, or those of
    :func:`_list_due`'s list after the id ``after``."""
    d = _Dialect()
    _staging(d)
    with _index_probes(d):
        return _roll_claimed(
            d, now=now, today=today, catalog=catalog, limit=limit, ids=ids, after=after
        )


@contextmanager
def _index_probes(d: _Dialect) -> Iterator[None]:
    """Join the batch's few thousand staged rows to the big tables by their keys.

    A batch touches a few thousand rows of tables that hold millions; the planner, which
    cannot know how small the scratch tables are at each step, would otherwise sometimes
    scan a whole table into a hash, and a rollover of N subscriptions would cost N²/batch.
    So hash and merge joins are off, and each statement's joins run in the order written,
    driving from the staged rows (without statistics on the scratch tables the planner had
    driven the add-on claim from the price table, reading every price for every row). The
    settings are local to the transaction and restored when the batch is done.
    """
    if not d.postgres:
        yield
        return
    knobs = {"enable_hashjoin": "off", "enable_mergejoin": "off", "join_collapse_limit": "1"}
    reads = ", ".join(["current_setting(%s)"] * len(knobs))
    writes = ", ".join(["set_config(%s, %s, true)"] * len(knobs))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {reads}", list(knobs))
        before = cursor.fetchone()
        cursor.execute(f"SELECT {writes}", [v for item in knobs.items() for v in item])
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {writes}", [v for pair in zip(knobs, before, strict=True) for v in pair]
        )


def _roll_claimed(
    d: _Dialect,
    *,
    now: datetime,
    today: date,
    catalog: _Catalog,
    limit: int,
    ids: Sequence[int] | None,
    after: int | None,
) -> _Batch:
    """The body of :func:`_roll_batch`.

    Every statement after the claim reads the claimed rows from the scratch tables and
    touches the real tables only by primary or unique key, so a batch costs the same whether
    the database holds a thousand subscriptions or millions.
    """
    sub = Subscription._meta.db_table
    org = "organizations_organization"
    add_on = SubscriptionAddOn._meta.db_table
    orders = Order._meta.db_table
    lines = OrderLine._meta.db_table
    history = HistoryEntry._meta.db_table
    edition = Edition._meta.db_table
    feature = Feature._meta.db_table
    pack = StoragePack._meta.db_table
    params: list[Any] = [d.param(today)]
    if ids is not None:
        source = f"{sub} s"
        only = f" AND s.id IN ({', '.join(['%s'] * len(ids))})"
        order = "s.id"
        params += list(ids)
    else:
        # From the pass's list of due ids, in id order (the join order is kept as written).
        source = f"rollover_due q JOIN {sub} s ON s.id = q.id"
        only = "" if after is None else " AND q.id > %s"
        order = "q.id"
        if after is not None:
            params.append(after)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO rollover_claim (id, organization_id, currency, months, anchor,
                old_start, old_end, edition_id, new_edition_id, licenses, licenses_next,
                pack_id, packs, packs_next)
            SELECT s.id, s.organization_id, o.currency, s.period_months, s.anchor_day,
                s.current_period_start, s.current_period_end, s.edition_id,
                COALESCE(s.next_edition_id, s.edition_id), s.licenses, s.licenses_next,
                s.storage_pack_id, s.storage_packs, s.storage_packs_next
            FROM {source} JOIN {org} o ON o.id = s.organization_id
            WHERE s.current_period_end < %s{only}
            ORDER BY {order} LIMIT {int(limit)}{d.lock}""",
            params,
        )
        claimed = cursor.rowcount
        if claimed <= 0:
            return _Batch(0, 0, None, {})
        cursor.execute("SELECT MAX(id) FROM rollover_claim")
        last_id = int(cursor.fetchone()[0])
        cursor.execute(
            "SELECT DISTINCT old_end, months, anchor, new_edition_id, currency, pack_id "
            "FROM rollover_claim"
        )
        groups = cursor.fetchall()
    held = _hold_unpriced(_price_groups(groups, d, catalog))
    claimed -= len(held)
    if not claimed:
        return _Batch(0, 0, last_id, held)

    actor = Actor.system(gettext_noop("Period rollover"))  # translated where it is shown
    months_text = "CASE WHEN c.months = 1 THEN ' month' ELSE ' months' END"
    at = d.param(now)
    with connection.cursor() as cursor:
        # The add-ons the next period pays for (offered by the new edition, chosen for next).
        cursor.execute(
            f"""INSERT INTO rollover_claim_add_on (subscription_id, add_on_id, code, name,
                price, amount)
            SELECT c.id, a.id, f.code, f.name, ap.price, {d.cents("c.months", "ap.price")}
            FROM rollover_claim c
            JOIN {add_on} a ON a.subscription_id = c.id AND a.in_next
            {_PERIOD}
            JOIN rollover_add_on ap ON ap.price_list_id = p.price_list_id
                AND ap.edition_id = c.new_edition_id AND ap.currency = c.currency
                AND ap.feature_id = a.feature_id
            JOIN {feature} f ON f.id = a.feature_id"""
        )
    unpriced_add_ons = _hold_unpriced_add_ons()
    if unpriced_add_ons:
        held.update(unpriced_add_ons)
        claimed -= len(unpriced_add_ons)
        if not claimed:
            return _Batch(0, 0, last_id, held)
    with connection.cursor() as cursor:
        add_on_total = (
            "(SELECT SUM(x.amount) FROM rollover_claim_add_on x WHERE x.subscription_id = c.id)"
        )
        # A renewal order for each subscription the next period charges for.
        billable = "b.licenses_next > 0 OR b.packs_next > 0 OR b.add_on_total IS NOT NULL"
        total = (
            d.cents("b.licenses_next * b.months", "b.license_price")
            + " + "
            + d.cents("b.packs_next * b.months", "b.storage_price")
            + " + COALESCE(b.add_on_total, 0)"
        )
        columns = (
            "id, organization_id, currency, months, anchor, old_start, old_end, edition_id, "
            "new_edition_id, licenses, licenses_next, pack_id, packs, packs_next, new_start, "
            "new_end, price_list_id, license_price, storage_price, add_on_prices"
        )
        cursor.execute(
            f"""INSERT INTO rollover_batch ({columns}, order_id, total)
            SELECT {columns}, CASE WHEN {billable} THEN {d.new_uuid} END,
                CASE WHEN {billable} THEN {total} END
            FROM (
                SELECT c.id, c.organization_id, c.currency, c.months, c.anchor, c.old_start,
                    c.old_end, c.edition_id, c.new_edition_id, c.licenses, c.licenses_next,
                    c.pack_id, c.packs, c.packs_next, p.new_start, p.new_end, p.price_list_id,
                    u.license_price, u.storage_price, u.add_on_prices,
                    {add_on_total} AS add_on_total
                FROM rollover_claim c {_PERIOD} {_UNIT}
            ) b""",
            d.new_uuid_params() or None,
        )
        if cursor.rowcount != claimed:
            raise RuntimeError("a claimed subscription has no next period or no price")
        line_columns = (
            f"INSERT INTO {lines} (order_id, position, product, description, quantity, "
            "unit_price, amount, period_start, period_end) "
        )
        cursor.execute(
            line_columns
            + f"""SELECT c.order_id, 1, 'license:' || e.code,
                'User licences, ' || e.name || ' × ' || CAST(c.licenses_next AS TEXT)
                    || ' × ' || CAST(c.months AS TEXT) || {months_text},
                c.licenses_next * c.months, {d.unit("c.license_price")},
                {d.money(d.cents("c.licenses_next * c.months", "c.license_price"))},
                c.new_start, c.new_end
            FROM rollover_batch c JOIN {edition} e ON e.id = c.new_edition_id
            WHERE c.licenses_next > 0"""
        )
        cursor.execute(
            line_columns
            + f"""SELECT c.order_id, CASE WHEN c.licenses_next > 0 THEN 2 ELSE 1 END,
                'storage:' || k.code,
                'File storage, ' || k.name || ' × ' || CAST(c.packs_next AS TEXT)
                    || ' × ' || CAST(c.months AS TEXT) || {months_text},
                c.packs_next * c.months, {d.unit("c.storage_price")},
                {d.money(d.cents("c.packs_next * c.months", "c.storage_price"))},
                c.new_start, c.new_end
            FROM rollover_batch c JOIN {pack} k ON k.id = c.pack_id
            WHERE c.packs_next > 0"""
        )
        cursor.execute(
            line_columns
            + f"""SELECT c.order_id,
                (CASE WHEN c.licenses_next > 0 THEN 1 ELSE 0 END)
                    + (CASE WHEN c.packs_next > 0 THEN 1 ELSE 0 END)
                    + row_number() OVER (PARTITION BY x.subscription_id ORDER BY x.code),
                'add_on:' || x.code,
                'Add-on, ' || x.name || ' × ' || CAST(c.months AS TEXT) || {months_text},
                c.months, {d.unit("x.price")}, {d.money("x.amount")}, c.new_start, c.new_end
            FROM rollover_batch c JOIN rollover_claim_add_on x ON x.subscription_id = c.id"""
        )
        # Add-ons: those the next period pays for carry on at the new price; the rest end.
        # A row already current at that price is left as it is (no new row version).
        cursor.execute(
            f"""DELETE FROM {add_on} WHERE id IN (
                SELECT a.id FROM rollover_batch c JOIN {add_on} a ON a.subscription_id = c.id
                WHERE NOT EXISTS (SELECT 1 FROM rollover_claim_add_on x
                    WHERE x.subscription_id = a.subscription_id AND x.add_on_id = a.id))"""
        )
        cursor.execute(
            f"""UPDATE {add_on} SET in_current = TRUE, unit_price = {d.unit("x.price")}
            FROM rollover_claim_add_on x WHERE {add_on}.id = x.add_on_id
                AND NOT ({add_on}.in_current AND {add_on}.unit_price = {d.unit("x.price")})"""
        )
        cursor.execute(
            f"""UPDATE {sub} SET current_period_start = c.new_start,
                current_period_end = c.new_end, edition_id = c.new_edition_id,
                next_edition_id = NULL, licenses = c.licenses_next,
                storage_packs = c.packs_next, license_unit_price = {d.unit("c.license_price")},
                storage_unit_price = {d.unit("c.storage_price")},
                price_list_id = c.price_list_id,
                add_on_prices = {d.json_value("c.add_on_prices")}, updated_at = %s
            FROM rollover_batch c WHERE {sub}.id = c.id""",
            [at],
        )
        # The events need no order number, so they are read and emitted (the webhook outbox
        # is written in this transaction) before the counter is taken.
        events: list[Event] = []
        if has_listeners():
            cursor.execute(
                "SELECT organization_id, order_id, new_start, new_end FROM rollover_batch "
                "WHERE order_id IS NOT NULL"
            )
            for org_id, order_id, start, end in cursor.fetchall():
                organization = str(d.to_uuid(org_id))
                events.append(
                    Event(
                        "subscription.renewed",
                        organization,
                        {"period": {"start": str(start), "end": str(end)}},
                        at=now,
                        snapshot=False,
                    )
                )
                events.append(
                    Event(
                        "order.created",
                        organization,
                        {"order_id": str(d.to_uuid(order_id))},
                        at=now,
                        snapshot=False,
                    )
                )
        emit_many(events)
        # Last, the order numbers: the counter row stays locked until this batch commits,
        # so a concurrent worker waits here only for this batch's remaining statements.
        cursor.execute("SELECT COUNT(*) FROM rollover_batch WHERE order_id IS NOT NULL")
        order_count = int(cursor.fetchone()[0])
        first = take_numbers(ORDER_COUNTER, order_count) if order_count else 0
        cursor.execute(
            f"""INSERT INTO {orders} (id, number, organization_id, subscription_id, kind,
                created_at, period_start, period_end, currency, total, actor_name)
            SELECT c.order_id, %s - 1 + row_number() OVER (ORDER BY c.id), c.organization_id,
                c.id, 'renewal', %s, c.new_start, c.new_end, c.currency, {d.money("c.total")}, %s
            FROM rollover_batch c WHERE c.order_id IS NOT NULL""",
            [first, at, actor.name],
        )
        if cursor.rowcount != order_count:
            raise RuntimeError("renewal orders do not match the claimed subscriptions")

        def period_json(start: str, end: str) -> str:
            return d.json_object([("start", start, "text"), ("end", end, "text")], nested=True)

        before_json = d.json_object(
            [
                ("period", period_json("c.old_start", "c.old_end"), "object"),
                ("edition", "eo.code", "text"),
                ("licenses", "c.licenses", "number"),
                ("storage_packs", "c.packs", "number"),
            ]
        )
        after_json = d.json_object(
            [
                ("period", period_json("c.new_start", "c.new_end"), "object"),
                ("edition", "en.code", "text"),
                ("licenses", "c.licenses_next", "number"),
                ("storage_packs", "c.packs_next", "number"),
                ("total", d.money_text(d.money("COALESCE(c.total, 0)")), "text"),
                ("currency", "c.currency", "text"),
                ("order_number", "r.number", "number"),
            ]
        )
        cursor.execute(
            f"""INSERT INTO {history} (organization_id, at, actor_type, actor_name, channel,
                kind, action, subject, before, after, reason)
            SELECT c.organization_id, %s, %s, %s, %s, 'period', 'period_rolled_over',
                CAST(c.new_start AS TEXT) || '–' || CAST(c.new_end AS TEXT),
                {before_json},
                {after_json},
                ''
            FROM rollover_batch c
            JOIN {edition} eo ON eo.id = c.edition_id
            JOIN {edition} en ON en.id = c.new_edition_id
            LEFT JOIN {orders} r ON r.id = c.order_id""",
            [at, actor.type.value, actor.name, actor.channel.value],
        )
        cursor.execute(
            "SELECT organization_id, edition_id, new_edition_id FROM rollover_claim "
            "WHERE new_edition_id <> edition_id"
        )
        edition_changes = cursor.fetchall()
        if edition_changes:
            cursor.execute(
                f"SELECT c.organization_id, a.feature_id FROM {add_on} a "
                "JOIN rollover_claim c ON c.id = a.subscription_id "
                "WHERE c.new_edition_id <> c.edition_id"
            )
            paid = {(d.to_uuid(o), f) for o, f in cursor.fetchall()}
    if edition_changes:
        entries = _switch_features_for_editions(
            [(d.to_uuid(o), old, new, None) for o, old, new in edition_changes],
            paid,
            now=now,
            actor=actor,
            catalog=catalog,
        )
        HistoryEntry.objects.bulk_create(
            build_entry(
                organization_id=e.organization_id,
                actor=actor,
                now=now,
                kind=HistoryKind(e.kind),
                action=e.action,
                subject=e.subject,
                before=e.before,
                after=e.after,
                reason=e.reason,
            )
            for e in entries
        )
    return _Batch(claimed, order_count, last_id, held)


def _hold_unpriced_add_ons() -> dict[int, MissingPrice]:
    """Take out of the batch the subscriptions whose next period renews an add-on that has
    no price (its staged price is NULL): renewing them without it would end the add-on."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT x.subscription_id, x.code, c.currency FROM rollover_claim_add_on x "
            "JOIN rollover_claim c ON c.id = x.subscription_id WHERE x.price IS NULL "
            "ORDER BY x.subscription_id, x.code"
        )
        held: dict[int, MissingPrice] = {}
        for subscription_id, code, currency in cursor.fetchall():
            held.setdefault(subscription_id, MissingPrice(add_on_product(code), currency))
        if held:
            for table, column in (
                ("rollover_claim_add_on", "subscription_id"),
                ("rollover_claim", "id"),
            ):
                cursor.executemany(
                    f"DELETE FROM {table} WHERE {column} = %s", [(pk,) for pk in held]
                )
    return held


def _hold_unpriced(unpriced: dict[tuple[Any, ...], MissingPrice]) -> dict[int, MissingPrice]:
    """Take the claimed subscriptions the catalogue has no price for out of the batch: they
    stay due, locked until the batch commits, and every other subscription rolls over."""
    held: dict[int, MissingPrice] = {}
    with connection.cursor() as cursor:
        for group, missing in unpriced.items():
            where = (
                "old_end = %s AND months = %s AND anchor = %s AND new_edition_id = %s "
                "AND currency = %s AND pack_id = %s"
            )
            cursor.execute(f"SELECT id FROM rollover_claim WHERE {where}", list(group))
            held.update((row[0], missing) for row in cursor.fetchall())
            cursor.execute(f"DELETE FROM rollover_claim WHERE {where}", list(group))
    return held


def _switch_features_for_editions(
    changes: list[tuple[Any, int, int, None]],
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
        # A feature whose requirement is off goes with it: one that was on is switched off,
        # one the new edition would have switched on stays off.
        changed = True
        while changed:
            changed = False
            for feature_id in list(enabled):
                required = {r.pk for r in catalog.features[feature_id].requires.all()}
                if not required <= enabled:
                    enabled.discard(feature_id)
                    if (org_id, feature_id) in turn_on:
                        turn_on.remove((org_id, feature_id))
                    else:
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
            Event("feature.disabled", str(o), {"feature": catalog.features[f].code}, at=now)
            for o, f in turn_off
        ]
        + [
            Event("feature.enabled", str(o), {"feature": catalog.features[f].code}, at=now)
            for o, f in turn_on
        ]
    )
    return entries
