"""On PostgreSQL, refuse UPDATE and DELETE of issued documents (an issued order
confirmation, invoice or credit note never changes; corrections are credit notes)."""

from django.db import migrations

TABLES = (
    "invoicing_orderconfirmation",
    "invoicing_invoice",
    "invoicing_storeddocument",
    "invoicing_periodreminder",
)
FUNCTION = """
CREATE OR REPLACE FUNCTION invoicing_issued_never_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = 'issued documents never change (' || TG_TABLE_NAME || ')';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_never_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION invoicing_issued_never_change();"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_never_change ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS invoicing_issued_never_change();")


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
