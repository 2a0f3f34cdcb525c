"""Where a rollover spends its time: seconds per SQL statement, on one worker.

    python bench/rollover_statements.py [--n 100000] [--batch-size 5000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python bench/rollover_statements.py

It builds the same fresh database as bench/rollover.py (N due subscriptions, settled), then
runs the rollover in this process on one connection with a wrapper around every statement,
and prints the statements by total time, then what was spent outside them: the commits
(on PostgreSQL mostly the deferred foreign-key checks) and Python.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.rollover import AT, _prepare_database, _setup, build_database, settle


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="subscriptions due")
    parser.add_argument("--batch-size", type=int, default=None, help="rollover batch size")
    parser.add_argument("--top", type=int, default=16, help="statements to list")
    args = parser.parse_args()

    env, database, cleanup = _prepare_database()
    try:
        _setup(env)
        from django.db import connection

        from abonnement.subscriptions.rollover import roll_over_subscriptions

        build_database(args.n)
        settle()
        print(f"database: {database}; {args.n:,} due subscriptions")

        totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

        def timed(execute: Callable[..., Any], sql: str, *rest: Any) -> Any:
            started = time.perf_counter()
            try:
                return execute(sql, *rest)
            finally:
                total = totals[re.sub(r"\s+", " ", sql).strip()[:72]]
                total[0] += 1
                total[1] += time.perf_counter() - started

        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            result = roll_over_subscriptions(now=AT, batch_size=args.batch_size, workers=1)
        elapsed = time.perf_counter() - started
        in_statements = sum(seconds for _, seconds in totals.values())
        print(f"rollover: {result.summary()}")
        print(f"{'seconds':>8} {'calls':>6}  statement")
        ranked = sorted(totals.items(), key=lambda item: -item[1][1])
        for statement, (calls, seconds) in ranked[: args.top]:
            print(f"{seconds:8.2f} {int(calls):6d}  {statement}")
        print(
            f"{in_statements:8.2f}         in all statements; "
            f"{elapsed - in_statements:.2f} s outside them (commits, Python); {elapsed:.2f} s"
        )
    finally:
        from django.db import connections

        connections.close_all()
        cleanup()  # type: ignore[operator]
    return 0


if __name__ == "__main__":
    sys.exit(main())
