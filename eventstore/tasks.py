"""Celery tasks of the event store: an outbox sweep. Checkpoints are signed by the signer
process alone (eventstore/signer.py): workers hold no key."""

from celery import shared_task

from eventstore import outbox


@shared_task(name="eventstore.dispatch_outbox", acks_late=True, ignore_result=True)
def dispatch_outbox() -> int:
    return outbox.dispatch().sent
