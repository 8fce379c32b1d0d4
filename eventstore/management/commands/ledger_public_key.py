"""manage.py ledger_public_key: print the checkpoint verification keys auditors pin."""

from django.core.management.base import BaseCommand

from eventstore.checkpoints import published_keys


class Command(BaseCommand):
    help = (
        "Print the base64 Ed25519 public key that signs checkpoints and audit bundles"
        " (pass it to verify.py --public-key); --all adds the retired keys of"
        " LEDGER_TRUSTED_KEYS as '<key id> <key> current|retired' lines (pass each with its"
        " own --public-key)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="list every trusted key with its key id"
        )

    def handle(self, *args, **options):
        keys = published_keys()
        if not options["all"]:
            self.stdout.write(keys[0].public_key)
            return
        for key in keys:
            state = "current" if key.current else "retired"
            self.stdout.write(f"{key.key_id} {key.public_key} {state}")
