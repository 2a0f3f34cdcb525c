"""The history table is append-only on every database (PRODUCT.md Rule 13).

PostgreSQL: 0002's row trigger refuses UPDATE and DELETE, but ``TRUNCATE`` fires no row
trigger, so it wiped the table. A statement-level ``BEFORE TRUNCATE`` trigger refuses it
too, also when the table is reached through ``TRUNCATE … CASCADE`` of the organisations.

SQLite: triggers refuse UPDATE and DELETE, as 0002 does on PostgreSQL.

The one wipe allowed is the test suite's flush between transactional tests (Django's
``flush``: ``TRUNCATE`` on PostgreSQL, ``DELETE`` on SQLite). ``tests/conftest.py`` runs it
with ``SET LOCAL abonnement.allow_history_wipe = 'on'`` on PostgreSQL (the TRUNCATE trigger
lets that one transaction through), and on SQLite drops these triggers and creates them
again in the flush's own transaction (SQLite triggers cannot read a session setting).
``SQLITE_DROP`` and ``SQLITE_CREATE`` are what it uses. Nothing in the product sets the
setting, and an installation's ``manage.py flush`` is refused like any other wipe.

A later migration that makes SQLite rebuild the history table (most ``AlterField``s) drops
these triggers with the old table: it must create them again.
"""

from django.db import migrations

TABLE = "history_historyentry"
MESSAGE = "history entries are append-only"
WIPE_SETTING = "abonnement.allow_history_wipe"

POSTGRESQL_CREATE = f"""
CREATE OR REPLACE FUNCTION history_no_truncate() RETURNS trigger AS $$
BEGIN
  IF current_setting('{WIPE_SETTING}', true) = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION '{MESSAGE}';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER history_no_truncate
  BEFORE TRUNCATE ON {TABLE}
  FOR EACH STATEMENT EXECUTE FUNCTION history_no_truncate();
"""
POSTGRESQL_DROP = f"""
DROP TRIGGER IF EXISTS history_no_truncate ON {TABLE};
DROP FUNCTION IF EXISTS history_no_truncate();
"""

SQLITE_CREATE = [
    f"CREATE TRIGGER history_append_only_{event.lower()} BEFORE {event} ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"
    for event in ("UPDATE", "DELETE")
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS history_append_only_{event.lower()};" for event in ("UPDATE", "DELETE")
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE)
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("history", "0003_drop_redundant_fk_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
