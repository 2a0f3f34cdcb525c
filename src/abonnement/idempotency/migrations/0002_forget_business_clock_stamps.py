"""Keys used to be stamped with the business clock. Under a simulated clock running ahead,
such a key would outlive its 24 real hours. They are restamped to last 24 real hours from
now, not forgotten: one may belong to a request made minutes ago, whose retry must still
replay its first answer rather than run again."""

from datetime import timedelta
from typing import Any

from django.db import migrations
from django.utils import timezone


def restamp_future_stamps(apps: Any, schema_editor: Any) -> None:
    record = apps.get_model("idempotency", "IdempotencyRecord")
    now = timezone.now()
    record.objects.filter(expires_at__gt=now + timedelta(hours=24)).update(
        created_at=now, expires_at=now + timedelta(hours=24)
    )


class Migration(migrations.Migration):
    dependencies = [("idempotency", "0001_initial")]

    operations = [migrations.RunPython(restamp_future_stamps, migrations.RunPython.noop)]
