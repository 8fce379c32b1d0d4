"""Seed the default policy and boards as events, and the read-only `auditors` group."""

from django.core.management import call_command
from django.db import migrations


def seed(apps, schema_editor):
    call_command("seed_governance", verbosity=0)


def auditors(apps, schema_editor):
    # Permissions are normally created after migrate; create them now so the group gets them.
    from django.apps import apps as live_apps
    from django.contrib.auth.management import create_permissions

    for config in live_apps.get_app_configs():
        create_permissions(config, verbosity=0)
    from approvals.permissions import ensure_auditors_group

    ensure_auditors_group(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0001_initial"),
        ("governance", "0001_initial"),
        ("registry", "0001_initial"),
        ("eventstore", "0002_checkpoint_schedule"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(auditors, migrations.RunPython.noop),
    ]
