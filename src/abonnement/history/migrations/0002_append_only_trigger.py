"""On PostgreSQL, refuse UPDATE and DELETE on the history table (Rule 13: append-only)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION history_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'history entries are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER history_append_only
  BEFORE UPDATE OR DELETE ON history_historyentry
  FOR EACH ROW EXECUTE FUNCTION history_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS history_append_only ON history_historyentry;
DROP FUNCTION IF EXISTS history_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("history", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
