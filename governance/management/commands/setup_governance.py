"""manage.py setup_governance FILE --as USER: teams, people, board members and chairs, risk
officers and auditors from a YAML or JSON file, in one transaction, idempotently
(governance/management/setup.py). Exit status 2, and nothing changed, on any problem."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from governance.management.setup import SetupError, apply, parse, read_file


class Command(BaseCommand):
    help = (
        "Create teams, users, board memberships and the risk-officer and auditor roles from a"
        " YAML or JSON file (see docs/setup-governance.md). Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--as",
            dest="admin",
            required=True,
            help="the superuser the changes are recorded for",
        )
        parser.add_argument("--check", action="store_true", help="check the file, change nothing")

    def handle(self, *args, **options):
        admin = get_user_model().objects.filter(username=options["admin"], is_active=True).first()
        # The file creates staff accounts and grants the risk officers' permission: a
        # superuser's doing, whatever else the user may administer.
        if admin is None or not admin.is_superuser:
            raise CommandError(
                f"--as {options['admin']}: no active superuser of that name", returncode=2
            )
        try:
            setup = parse(read_file(options["file"]))
            if options["check"]:
                self.stdout.write(f"{options['file']}: no problems found")
                return
            report = apply(setup, admin=admin)
        except SetupError as exc:
            lines = "\n".join(f"  - {problem}" for problem in exc.problems)
            raise CommandError(
                f"{options['file']}: nothing was changed:\n{lines}", returncode=2
            ) from None
        except DomainError as exc:
            raise CommandError(
                f"{options['file']}: nothing was changed: {exc.detail}", returncode=2
            ) from None
        for change in report.changes:
            self.stdout.write(change)
        if not report.changes:
            self.stdout.write("nothing to change")
        for username, password in report.passwords.items():
            self.stdout.write(f"password of {username} (shown once): {password}")
