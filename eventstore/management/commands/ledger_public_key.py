"""manage.py ledger_public_key: print the checkpoint verification keys auditors pin, or the
public key of a signing seed (to list it in LEDGER_TRUSTED_KEYS)."""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from eventstore.checkpoints import (
    SigningKeyError,
    holds_signing_key,
    public_key_of_seed,
    published_keys,
)


class Command(BaseCommand):
    help = (
        "Print the base64 Ed25519 public key that signs checkpoints (pass it to verify.py"
        " --public-key); --all adds the retired keys of LEDGER_TRUSTED_KEYS as"
        " '<key id> <key> current|retired' lines (pass each with its own --public-key)."
        " --own prints the public key of this process's LEDGER_SIGNING_KEY (run it in the"
        " signer's environment), --seed-file the public key of a seed read from a file ('-':"
        " standard input): what LEDGER_TRUSTED_KEYS lists."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="list every trusted key with its key id"
        )
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--own",
            action="store_true",
            help="the public key of LEDGER_SIGNING_KEY in this process's environment",
        )
        source.add_argument(
            "--seed-file",
            metavar="FILE",
            help="the public key of the base64 seed in FILE ('-' for standard input)",
        )

    def handle(self, *args, **options):
        if options["own"] or options["seed_file"]:
            self.stdout.write(self._public_key_of_seed(options))
            return
        keys = published_keys()
        if not keys:
            raise CommandError(
                "no checkpoint key is known: set LEDGER_TRUSTED_KEYS to the signer's public key"
                " (manage.py ledger_public_key --own in the signer's environment)"
            )
        if not options["all"]:
            self.stdout.write(keys[0].public_key)
            return
        for key in keys:
            state = "current" if key.current else "retired"
            self.stdout.write(f"{key.key_id} {key.public_key} {state}")

    def _public_key_of_seed(self, options) -> str:
        if options["own"]:
            if not holds_signing_key():
                raise CommandError("LEDGER_SIGNING_KEY is not set in this process's environment")
            seed = settings.LEDGER_SIGNING_KEY
        elif options["seed_file"] == "-":
            seed = sys.stdin.read().strip()
        else:
            with open(options["seed_file"], encoding="ascii") as handle:
                seed = handle.read().strip()
        try:
            return public_key_of_seed(seed)
        except SigningKeyError as exc:
            raise CommandError(str(exc)) from exc
