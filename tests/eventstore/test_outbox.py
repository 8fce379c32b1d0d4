"""The transactional outbox against a real broker and worker: after commit, never before,
and retried until a broker that was down takes the message."""

from __future__ import annotations

import threading
import time
import uuid
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
from tests.conftest import new_stream, wait_until

delivered: dict[str, list[str]] = {}
arrived = threading.Condition()


def _record(token: str, task_id: str) -> None:
    with arrived:
        delivered.setdefault(token, []).append(task_id)
        arrived.notify_all()


@shared_task(name="tests.record_delivery", bind=True)
def record_delivery(self, token: str) -> None:
    _record(token, self.request.id)


allowed: set[str] = set()


@shared_task(name="tests.fails_until_allowed", bind=True)
def fails_until_allowed(self, token: str) -> None:
    if token not in allowed:
        raise RuntimeError("the mail server is down")
    _record(token, self.request.id)


def wait_for(token: str, timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    with arrived:
        while token not in delivered and time.monotonic() < deadline:
            arrived.wait(deadline - time.monotonic())
    return delivered.get(token, [])


def append_with_delivery(meta: dict, token: str, task: str = "tests.record_delivery") -> None:
    """Append one event whose side effect records `token` when a worker runs it."""
    store.append(
        new_stream(),
        NO_STREAM,
        [NewEvent("test.Happened", {})],
        meta,
        side_effects=[SideEffect(task, {"token": token})],
    )


def nowhere(tmp_path) -> Celery:
    """A broker that takes tasks into a folder no worker reads. Like every stand-in app here it
    is not made current: the outbox publishes through Celery's current app."""
    folder = tmp_path / "lost"
    folder.mkdir(exist_ok=True)
    lost = Celery("lost", broker="filesystem://", set_as_current=False)
    lost.conf.broker_transport_options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
    }
    return lost


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
    # The worker marks the row done once the task finished: the relay leaves it alone.
    assert wait_until(lambda: OutboxMessage.objects.get().completed_at is not None)
    assert outbox.unfinished_count() == 0
    with clock.frozen(message.next_attempt_at + timedelta(days=1)):
        assert outbox.dispatch().sent == 0


def test_nothing_is_sent_when_the_transaction_rolls_back(worker, meta):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        append_with_delivery(meta, "rolled-back")
        raise Abort
    assert wait_for("rolled-back", timeout=2) == []
    assert not OutboxMessage.objects.exists()


def test_message_waits_and_is_retried_when_the_broker_is_down(worker, meta, monkeypatch):
    unreachable = Celery("down", broker="redis://127.0.0.1:1/0", set_as_current=False)
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


def test_outbox_publishes_through_the_project_app_when_called_from_any_thread():
    found = []
    elsewhere = threading.Thread(target=lambda: found.append(outbox.celery_app()))
    elsewhere.start()
    elsewhere.join()
    assert outbox.celery_app() is app
    assert found == [app]


def test_backoff_grows_and_is_capped_when_attempts_pile_up():
    assert outbox.backoff(1) < outbox.backoff(3) < outbox.backoff(6)
    assert outbox.backoff(50) == outbox.MAX_BACKOFF


def test_a_published_task_no_worker_finished_is_published_again_after_the_delay(
    worker, meta, monkeypatch, tmp_path
):
    # A broker took the task and then lost it (a filesystem queue nobody reads stands in for
    # a worker killed on the filesystem broker).
    monkeypatch.setattr(outbox, "celery_app", lambda: nowhere(tmp_path))
    append_with_delivery(meta, "lost-once")
    message = OutboxMessage.objects.get()
    assert message.dispatched_at is not None and message.completed_at is None
    assert message.next_attempt_at == message.dispatched_at + outbox.redelivery_delay()
    assert outbox.pending_count() == 0 and outbox.unfinished_count() == 1

    monkeypatch.setattr(outbox, "celery_app", lambda: app)
    with clock.frozen(message.next_attempt_at - timedelta(seconds=1)):
        assert outbox.dispatch().sent == 0
    with clock.frozen(message.next_attempt_at + timedelta(seconds=1)):
        assert outbox.dispatch().sent == 1
    assert wait_for("lost-once") == [str(message.id)]
    assert wait_until(lambda: OutboxMessage.objects.get().completed_at is not None)
    message.refresh_from_db()
    assert message.attempts == 2
    with clock.frozen(message.next_attempt_at + timedelta(seconds=1)):
        assert outbox.dispatch().sent == 0


def test_a_task_that_fails_is_published_again_after_its_backoff_until_it_succeeds(worker, meta):
    append_with_delivery(meta, "flaky", task="tests.fails_until_allowed")
    assert wait_until(lambda: OutboxMessage.objects.get().last_error.startswith("task failed"))
    message = OutboxMessage.objects.get()
    assert "RuntimeError: the mail server is down" in message.last_error
    assert message.completed_at is None
    assert message.next_attempt_at < message.dispatched_at + outbox.redelivery_delay()

    allowed.add("flaky")
    with clock.frozen(message.next_attempt_at + timedelta(seconds=1)):
        assert outbox.dispatch().sent == 1
    assert wait_for("flaky") == [str(message.id)]
    assert wait_until(lambda: OutboxMessage.objects.get().completed_at is not None)


def test_tasks_that_are_not_outbox_rows_leave_the_outbox_alone(
    pristine_ledger, meta, monkeypatch, tmp_path
):
    monkeypatch.setattr(outbox, "celery_app", lambda: nowhere(tmp_path))
    append_with_delivery(meta, "untouched")  # the row stays published, unfinished
    outbox.task_finished("scan-1")
    outbox.task_failed("celery-beat-1", RuntimeError("no"))
    outbox.task_finished(str(uuid.uuid4()))
    message = OutboxMessage.objects.get()
    assert message.completed_at is None and message.last_error == ""
