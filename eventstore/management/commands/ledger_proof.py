"""manage.py ledger_proof: the proofs an auditor checks against checkpoints they kept."""

import base64
import json

from django.core.management.base import BaseCommand, CommandError

from eventstore import checkpoints
from eventstore.models import Checkpoint


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


class Command(BaseCommand):
    help = (
        "Print, as JSON, an inclusion proof for an event (--position) or a consistency proof "
        "between two tree sizes (--consistency OLD NEW), against the signed checkpoints."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--position", type=int, help="global position of the event")
        group.add_argument("--consistency", type=int, nargs=2, metavar=("OLD", "NEW"))
        parser.add_argument("--tree-size", type=int, help="checkpoint to prove against")

    def handle(self, *args, position, consistency, tree_size, **options):
        try:
            if position is not None:
                body = self._inclusion(position, tree_size)
            else:
                body = self._consistency(*consistency)
        except (checkpoints.ProofUnavailable, Checkpoint.DoesNotExist, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(body, indent=2))

    def _inclusion(self, position: int, tree_size: int | None) -> dict:
        checkpoint = (
            Checkpoint.objects.get(tree_size=tree_size) if tree_size else checkpoints.latest()
        )
        if checkpoint is None:
            raise CommandError("no checkpoint has been written yet")
        proof = checkpoints.inclusion_proof(position, checkpoint.tree_size)
        return {
            "position": position,
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "leaf_hash": _b64(proof.leaf_hash),
            "path": [_b64(h) for h in proof.path],
            "checkpoint": checkpoint.note,
            "signature": _b64(bytes(checkpoint.signature)),
            "verifies": proof.verify(bytes(checkpoint.root_hash)),
        }

    def _consistency(self, old_size: int, new_size: int) -> dict:
        old = Checkpoint.objects.get(tree_size=old_size)
        new = Checkpoint.objects.get(tree_size=new_size)
        proof = checkpoints.consistency_proof(old_size, new_size)
        return {
            "old": old.note,
            "new": new.note,
            "proof": [_b64(h) for h in proof],
            "verifies": checkpoints.verify_consistency(old, new, proof),
        }
