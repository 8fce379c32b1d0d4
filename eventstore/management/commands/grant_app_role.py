"""manage.py grant_app_role: the least-privileged role the service connects as."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from eventstore.privileges import APPEND_ONLY_TABLES, grant_application_role


class Command(BaseCommand):
    help = (
        "Create (or update) the database role the running service uses: SELECT and INSERT on"
        " the event log, row rights elsewhere, owner of nothing. Run after every migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="role name, e.g. ledger_app")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="environment variable holding the role's password (the role can then log in)",
        )

    def handle(self, *args, role, password_env=None, **options):
        password = None
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"{password_env} is not set")
        with transaction.atomic(), connection.cursor() as cursor:
            tables = grant_application_role(cursor.cursor, role, password)
        others = len(tables) - len(APPEND_ONLY_TABLES)
        self.stdout.write(
            f"role {role}: SELECT, INSERT on {', '.join(APPEND_ONLY_TABLES)};"
            f" SELECT, INSERT, UPDATE, DELETE on {others} other tables"
        )
