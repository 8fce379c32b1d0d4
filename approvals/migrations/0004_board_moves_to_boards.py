"""The Board model moves to the boards app (boards 0001): approvals forgets it in its state only,
so the table and its rows stay. In its place approvals keeps a proxy named Board, which holds on
to the content type (approvals, board): the admin URLs, the view and manage_board permissions,
and the users and groups granted them are unchanged."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0003_auditors_without_secrets"),
        ("boards", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Board")],
            database_operations=[],
        ),
        migrations.CreateModel(
            name="Board",
            fields=[],
            options={
                "proxy": True,
                "indexes": [],
                "constraints": [],
                "permissions": [("manage_board", "Can create boards and change their members")],
            },
            bases=("boards.board",),
        ),
    ]
