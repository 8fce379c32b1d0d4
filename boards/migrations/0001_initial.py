"""The Board read table, created by approvals 0001, belongs to the boards app from here on. The
table (approvals_board) stays where it is, with its rows and constraint: this migration only
records in Django's state that boards owns it; approvals 0004 takes it out of approvals' state."""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("approvals", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Board",
                    fields=[
                        ("id", models.UUIDField(primary_key=True, serialize=False)),
                        ("name", models.CharField(max_length=50)),
                        ("title", models.CharField(blank=True, max_length=200)),
                        ("members", models.JSONField(default=list)),
                        ("chair_id", models.IntegerField(null=True)),
                        ("stream_version", models.BigIntegerField()),
                        ("created_at", models.DateTimeField()),
                        ("updated_at", models.DateTimeField()),
                    ],
                    options={
                        "db_table": "approvals_board",
                        "ordering": ["name"],
                        "constraints": [
                            models.UniqueConstraint(
                                django.db.models.functions.text.Lower("name"),
                                name="approvals_board_name_ci",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
