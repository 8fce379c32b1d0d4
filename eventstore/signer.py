"""The signer: the one process that holds LEDGER_SIGNING_KEY and writes checkpoints.

`manage.py run_signer` runs `run()`: it looks at the log (sequences the new events and signs
the tree if it grew, `checkpoints.write_checkpoint`) every LEDGER_CHECKPOINT_SECONDS and
whenever asked, and records in `eventstore_sequencer.checked_at` when each look began. It is
asked through PostgreSQL: `NOTIFY ledger_checkpoint`. A lost database connection (a restart, a
failover) is retried with backoff; SIGTERM or SIGINT stops it between looks.

Web and worker processes hold no key. `fresh_checkpoint()` gives them the newest checkpoint,
asking the signer for a look first when its last one is older than they accept."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from datetime import datetime, timedelta

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import Error as DatabaseError
from django.db import connection

from core.errors import DomainError
from eventstore import checkpoints
from eventstore.models import Checkpoint

CHANNEL = "ledger_checkpoint"
APPLICATION_NAME = "ledger-signer"
# How often a waiting reader looks whether the signer answered, and how long the signer waits
# for a notification at a time before it checks whether it was told to stop.
POLL_SECONDS = 0.05
WAKE_SECONDS = 0.5

log = logging.getLogger(__name__)


class CheckpointUnavailable(DomainError):
    """No signed checkpoint exists yet, and the signer did not write one in time."""

    code = "checkpoint_unavailable"
    status = 503
    title = "No signed checkpoint is available"


# -- what the signer does -----------------------------------------------------------------


def look(key: Ed25519PrivateKey | None = None) -> Checkpoint:
    """Sequence the new events, sign the tree if it grew, and record when this look began
    (a reader that asked before then knows its events are covered)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        began = cursor.fetchone()[0]
    checkpoint = checkpoints.write_checkpoint(key)
    with connection.cursor() as cursor:
        # GREATEST ignores NULL: the first look sets it, and it never goes back.
        cursor.execute(
            "UPDATE eventstore_sequencer SET checked_at = GREATEST(checked_at, %s) WHERE id = 1",
            (began,),
        )
    return checkpoint


def run(
    stop: threading.Event,
    *,
    key: Ed25519PrivateKey | None = None,
    interval: float | None = None,
    first_backoff: float = 0.5,
    max_backoff: float = 30.0,
) -> int:
    """Look at the log now, then every `interval` seconds (LEDGER_CHECKPOINT_SECONDS) and at
    every NOTIFY on CHANNEL, until `stop` is set; return the number of looks. The key is
    resolved before anything else, so a process without one fails at once. Database errors
    close the connection and retry after a backoff doubling from `first_backoff` to
    `max_backoff`, reset by the next successful look."""
    key = key if key is not None else checkpoints.signing_key()
    interval = settings.LEDGER_CHECKPOINT_SECONDS if interval is None else interval
    looks = 0
    backoff = first_backoff
    try:
        while not stop.is_set():
            try:
                _listen()
                while not stop.is_set():
                    checkpoint = look(key)
                    looks += 1
                    backoff = first_backoff
                    log.debug("looked at the log: tree size %s", checkpoint.tree_size)
                    _wait_for_request(interval, stop)
            except (DatabaseError, psycopg.Error) as exc:
                log.warning("signer: database unavailable (%s); retrying in %.1f s", exc, backoff)
                _close()
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
    finally:
        _close()
    return looks


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set `stop`: the signer finishes its look and exits."""

    def handler(signum, frame):
        log.info("signer: %s received, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _listen() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('application_name', %s, false)", (APPLICATION_NAME,))
        cursor.execute(f"LISTEN {CHANNEL}")


def _wait_for_request(interval: float, stop: threading.Event) -> None:
    """Return when a request arrives, `interval` seconds pass or `stop` is set. Requests that
    arrived together are answered by one look: they are taken before it, while a request that
    arrives during a look waits in psycopg's backlog and wakes the next one."""
    raw = connection.connection
    deadline = time.monotonic() + interval
    while not stop.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        if any(True for _ in raw.notifies(timeout=min(WAKE_SECONDS, remaining), stop_after=1)):
            for _ in raw.notifies(timeout=0):
                pass
            return


def _close() -> None:
    with contextlib.suppress(DatabaseError, psycopg.Error):
        connection.close()


# -- what readers do ----------------------------------------------------------------------


def last_look() -> tuple[datetime | None, datetime]:
    """When the signer last began a look at the log (None: never), and the database's time."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT checked_at, clock_timestamp() FROM eventstore_sequencer WHERE id = 1"
        )
        return cursor.fetchone()


def request_look() -> None:
    """Ask the signer to look at the log now (delivered when the caller's transaction ends)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, '')", (CHANNEL,))


def fresh_checkpoint(max_age: float | None = None, wait: float | None = None) -> Checkpoint:
    """The newest checkpoint, from a look at the log at most `max_age` seconds old
    (LEDGER_CHECKPOINT_MAX_AGE) where the signer answers within `wait` seconds
    (LEDGER_CHECKPOINT_WAIT).

    When the signer's last look is older, it is asked (NOTIFY) and the reader polls until the
    signer has looked since the request, for at most `wait` seconds; then, answered or not,
    the newest checkpoint is returned (its `created_at` says when it was signed, `last_look()`
    when the signer last found the log had not grown past it). A
    process that holds the signing key (the signer itself, the tests) looks at once itself.
    Raises CheckpointUnavailable (503 `checkpoint_unavailable`) when no checkpoint exists.
    Asking needs autocommit: inside a transaction the request would only leave at commit."""
    max_age = settings.LEDGER_CHECKPOINT_MAX_AGE if max_age is None else max_age
    wait = settings.LEDGER_CHECKPOINT_WAIT if wait is None else wait
    checked_at, now = last_look()
    if checked_at is None or now - checked_at > timedelta(seconds=max_age):
        if checkpoints.holds_signing_key():
            look()
        elif not _ask_and_wait(now, wait):
            log.warning("the signer did not look at the log within %s s", wait)
    checkpoint = checkpoints.latest()
    if checkpoint is None:
        raise CheckpointUnavailable(
            "no checkpoint has been signed yet and the signer did not write one in time"
        )
    return checkpoint


def _ask_and_wait(asked_at: datetime, wait: float) -> bool:
    if connection.in_atomic_block:
        raise RuntimeError(
            "fresh_checkpoint asks the signer outside a transaction only: a NOTIFY leaves at"
            " commit, and the signer's answer is not visible to an open transaction"
        )
    request_look()
    deadline = time.monotonic() + wait
    while True:
        checked_at, _ = last_look()
        if checked_at is not None and checked_at >= asked_at:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(POLL_SECONDS, remaining))
