"""Gapless counters, taken in the caller's transaction."""

from __future__ import annotations

from django.db import connection, transaction

from abonnement.core.models import Counter


def take_numbers(name: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive numbers and return the first.

    Must run inside the transaction that stores the numbered rows: the row lock taken by the
    UPDATE serialises concurrent callers, and a rollback returns the numbers.
    """
    if count < 1:
        raise ValueError("count must be positive")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("take_numbers() must run inside a transaction")
    Counter.objects.get_or_create(name=name)
    table = Counter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET next_value = next_value + %s WHERE name = %s RETURNING next_value",
            [count, name],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0]) - count
