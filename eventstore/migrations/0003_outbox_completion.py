"""Outbox rows stay due until a worker finished their task, not only until a broker took it."""

from django.db import migrations, models

FORWARD = """
ALTER TABLE eventstore_outbox ADD COLUMN completed_at timestamptz;
-- Rows published before this change are taken as done: nothing is sent twice on upgrade.
UPDATE eventstore_outbox SET completed_at = dispatched_at WHERE dispatched_at IS NOT NULL;
DROP INDEX eventstore_outbox_pending;
CREATE INDEX eventstore_outbox_due ON eventstore_outbox (next_attempt_at)
    WHERE completed_at IS NULL;
"""

REVERSE = """
DROP INDEX eventstore_outbox_due;
CREATE INDEX eventstore_outbox_pending ON eventstore_outbox (next_attempt_at)
    WHERE dispatched_at IS NULL;
ALTER TABLE eventstore_outbox DROP COLUMN completed_at;
"""


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0002_checkpoint_schedule")]

    operations = [
        migrations.RunSQL(FORWARD, reverse_sql=REVERSE),
        migrations.AddField(
            model_name="outboxmessage",
            name="completed_at",
            field=models.DateTimeField(null=True),
        ),
    ]
