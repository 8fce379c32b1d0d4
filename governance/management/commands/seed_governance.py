"""manage.py seed_governance: record the default risk-tier policy and the default review
boards as events, where they are missing. Idempotent; the migrations run it."""

from django.core.management.base import BaseCommand

from boards.commands import ensure_default_boards
from governance.commands import ensure_default_policy


class Command(BaseCommand):
    help = (
        "Seed the default risk-tier policy (docs/governance-policy.md) and review boards,"
        " if missing."
    )

    def handle(self, *args, **options):
        current = ensure_default_policy()
        boards = ensure_default_boards()
        if options["verbosity"] > 0:
            self.stdout.write(
                f"policy version {current.number} in force;"
                f" boards: {', '.join(b.name for b in boards)}"
            )
