"""The transactional outbox against a real broker and worker: after commit, never before,
and retried until a broker that was down takes the message."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from celery import Celery, shared_task
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from config.celery import app
from core import clock
from eventstore import outbox, store
from eventstore.models import OutboxMessage
from eventstore.types import NO_STREAM, NewEvent, SideEffect
from tests.conftest import new_stream

delivered: dict[str, list[str]] = {}
arrived = threading.Condition()


@shared_task(name="tests.record_delivery", bind=True)
def record_delivery(self, token: str) -> None:
    with arrived:
        delivered.setdefault(token, []).append(self.request.id)
        arrived.notify_all()


def wait_for(token: str, timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    with arrived:
        while token not in delivered and time.monotonic() < deadline:
            arrived.wait(deadline - time.monotonic())
    return delivered.get(token, [])


def append_with_delivery(meta: dict, token: str) -> None:
    """Append one event whose side effect records `token` when a worker runs it."""
    store.append(
        new_stream(),
        NO_STREAM,
        [NewEvent("test.Happened", {})],
        meta,
        side_effects=[SideEffect("tests.record_delivery", {"token": token})],
    )


@pytest.fixture
def worker(pristine_ledger):
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def test_side_effect_is_delivered_after_commit_when_broker_and_worker_run(worker, meta):
    with transaction.atomic():
        append_with_delivery(meta, "after-commit")
        assert OutboxMessage.objects.get().dispatched_at is None
    task_ids = wait_for("after-commit")
    message = OutboxMessage.objects.get()
    assert task_ids == [str(message.id)]
    assert message.dispatched_at is not None
    assert message.attempts == 1


def test_nothing_is_sent_when_the_transaction_rolls_back(worker, meta):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        append_with_delivery(meta, "rolled-back")
        raise Abort
    assert wait_for("rolled-back", timeout=2) == []
    assert not OutboxMessage.objects.exists()


def test_message_waits_and_is_retried_when_the_broker_is_down(worker, meta, monkeypatch):
    unreachable = Celery("down", broker="redis://127.0.0.1:1/0")
    unreachable.conf.broker_connection_timeout = 0.5
    unreachable.conf.task_publish_retry_policy = {"max_retries": 0}
    monkeypatch.setattr(outbox, "celery_app", lambda: unreachable)
    with transaction.atomic():
        append_with_delivery(meta, "outage")
    message = OutboxMessage.objects.get()
    assert message.dispatched_at is None
    assert message.attempts == 1
    assert message.last_error
    assert outbox.pending_count() == 1

    # The broker is back; the relay delivers once the backoff has passed, and only then.
    monkeypatch.setattr(outbox, "celery_app", lambda: app)
    assert outbox.dispatch().sent == 0
    with clock.frozen(message.next_attempt_at + timedelta(seconds=1)):
        assert outbox.dispatch().sent == 1
    assert wait_for("outage") == [str(message.id)]
    assert outbox.dispatch().sent == 0
    assert outbox.pending_count() == 0


def test_backoff_grows_and_is_capped_when_attempts_pile_up():
    assert outbox.backoff(1) < outbox.backoff(3) < outbox.backoff(6)
    assert outbox.backoff(50) == outbox.MAX_BACKOFF
