"""Load the e-invoice operator table (billing/operators.json)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from abonnement.billing.operators import load_operator_table

    Operator = apps.get_model("billing", "EInvoiceOperator")
    for row in load_operator_table():
        Operator.objects.update_or_create(code=row["code"], defaults={"name": row["name"]})


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
