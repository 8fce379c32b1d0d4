"""manage.py write_checkpoint: sequence new events and sign the log's Merkle root."""

from django.core.management.base import BaseCommand

from eventstore.checkpoints import write_checkpoint


class Command(BaseCommand):
    help = "Sequence new events into the Merkle tree and write a signed checkpoint."

    def handle(self, *args, **options):
        checkpoint = write_checkpoint()
        self.stdout.write(
            f"checkpoint {checkpoint.id}: tree size {checkpoint.tree_size},"
            f" root {bytes(checkpoint.root_hash).hex()}, key {checkpoint.key_id}"
        )
        self.stdout.write(checkpoint.note, ending="")
