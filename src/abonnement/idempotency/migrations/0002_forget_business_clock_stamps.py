"""Keys used to be stamped with the business clock. Under a simulated clock running ahead,
such a key would outlive its 24 real hours; forget those (their requests are long done)."""

from datetime import timedelta
from typing import Any

from django.db import migrations
from django.utils import timezone


def forget_future_stamps(apps: Any, schema_editor: Any) -> None:
    record = apps.get_model("idempotency", "IdempotencyRecord")
    record.objects.filter(expires_at__gt=timezone.now() + timedelta(hours=24)).delete()


class Migration(migrations.Migration):
    dependencies = [("idempotency", "0001_initial")]

    operations = [migrations.RunPython(forget_future_stamps, migrations.RunPython.noop)]
