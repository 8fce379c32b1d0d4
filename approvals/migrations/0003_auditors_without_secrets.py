"""Installations set up before: take the API-token and session permissions away from the
`auditors` group (reading a token is acting as its owner)."""

from django.db import migrations


def strip_secrets(apps, schema_editor):
    from approvals.permissions import AUDITORS, secret_permissions

    group = apps.get_model("auth", "Group").objects.filter(name=AUDITORS).first()
    if group is not None:
        group.permissions.remove(*secret_permissions(apps.get_model("auth", "Permission")))


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0002_seed_and_auditors"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(strip_secrets, migrations.RunPython.noop)]
