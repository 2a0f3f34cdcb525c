"""Rollover benchmark: the real `abonnement rollover` against hand-written set-based SQL.

    python bench/rollover.py [--n 100000] [--batch-size 5000] [--workers 2]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python bench/rollover.py --n 1000000

It builds a fresh database (SQLite in a temporary folder, or a new `<name>_bench` database on
the PostgreSQL server of DATABASE_URL, dropped afterwards), loads the demo catalogue,
generates N organisations whose period is due (varied editions, add-ons, storage packs,
period lengths and anchor days), then measures in the same run, each step after a
VACUUM ANALYZE and a CHECKPOINT (ANALYZE and a WAL checkpoint on SQLite):

- baseline: the same row work written by hand as set-based SQL — INSERT … SELECT of the
  renewal orders, INSERT … SELECT of their lines (licences, storage, add-ons), one UPDATE of
  the subscriptions — on one connection, in a transaction that is rolled back afterwards
  (so its deferred foreign-key checks, which run at commit, are never paid for);
- rollover: `abonnement rollover` in a child process (so its peak memory is its own), with
  the configured number of workers (ABONNEMENT_ROLLOVER_WORKERS or --workers; one on
  SQLite), which additionally writes one history entry per transition, replaces the add-on
  rows, commits every batch and queues the documents tasks.

It prints subscriptions per second for both, the ratio, the child's peak RSS, the database
and, on PostgreSQL, the server's shared_buffers and max_wal_size.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2027, 1, 15)
AT = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)


def _prepare_database() -> tuple[dict[str, str], str, object]:
    """Environment for a fresh database; returns (env, description, cleanup)."""
    env = dict(os.environ)
    url = os.environ.get("DATABASE_URL")
    if not url:
        folder = tempfile.mkdtemp(prefix="abonnement-bench-")
        env["ABONNEMENT_DATA_DIR"] = folder
        env.pop("DATABASE_URL", None)
        return env, "SQLite (WAL)", lambda: None
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/") + "_bench"
    admin = psycopg.connect(url, autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = urlunparse(parsed._replace(path="/" + name))
    version = admin.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    # The server's memory and checkpoint settings decide how much of the indexes stay cached
    # as the tables grow; print them with the figures.
    tuning = ", ".join(
        f"{name} {admin.execute(f'SHOW {name}').fetchone()[0]}"  # type: ignore[index]
        for name in ("shared_buffers", "max_wal_size")
    )

    def cleanup() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return env, f"PostgreSQL {version} ({tuning})", cleanup


def _setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    if "DATABASE_URL" not in env:
        os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "abonnement.config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build_database(n: int) -> float:
    """Migrate, load the demo catalogue and generate ``n`` due subscriptions into the
    database of :func:`_prepare_database` (after :func:`_setup`); returns the seconds the
    generation took."""
    from django.core.management import call_command

    from abonnement.demo.loader import load_catalog
    from bench.generate import generate_due_subscriptions

    call_command("migrate", verbosity=0)
    load_catalog()
    started = time.perf_counter()
    generate_due_subscriptions(n, today=TODAY)
    return time.perf_counter() - started


def _baseline_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        start = "(s.current_period_end + 1)"
        end = "((s.current_period_end + 1 + make_interval(months => s.period_months))::date - 1)"
        new_id = "gen_random_uuid()"
    else:
        start = "date(s.current_period_end, '+1 day')"
        end = "date(s.current_period_end, '+1 day', '+' || s.period_months || ' months', '-1 day')"
        new_id = "lower(hex(randomblob(16)))"
    org = "organizations_organization"
    price = "catalog_price"
    return [
        f"""INSERT INTO orders_order (id, number, organization_id, subscription_id, kind,
                created_at, period_start, period_end, currency, total, actor_name)
            SELECT {new_id}, %(first)s + row_number() OVER (ORDER BY s.id), s.organization_id, s.id,
                'renewal', %(now)s, {start}, {end}, o.currency,
                round(s.licenses_next * s.period_months * p.monthly_amount, 2), 'baseline'
            FROM subscriptions_subscription s
            JOIN {org} o ON o.id = s.organization_id
            JOIN catalog_edition e ON e.id = s.edition_id
            JOIN {price} p ON p.price_list_id = %(price_list)s AND p.currency = o.currency
                AND p.product = 'license:' || e.code
            WHERE s.current_period_end < %(today)s""",
        f"""INSERT INTO orders_orderline (order_id, position, product, description, quantity,
                unit_price, amount, period_start, period_end)
            SELECT r.id, 1, p.product, 'User licences', s.licenses_next * s.period_months,
                p.monthly_amount, round(s.licenses_next * s.period_months * p.monthly_amount, 2),
                r.period_start, r.period_end
            FROM orders_order r
            JOIN subscriptions_subscription s ON s.id = r.subscription_id
            JOIN {org} o ON o.id = s.organization_id
            JOIN catalog_edition e ON e.id = s.edition_id
            JOIN {price} p ON p.price_list_id = %(price_list)s AND p.currency = o.currency
                AND p.product = 'license:' || e.code
            WHERE r.actor_name = 'baseline'""",
        f"""INSERT INTO orders_orderline (order_id, position, product, description, quantity,
                unit_price, amount, period_start, period_end)
            SELECT r.id, 2, p.product, 'File storage', s.storage_packs_next * s.period_months,
                p.monthly_amount,
                round(s.storage_packs_next * s.period_months * p.monthly_amount, 2),
                r.period_start, r.period_end
            FROM orders_order r
            JOIN subscriptions_subscription s ON s.id = r.subscription_id
            JOIN {org} o ON o.id = s.organization_id
            JOIN catalog_storagepack k ON k.id = s.storage_pack_id
            JOIN {price} p ON p.price_list_id = %(price_list)s AND p.currency = o.currency
                AND p.product = 'storage:' || k.code
            WHERE r.actor_name = 'baseline' AND s.storage_packs_next > 0""",
        f"""INSERT INTO orders_orderline (order_id, position, product, description, quantity,
                unit_price, amount, period_start, period_end)
            SELECT r.id, 3 + a.feature_id, p.product, 'Add-on', s.period_months,
                p.monthly_amount, round(s.period_months * p.monthly_amount, 2),
                r.period_start, r.period_end
            FROM orders_order r
            JOIN subscriptions_subscription s ON s.id = r.subscription_id
            JOIN subscriptions_subscriptionaddon a ON a.subscription_id = s.id AND a.in_next
            JOIN catalog_feature f ON f.id = a.feature_id
            JOIN {org} o ON o.id = s.organization_id
            JOIN {price} p ON p.price_list_id = %(price_list)s AND p.currency = o.currency
                AND p.product = 'add_on:' || f.code
            WHERE r.actor_name = 'baseline'""",
        f"""UPDATE subscriptions_subscription AS s SET
                current_period_start = {start}, current_period_end = {end},
                licenses = licenses_next, storage_packs = storage_packs_next,
                next_edition_id = NULL, updated_at = %(now)s
            WHERE s.current_period_end < %(today)s""",
    ]


def settle() -> None:
    """Bring the database to the state a production one is in between runs: statistics
    gathered, dead rows vacuumed, dirty pages flushed, so that neither measurement pays for
    the writes of the step before it (the generator's bulk load, the rolled-back baseline)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        import psycopg

        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as admin:
            admin.execute("VACUUM ANALYZE")
            try:
                admin.execute("CHECKPOINT")
            except psycopg.errors.InsufficientPrivilege:
                print("(CHECKPOINT needs a superuser or pg_checkpoint; skipped)")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def run_baseline() -> tuple[float, int]:
    from django.db import connection, transaction

    from abonnement.catalog.selectors import price_list_in_force
    from abonnement.orders.models import OrderLine

    params = {
        "first": 10_000_000,
        "now": AT if connection.vendor == "postgresql" else AT.isoformat(sep=" ")[:26],
        "today": TODAY if connection.vendor == "postgresql" else TODAY.isoformat(),
        "price_list": price_list_in_force(TODAY).pk,
    }
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            for sql in _baseline_sql(connection.vendor):
                cursor.execute(sql, params)
        lines = OrderLine.objects.filter(order__actor_name="baseline").count()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)  # leave the subscriptions due for the real rollover
    return elapsed, lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n", type=int, default=100_000, help="subscriptions due (default 100,000)"
    )
    parser.add_argument("--batch-size", type=int, default=None, help="rollover batch size")
    parser.add_argument(
        "--workers", type=int, default=None, help="rollover workers (default: the setting)"
    )
    args = parser.parse_args()

    env, database, cleanup = _prepare_database()
    try:
        _setup(env)
        generated = build_database(args.n)
        print(f"database: {database}; generated {args.n:,} due subscriptions in {generated:.1f} s")

        settle()
        baseline_seconds, baseline_lines = run_baseline()
        baseline_rate = args.n / baseline_seconds
        print(
            f"baseline (hand-written set-based SQL): {baseline_seconds:.2f} s, "
            f"{baseline_rate:,.0f} subscriptions/s ({baseline_lines:,} lines)"
        )

        settle()
        command = [
            sys.executable,
            "-m",
            "abonnement.cli",
            "rollover",
            "--at",
            AT.isoformat(),
            "--quiet",
        ]
        if args.batch_size:
            command += ["--batch-size", str(args.batch_size)]
        from django.conf import settings

        workers = args.workers or settings.ROLLOVER_WORKERS
        if "DATABASE_URL" not in env:
            workers = 1  # SQLite has one writer; the rollover runs one sweep there
        command += ["--workers", str(workers)]
        child_env = dict(env)
        child_env["ABONNEMENT_LOG_LEVEL"] = "ERROR"
        started = time.perf_counter()
        output = subprocess.run(command, env=child_env, check=True, capture_output=True, text=True)
        rollover_seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rollover_rate = args.n / rollover_seconds
        print(
            f"rollover (abonnement rollover, {workers} worker{'s' if workers > 1 else ''}, "
            f"whole process): {rollover_seconds:.2f} s, "
            f"{rollover_rate:,.0f} subscriptions/s; peak RSS {peak_mb:,.0f} MB"
        )
        print(f"  {output.stdout.strip()}")

        from abonnement.orders.models import Order
        from abonnement.subscriptions.models import Subscription

        renewals = Order.objects.filter(kind="renewal").count()
        still_due = Subscription.objects.filter(current_period_end__lt=TODAY).count()
        assert renewals == args.n and still_due == 0, (renewals, still_due)
        print(f"ratio rollover / baseline: {rollover_rate / baseline_rate:.1%}")
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}"
        )
    finally:
        from django.db import connections

        connections.close_all()
        cleanup()  # type: ignore[operator]
    return 0


if __name__ == "__main__":
    sys.exit(main())
