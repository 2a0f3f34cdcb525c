"""The history is append-only (PRODUCT.md Rule 13; DESIGN "History")."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from abonnement.core.actor import Actor
from abonnement.history.models import HistoryEntry, HistoryKind
from abonnement.history.services import record
from tests.conftest import NOW

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="TRUNCATE exists on PostgreSQL only"
)


def entry(org: Any, admin: Actor) -> HistoryEntry:
    return record(
        organization_id=org.pk,
        actor=admin,
        now=NOW,
        kind=HistoryKind.ORGANIZATION,
        action="name_changed",
        subject="Testi Oy",
        before={"name": "Old Oy"},
        after={"name": "Testi Oy"},
    )


def stored(pk: int) -> dict[str, Any]:
    return HistoryEntry.objects.filter(pk=pk).values().get()


class TestModel:
    def test_recording_appends_a_row(self, org: Any, admin: Actor) -> None:
        created = entry(org, admin)
        row = stored(created.pk)
        assert admin.user is not None
        assert {k: v for k, v in row.items() if k not in ("id", "organization_id")} == {
            "at": NOW,
            "actor_type": "user",
            "actor_name": "Anna Admin",
            "actor_user_id": admin.user.pk,
            "channel": "portal",
            "kind": "organization",
            "action": "name_changed",
            "subject": "Testi Oy",
            "before": {"name": "Old Oy"},
            "after": {"name": "Testi Oy"},
            "reason": "",
        }

    def test_saving_an_existing_entry_raises(self, org: Any, admin: Actor) -> None:
        created = entry(org, admin)
        before = stored(created.pk)
        created.reason = "rewritten"
        with pytest.raises(RuntimeError, match="append-only"):
            created.save()
        assert stored(created.pk) == before

    def test_saving_a_re_read_entry_raises(self, org: Any, admin: Actor) -> None:
        created = entry(org, admin)
        again = HistoryEntry.objects.get(pk=created.pk)
        again.after = {"name": "Forged Oy"}
        with pytest.raises(RuntimeError, match="append-only"):
            again.save(update_fields=["after"])
        assert stored(created.pk)["after"] == {"name": "Testi Oy"}

    def test_deleting_an_entry_raises(self, org: Any, admin: Actor) -> None:
        created = entry(org, admin)
        count = HistoryEntry.objects.count()
        with pytest.raises(RuntimeError, match="append-only"):
            created.delete()
        assert HistoryEntry.objects.count() == count

    def test_long_texts_are_cut_to_their_columns(self, org: Any, admin: Actor) -> None:
        created = record(
            organization_id=org.pk,
            actor=Actor.vendor_token("v" * 300),
            now=NOW,
            kind=HistoryKind.ORGANIZATION,
            action="name_changed",
            subject="s" * 10_000,
            reason="r" * 10_000,
        )
        row = stored(created.pk)
        assert (len(row["actor_name"]), len(row["subject"]), len(row["reason"])) == (200, 200, 500)


class TestDatabaseTrigger:
    """The database refuses what the model refuses, on PostgreSQL and on SQLite."""

    def test_raw_update_is_refused(self, org: Any, admin: Actor) -> None:
        created = entry(org, admin)
        before = stored(created.pk)
        table = HistoryEntry._meta.db_table
        with (
            pytest.raises(DatabaseError, match="history entries are append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"UPDATE {table} SET reason = 'forged' WHERE id = %s", [created.pk])
        assert stored(created.pk) == before

    def test_raw_delete_is_refused(self, org: Any, admin: Actor) -> None:
        created = entry(org, admin)
        count = HistoryEntry.objects.count()
        table = HistoryEntry._meta.db_table
        with (
            pytest.raises(DatabaseError, match="history entries are append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [created.pk])
        assert HistoryEntry.objects.count() == count

    def test_queryset_update_and_delete_are_refused(self, org: Any, admin: Actor) -> None:
        created = entry(org, admin)
        before = stored(created.pk)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            HistoryEntry.objects.filter(pk=created.pk).update(reason="forged")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            HistoryEntry.objects.filter(pk=created.pk).delete()
        assert stored(created.pk) == before

    def test_inserting_is_still_allowed(self, org: Any, admin: Actor) -> None:
        count = HistoryEntry.objects.count()
        entry(org, admin)
        entry(org, admin)
        assert HistoryEntry.objects.count() == count + 2

    @postgres_only
    def test_truncate_is_refused(self, org: Any, admin: Actor) -> None:
        created = entry(org, admin)
        before = stored(created.pk)
        count = HistoryEntry.objects.count()
        table = HistoryEntry._meta.db_table
        with (
            pytest.raises(DatabaseError, match="history entries are append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the insert's deferred checks
            cursor.execute(f"TRUNCATE {table}")
        assert HistoryEntry.objects.count() == count
        assert stored(created.pk) == before

    @postgres_only
    def test_truncate_cascading_from_the_organisations_is_refused(
        self, org: Any, admin: Actor
    ) -> None:
        created = entry(org, admin)
        count = HistoryEntry.objects.count()
        with (
            pytest.raises(DatabaseError, match="history entries are append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("TRUNCATE organizations_organization CASCADE")
        assert HistoryEntry.objects.count() == count
        assert stored(created.pk)["organization_id"] == org.pk

    @postgres_only
    def test_the_wipe_setting_outside_the_flush_lets_only_truncate_through(
        self, org: Any, admin: Actor
    ) -> None:
        """The setting opens TRUNCATE, never a row's UPDATE or DELETE."""
        created = entry(org, admin)
        table = HistoryEntry._meta.db_table
        with (
            pytest.raises(DatabaseError, match="history entries are append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET LOCAL abonnement.allow_history_wipe = 'on'")
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [created.pk])
        assert HistoryEntry.objects.filter(pk=created.pk).exists()

    def test_the_test_suites_flush_still_empties_the_table(self, org: Any, admin: Actor) -> None:
        """What pytest-django does between transactional tests (tests/conftest.py): the
        flush alone may wipe the history, and the triggers are there again afterwards."""
        from django.core.management.color import no_style

        created = entry(org, admin)
        table = HistoryEntry._meta.db_table
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the insert's deferred checks
        connection.ops.execute_sql_flush(
            connection.ops.sql_flush(no_style(), [table], allow_cascade=False)
        )
        assert HistoryEntry.objects.count() == 0
        again = entry(org, admin)
        with (
            pytest.raises(DatabaseError, match="history entries are append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [again.pk])
        assert HistoryEntry.objects.filter(pk=again.pk).exists()
        assert created.pk != again.pk


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Edition-change request reopened: Enterprise"),
        ("nl", "Aanvraag voor versiewijziging heropend: Enterprise"),
        ("fi", "Versionvaihtopyyntö avattu uudelleen: Enterprise"),
    ],
)
def test_a_reopened_edition_request_is_described(language: str, text: str) -> None:
    from django.utils import translation

    from abonnement.history.models import HistoryEntry
    from abonnement.history.rows import _describe

    entry = HistoryEntry(kind="edition", action="edition_request_reopened", subject="Enterprise")
    with translation.override(language):
        assert _describe(entry, {}, {}) == text


@pytest.mark.parametrize(
    ("action", "text"),
    [
        ("licenses_removal_reduced", "User licences for the next period: 5 → 8"),
        ("storage_packs_removal_reduced", "Storage packs for the next period: 5 → 8"),
    ],
)
def test_a_smaller_scheduled_removal_is_described(action: str, text: str) -> None:
    from abonnement.history.rows import _describe

    entry = HistoryEntry(
        kind="licenses",
        action=action,
        subject="licenses",
        before={"current": 10, "next": 5},
        after={"current": 10, "next": 8},
    )
    assert _describe(entry, {}, {}) == text
