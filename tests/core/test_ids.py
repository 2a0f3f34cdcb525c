"""Time-ordered ids (UUID version 7)."""

from __future__ import annotations

import uuid
from unittest import mock

import pytest

from abonnement.core import ids


@pytest.fixture(autouse=True)
def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would; the ids it makes leave no trace behind."""
    monkeypatch.setattr(ids, "_last", (0, 0))


def test_ids_are_version_7_in_the_rfc_variant() -> None:
    made = ids.uuid7()
    assert (made.version, made.variant) == (7, uuid.RFC_4122)


def test_ids_carry_the_milliseconds_they_were_made_in() -> None:
    with mock.patch.object(ids.time, "time_ns", return_value=1_800_000_000_123_456_789):
        made = ids.uuid7()
    assert made.int >> 80 == 1_800_000_000_123


def test_ids_of_one_millisecond_and_of_a_clock_stepped_back_still_sort_in_order() -> None:
    instants = [2_000_000_000_000_000_000] * 3 + [1_999_999_999_000_000_000]
    with mock.patch.object(ids.time, "time_ns", side_effect=instants):
        made = [ids.uuid7() for _ in instants]
    assert made == sorted(made)
    assert len(set(made)) == 4
    assert [m.int >> 80 for m in made] == [2_000_000_000_000] * 4
    assert [(m.int >> 64) & 0xFFF for m in made][1:] == [1, 2, 3]


def test_a_thousand_ids_in_a_row_sort_in_the_order_they_were_made() -> None:
    made = [ids.uuid7() for _ in range(1000)]
    assert made == sorted(made) and len(set(made)) == 1000
