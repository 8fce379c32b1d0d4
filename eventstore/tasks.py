"""Celery tasks of the event store: the periodic checkpoint and an outbox sweep."""

from celery import shared_task

from eventstore import checkpoints, outbox


@shared_task(name="eventstore.write_checkpoint", acks_late=True, ignore_result=True)
def write_checkpoint() -> int:
    """Idempotent: an unchanged tree is not signed twice."""
    return checkpoints.write_checkpoint().tree_size


@shared_task(name="eventstore.dispatch_outbox", acks_late=True, ignore_result=True)
def dispatch_outbox() -> int:
    return outbox.dispatch().sent
