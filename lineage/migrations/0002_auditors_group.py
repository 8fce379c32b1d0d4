"""The auditors group, who may export lineage, audit trails and audit bundles.

get_or_create: another app may create the same group, and neither must fail for it."""

from django.db import migrations

AUDITORS = "auditors"


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=AUDITORS)


class Migration(migrations.Migration):
    dependencies = [
        ("lineage", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_group, migrations.RunPython.noop)]
