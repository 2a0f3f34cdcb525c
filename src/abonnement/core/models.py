from __future__ import annotations

from django.db import models


class SimulatedClock(models.Model):
    """The stored instant of the demo / test clock; one row, only moves forward."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    now = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="one_clock")]


class Counter(models.Model):
    """Gapless number sequences (order and invoice numbers per seller).

    Taken with one ``UPDATE … RETURNING`` inside the transaction that uses the numbers, so a
    rollback gives them back and two transactions never get the same number.
    """

    name = models.CharField(max_length=50, primary_key=True)
    next_value = models.BigIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(next_value__gte=1), name="counter_positive")
        ]
