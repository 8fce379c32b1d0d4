"""manage.py witness: watch a ledger's signed checkpoints (eventstore.audit.witness)."""

import argparse
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config import env
from eventstore.audit import witness


class Command(BaseCommand):
    help = (
        "Keep the ledger's signed checkpoints in a state file, accepting a newer one only with "
        "a consistency proof from the last one kept; exits 2 on evidence of a fork or rewrite."
    )

    def add_arguments(self, parser):
        witness.add_arguments(parser)

    def handle(self, *args, **options):
        arguments = argparse.Namespace(**{**options, "state": Path(options["state"])})
        token = env.optional(options["token_env"])
        status = witness.run(arguments, token, self.stdout, self.stderr)
        if status:
            raise CommandError(f"the witness stopped (status {status})", returncode=status)
