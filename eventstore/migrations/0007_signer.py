"""The signer process: the only holder of the signing key writes checkpoints.

- `eventstore_sequencer.checked_at`: when the signer last looked at the log (sequenced the new
  events and signed the tree if it grew), so a reader can tell how fresh the newest checkpoint
  is and wait for a look it asked for (signer.fresh_checkpoint).
- The Celery beat checkpoint seeded by 0002 goes: workers hold no key. Reversed, the row is
  seeded again as 0002 seeded it."""

from django.db import migrations

TASK_NAME = "eventstore: sign a checkpoint of the log"


def drop_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task="eventstore.write_checkpoint"
    ).delete()


def restore_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "eventstore.write_checkpoint", "interval": every, "enabled": True},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("eventstore", "0006_subtrees"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE eventstore_sequencer ADD COLUMN checked_at timestamptz",
            reverse_sql="ALTER TABLE eventstore_sequencer DROP COLUMN checked_at",
        ),
        migrations.RunPython(drop_schedule, restore_schedule),
    ]
