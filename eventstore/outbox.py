"""The transactional outbox: side effects are rows written with the events that cause them,
sent to the broker after commit, and retried with backoff until the broker takes them.

A row stays due until a worker has finished its task (the task id is the row id; a signal
in the worker marks the row done). A task that a broker took but no worker finished, because
the worker was killed on a broker that cannot hand the task back (the filesystem broker) or
because its own retries ran out, is published again by the relay after the redelivery delay.

Delivery is at least once: a crash between publishing and marking a row sent publishes it
again, with the same task id, so tasks treat a repeated id as done."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from celery.signals import task_failure, task_success
from django.conf import settings
from django.db import connection, transaction

from core import clock
from eventstore.canonical import canonical_json
from eventstore.projection import ProjectionWriter, json_value
from eventstore.types import SideEffect

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=10)


def record(
    writer: ProjectionWriter, effects: Sequence[SideEffect], *, position: int, now: datetime
) -> list[uuid.UUID]:
    """Queue outbox rows on the append's writer and dispatch them once the commit happened."""
    ids = []
    for effect in effects:
        message_id = uuid.uuid4()
        ids.append(message_id)
        writer.execute(
            "INSERT INTO eventstore_outbox (id, position, task, kwargs, created_at,"
            " next_attempt_at) VALUES (%s, %s, %s, %s::jsonb, %s, %s)",
            (message_id, position, effect.task, canonical_json(effect.kwargs).decode(), now, now),
        )
    if ids:
        transaction.on_commit(lambda: _dispatch_quietly(ids), robust=True)
    return ids


def _dispatch_quietly(ids: list[uuid.UUID]) -> None:
    try:
        dispatch(ids=ids)
    except Exception:  # the relay will pick these rows up; a request must not fail for it
        log.exception("outbox dispatch after commit failed; the relay will retry")


@dataclass(frozen=True)
class DispatchReport:
    sent: int
    failed: int


def celery_app() -> Any:
    """The project's Celery app (config/celery.py makes it the default of every thread), found
    as Celery's current app so that the event store imports nothing from config."""
    return current_app._get_current_object()


def _publish(task: str, kwargs: dict[str, Any], message_id: str) -> None:
    celery_app().send_task(task, kwargs=kwargs, task_id=message_id)


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=2 ** min(attempts, 20)), MAX_BACKOFF)


def redelivery_delay() -> timedelta:
    """How long a published task may stay unfinished before the relay publishes it again: as
    long as a Redis broker waits before it hands an unacknowledged task to another worker."""
    return timedelta(seconds=settings.LEDGER_OUTBOX_REDELIVER_SECONDS)


def dispatch(*, ids: Sequence[uuid.UUID] | None = None, limit: int = 100) -> DispatchReport:
    """Publish due outbox rows (or just `ids`, once, after their commit), each row locked so
    relays never double-send. Due: never published and past its backoff, or published and
    not finished by a worker within the redelivery delay."""
    sent = failed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        now = clock.now()
        if ids is not None:
            cursor.execute(
                "SELECT id, task, kwargs, attempts FROM eventstore_outbox"
                " WHERE id = ANY(%s) AND dispatched_at IS NULL AND completed_at IS NULL"
                " FOR UPDATE SKIP LOCKED",
                (list(ids),),
            )
        else:
            cursor.execute(
                "SELECT id, task, kwargs, attempts FROM eventstore_outbox"
                " WHERE completed_at IS NULL AND next_attempt_at <= %s"
                " ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED",
                (now, limit),
            )
        rows = cursor.fetchall()
        for message_id, task, kwargs, attempts in rows:
            try:
                _publish(task, json_value(kwargs), str(message_id))
            except Exception as exc:  # any broker failure: keep the row, try again later
                failed += 1
                cursor.execute(
                    "UPDATE eventstore_outbox SET attempts = attempts + 1,"
                    " next_attempt_at = %s, last_error = %s WHERE id = %s",
                    (
                        now + backoff(attempts + 1),
                        f"{type(exc).__name__}: {exc}"[:2000],
                        message_id,
                    ),
                )
            else:
                sent += 1
                cursor.execute(
                    "UPDATE eventstore_outbox SET attempts = attempts + 1, dispatched_at = %s,"
                    " next_attempt_at = %s, last_error = '' WHERE id = %s",
                    (now, now + redelivery_delay(), message_id),
                )
    return DispatchReport(sent, failed)


def _row_id(task_id: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(task_id))
    except ValueError:
        return None  # not an outbox task (beat's tasks, tests' own ids)


def task_finished(task_id: Any) -> None:
    """A worker finished the task published for this row: it is not due any more."""
    row = _row_id(task_id)
    if row is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE eventstore_outbox SET completed_at = %s WHERE id = %s AND completed_at IS NULL",
            (clock.now(), row),
        )


def task_failed(task_id: Any, error: BaseException | None) -> None:
    """The task ran out of its own retries: the relay publishes it again after the backoff."""
    row = _row_id(task_id)
    if row is None:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT attempts FROM eventstore_outbox WHERE id = %s AND completed_at IS NULL"
            " FOR UPDATE",
            (row,),
        )
        found = cursor.fetchone()
        if found is None:
            return
        cursor.execute(
            "UPDATE eventstore_outbox SET next_attempt_at = %s, last_error = %s WHERE id = %s",
            (
                clock.now() + backoff(found[0]),
                f"task failed: {type(error).__name__}: {error}"[:2000],
                row,
            ),
        )


def _on_task_success(sender: Any = None, **kwargs: Any) -> None:
    task_finished(sender.request.id)


def _on_task_failure(task_id: Any = None, exception: Any = None, **kwargs: Any) -> None:
    task_failed(task_id, exception)


def connect_worker_signals() -> None:
    """A worker that finishes or gives up on an outbox task tells its row (EventStoreConfig.ready
    connects this in every process that sets Django up, workers included)."""
    task_success.connect(_on_task_success, weak=False, dispatch_uid="eventstore.outbox.success")
    task_failure.connect(_on_task_failure, weak=False, dispatch_uid="eventstore.outbox.failure")


def pending_count() -> int:
    """Rows no broker has taken yet."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM eventstore_outbox WHERE dispatched_at IS NULL")
        return cursor.fetchone()[0]


def unfinished_count() -> int:
    """Rows whose task no worker has finished yet, published or not."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM eventstore_outbox WHERE completed_at IS NULL")
        return cursor.fetchone()[0]


def relay(*, poll_seconds: float, stop_after: float | None = None) -> None:
    """Dispatch due rows until stopped; independent of the broker, so it survives outages."""
    deadline = time.monotonic() + stop_after if stop_after is not None else None
    while deadline is None or time.monotonic() < deadline:
        try:
            report = dispatch()
        except Exception:
            log.exception("outbox relay pass failed")
            connection.close()
            report = DispatchReport(0, 0)
        if report.sent == 0:
            time.sleep(poll_seconds)
