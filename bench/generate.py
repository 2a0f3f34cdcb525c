"""Generate many organisations with subscriptions due for renewal, quickly.

Used by the rollover benchmark and by the concurrency tests. Rows are written with COPY on
PostgreSQL and executemany on SQLite (the ORM would spend minutes on a million rows); the
catalogue must exist already (the demo catalogue or the tests' one).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime

from django.db import connection, transaction

from abonnement.catalog.models import (
    Availability,
    Edition,
    FeatureAvailability,
    PriceList,
    StoragePack,
    add_on_product,
    license_product,
    storage_product,
)
from abonnement.catalog.selectors import price_book_on
from abonnement.core.ids import uuid7
from abonnement.core.periods import PERIOD_MONTHS, Period, add_months, period_at
from abonnement.organizations.models import Organization
from abonnement.subscriptions.models import Subscription, SubscriptionAddOn


def _insert(table: str, columns: list[str], rows: list[tuple[object, ...]]) -> None:
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def generate_due_subscriptions(
    n: int, *, today: date, seed: int = 7, chunk: int = 20_000, currency: str = "EUR"
) -> int:
    """Create ``n`` organisations whose current period ended before ``today``.

    Editions, period lengths (1/3/6/12), anchor days, licence counts, storage packs and paid
    add-ons vary. Returns the number of subscriptions created.
    """
    rng = random.Random(seed)
    editions = list(Edition.objects.order_by("position"))
    pack = StoragePack.objects.order_by("position").first()
    assert editions and pack is not None
    add_ons: dict[int, list[tuple[int, str]]] = {e.pk: [] for e in editions}
    for edition_id, feature_id, code in (
        FeatureAvailability.objects.filter(availability=Availability.ADD_ON)
        .order_by("feature__code")
        .values_list("edition_id", "feature_id", "feature__code")
    ):
        add_ons[edition_id].append((feature_id, code))
    postgres = connection.vendor == "postgresql"
    first_price_day = PriceList.objects.order_by("effective_from").values_list(
        "effective_from", flat=True
    )[0]
    now = datetime.now(UTC)
    created_at = now if postgres else connection.ops.adapt_datetimefield_value(now)
    periods: dict[tuple[int, int], Period] = {}
    book_cache: dict[date, object] = {}
    org_table = Organization._meta.db_table
    sub_table = Subscription._meta.db_table
    add_on_table = SubscriptionAddOn._meta.db_table
    made = 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {sub_table}")
        next_sub_id = int(cursor.fetchone()[0]) + 1
    while made < n:
        size = min(chunk, n - made)
        orgs, subs, rows = [], [], []
        for _ in range(size):
            org_id = uuid7()  # as provisioning makes them: time-ordered
            edition = editions[rng.randrange(len(editions))]
            months = PERIOD_MONTHS[rng.randrange(4)]
            anchor = rng.randint(1, 31)
            key = (months, anchor)
            period = periods.get(key)
            if period is None:
                # The period that ended most recently before today, anchored on ``anchor``.
                start = add_months(date(today.year, today.month, 1), -months, anchor_day=anchor)
                period = period_at(start=start, months=months, anchor_day=anchor)
                while period.end >= today:
                    start = add_months(start, -months, anchor_day=anchor)
                    period = period_at(start=start, months=months, anchor_day=anchor)
                periods[key] = period
            priced_on = max(period.start, first_price_day)
            book = book_cache.get(priced_on)
            if book is None:
                book = price_book_on(priced_on)
                book_cache[priced_on] = book
            # Prices as the last rollover or purchase left them: those in force at the start.
            price = book.price(license_product(edition.code), currency)  # type: ignore[attr-defined]
            pack_price = book.price(storage_product(pack.code), currency)  # type: ignore[attr-defined]
            add_on_prices = {
                code: book.price(add_on_product(code), currency)  # type: ignore[attr-defined]
                for _, code in add_ons[edition.pk]
            }
            licenses = rng.randint(1, 200)
            packs = rng.choice((0, 0, 0, 1, 2, 5))
            org_value = org_id if postgres else org_id.hex
            orgs.append(
                (
                    org_value,
                    f"Bench {made}",
                    "FI23456780",
                    "FI",
                    currency,
                    "en",
                    "direct",
                    "",
                    "",
                    created_at,
                )
            )
            sub_id = next_sub_id
            next_sub_id += 1
            subs.append(
                (
                    sub_id,
                    org_value,
                    months,
                    anchor,
                    period.start if postgres else period.start.isoformat(),
                    period.end if postgres else period.end.isoformat(),
                    edition.pk,
                    licenses,
                    licenses,
                    pack.pk,
                    packs,
                    packs,
                    price if postgres else str(price),
                    pack_price if postgres else str(pack_price),
                    book.price_list_id,  # type: ignore[attr-defined]
                    0,
                    json.dumps({code: f"{p:.4f}" for code, p in add_on_prices.items()}),
                    created_at,
                )
            )
            for feature_id, code in add_ons[edition.pk]:
                if rng.random() < 0.3:
                    rows.append((sub_id, feature_id, True, True, f"{add_on_prices[code]:.4f}"))
            made += 1
        with transaction.atomic():
            _insert(
                org_table,
                [
                    "id",
                    "name",
                    "vat_number",
                    "country",
                    "currency",
                    "language",
                    "purchase_channel",
                    "marketplace_name",
                    "marketplace_url",
                    "created_at",
                ],
                orgs,
            )
            _insert(
                sub_table,
                [
                    "id",
                    "organization_id",
                    "period_months",
                    "anchor_day",
                    "current_period_start",
                    "current_period_end",
                    "edition_id",
                    "licenses",
                    "licenses_next",
                    "storage_pack_id",
                    "storage_packs",
                    "storage_packs_next",
                    "license_unit_price",
                    "storage_unit_price",
                    "price_list_id",
                    "storage_used_gb",
                    "add_on_prices",
                    "updated_at",
                ],
                subs,
            )
            _insert(
                add_on_table,
                ["subscription_id", "feature_id", "in_current", "in_next", "unit_price"],
                rows,
            )
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{sub_table}', 'id'), "
                f"(SELECT MAX(id) FROM {sub_table}))"
            )
    return made
