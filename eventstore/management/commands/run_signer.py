"""manage.py run_signer: the one process that holds LEDGER_SIGNING_KEY and signs checkpoints."""

import threading

from django.core.management.base import BaseCommand, CommandError

from eventstore import checkpoints, signer


class Command(BaseCommand):
    help = (
        "Sign checkpoints of the log every LEDGER_CHECKPOINT_SECONDS and whenever asked"
        " (NOTIFY ledger_checkpoint), until SIGTERM or SIGINT. Needs LEDGER_SIGNING_KEY."
    )

    def handle(self, *args, **options):
        try:
            key = checkpoints.signing_key()
        except checkpoints.SigningKeyError as exc:
            raise CommandError(str(exc)) from exc
        stop = threading.Event()
        signer.stop_on_signals(stop)
        kid = checkpoints.key_id(checkpoints.public_key_bytes(key.public_key()))
        self.stdout.write(f"signer: key id {kid}, listening on {signer.CHANNEL}")
        looks = signer.run(stop, key=key)
        self.stdout.write(f"signer: stopped after {looks} looks at the log")
