"""Celery tasks of the registry: the background re-hash of a promoted version's artifact,
queued in the transaction that deployed it or gave it the production alias. Thin: it calls
one command. Delivered at least once; a re-hash records a tamper once (the version is then
marked), so a redelivery records nothing twice."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from celery import shared_task
from django.db import InterfaceError, OperationalError

from core.actors import Actor
from registry.commands.artifacts import REHASH_ARTIFACT_TASK, recheck_artifact

REHASH_ARTIFACT = REHASH_ARTIFACT_TASK
# Delivered at least once: acknowledged late, redone when a worker dies, retried with backoff.
# Every task of the apps above takes these options.
RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 10,
    "ignore_result": True,
}
# The database or the artifact store away: a later try may succeed.
STORE_FAILURES = (OperationalError, InterfaceError, OSError, BotoCoreError, ClientError)


@shared_task(name=REHASH_ARTIFACT, bind=True, autoretry_for=STORE_FAILURES, **RETRY)
def rehash_artifact(self, version_id: str) -> bool:
    """Read the version's stored artifact whole and compare it with what was verified."""
    actor = Actor.system(REHASH_ARTIFACT, causation_id=self.request.id)
    return recheck_artifact(actor=actor, version_id=version_id)
