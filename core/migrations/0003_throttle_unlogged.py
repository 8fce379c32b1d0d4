"""Throttle counters need no write-ahead log: after a crash they start from zero, and a
request no longer waits for a WAL flush just to be counted."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0002_throttle_counters")]
    operations = [
        migrations.RunSQL(
            "ALTER TABLE core_throttle SET UNLOGGED", "ALTER TABLE core_throttle SET LOGGED"
        )
    ]
