"""Governance tasks against a real broker and a real `celery worker` process on the test
database: review notifications wait out a broker outage and are delivered once; a scan
killed (SIGKILL) in the middle of its transaction leaves nothing behind and is redone; a
task delivered twice records its outcome once.

Each runs against RabbitMQ and against Redis on 127.0.0.1 (skipped where one is not
running), on a queue of its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import Celery
from django.db import connection

from approvals import commands as approvals
from core import clock
from core.actors import Actor
from eventstore import outbox, store
from eventstore.models import OutboxMessage
from governance import reviews
from governance.models import PeriodicReview
from tests.governance.cadence_helpers import approved_version, event_types

ROOT = Path(__file__).resolve().parents[2]
BROKERS = ("amqp://guest:guest@127.0.0.1:5672//", "redis://127.0.0.1:6379/15")
# In the past, so the worker's real clock finds every step of the first review due.
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
REDIS_VISIBILITY_SECONDS = 3
HIGH_MEMBERS = 6  # model-risk 3, legal 1, ethics 2, each with an e-mail address


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module", params=BROKERS, ids=("rabbitmq", "redis"))
def broker_url(request) -> str:
    if not _reachable(request.param):
        pytest.skip(f"no broker at {urlsplit(request.param).netloc} to run a worker against")
    return request.param


def wait_until(predicate, timeout: float = 60, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Worker:
    """`celery worker` in its own process, on the test database and a private queue."""

    def __init__(self, broker: str, queue: str, mail: Path, log: Path) -> None:
        url = urlsplit(os.environ["DATABASE_URL"])
        database = urlunsplit(url._replace(path=f"/{connection.settings_dict['NAME']}"))
        self.env = {
            **os.environ,
            "DATABASE_URL": database,
            "CELERY_BROKER_URL": broker,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "CELERY_VISIBILITY_TIMEOUT": str(REDIS_VISIBILITY_SECONDS),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail),
        }
        self.queue, self.log = queue, log
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        self.log.write_text("")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "-Q",
                self.queue,
                "-n",
                f"{self.queue}-{uuid.uuid4().hex[:6]}@%h",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: "ready." in self.log.read_text(), what="the worker to start")
        return self

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def queue() -> str:
    return f"ledger-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def publisher(broker_url, queue, monkeypatch):
    """What the outbox publishes with: the real broker, the test's queue."""
    app = Celery("ledger-tests", broker=broker_url)
    app.conf.task_default_queue = queue
    app.conf.broker_connection_timeout = 2
    app.conf.task_publish_retry_policy = {"max_retries": 1}
    monkeypatch.setattr(outbox, "celery_app", lambda: app)
    yield app
    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue)
    app.close()


@pytest.fixture
def workers(pristine_ledger, broker_url, queue, tmp_path):
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(
            broker_url, queue, tmp_path / "mail", tmp_path / f"worker{len(started)}.log"
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


def mails(directory: Path) -> list[str]:
    if not directory.exists():
        return []
    return [
        line
        for path in sorted(directory.iterdir())
        for line in path.read_text().splitlines()
        if line.startswith("Subject:")
    ]


def sentinel(app: Celery, user_id: int) -> None:
    """A task behind the others on the queue: once it ran, everything before it ran too."""
    app.send_task(
        "governance.notify_review",
        kwargs={"event": "sentinel", "review_id": str(uuid.uuid4()), "user_ids": [user_id]},
        task_id=str(uuid.uuid4()),
    )


def test_notifications_wait_for_a_stopped_broker_and_are_delivered_once(
    pristine_ledger, cast, evidence_store, workers, publisher, monkeypatch, tmp_path
):
    with clock.frozen(T0):
        approved_version(cast, evidence_store, "high")
    down = Celery("down", broker="redis://127.0.0.1:1/0")
    down.conf.broker_connection_timeout = 0.5
    down.conf.task_publish_retry_policy = {"max_retries": 0}
    monkeypatch.setattr(outbox, "celery_app", lambda: down)
    with clock.frozen(T0 + 16 * DAY):
        report = reviews.scan_reviews(actor=Actor.system("tests"))  # the command succeeds
    assert report.opened == 1
    (message,) = OutboxMessage.objects.filter(task="governance.notify_review")
    assert message.dispatched_at is None and message.last_error

    monkeypatch.setattr(outbox, "celery_app", lambda: publisher)
    workers()
    with clock.frozen(message.next_attempt_at + timedelta(seconds=1)):
        assert outbox.dispatch().sent == 1
        assert outbox.dispatch().sent == 0
    mail = tmp_path / "mail"
    opened = "Subject: A periodic model review is open for your board"
    wait_until(lambda: mails(mail).count(opened) == HIGH_MEMBERS, what="the review e-mails")

    # The relay published it again (a crash before marking it sent): same id, nothing new.
    message.refresh_from_db()
    publisher.send_task(message.task, kwargs=message.kwargs, task_id=str(message.id))
    sentinel(publisher, cast.owner.pk)
    wait_until(lambda: any("sentinel" in s for s in mails(mail)), what="the sentinel e-mail")
    assert mails(mail).count(opened) == HIGH_MEMBERS


def _waiting_on_a_lock() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
        return cursor.fetchone()[0] == 0


def test_scan_killed_mid_transaction_leaves_no_record_and_is_redone_once(
    pristine_ledger, cast, evidence_store, workers, publisher, broker_url, tmp_path
):
    with clock.frozen(T0):
        _, version, request = approved_version(cast, evidence_store, "high")
    # Hold the approval's row so the worker stops inside the scan's transaction, right where
    # the overdue review suspends the production approval.
    blocker = connection.get_new_connection(connection.get_connection_params())
    blocker.execute(
        "SELECT 1 FROM approvals_approvalrequest WHERE id = %s FOR UPDATE", (request.id,)
    )
    first = workers()
    publisher.send_task("governance.scan_reviews", task_id="scan-1")
    stuck = wait_until(_waiting_on_a_lock, what="the scan to block in its transaction")
    first.kill()
    blocker.rollback()
    blocker.close()
    wait_until(lambda: _gone(stuck), what="the killed worker's session to end")
    assert not PeriodicReview.objects.exists()
    assert not approvals.load_request(request.id).suspended

    if broker_url.startswith("redis"):
        # Redis hands back an unacknowledged task once its visibility timeout (3 s) passed.
        time.sleep(REDIS_VISIBILITY_SECONDS + 1)
    workers()  # the broker hands the unacknowledged scan to the new worker
    review = wait_until(
        lambda: PeriodicReview.objects.filter(version_id=version.id, non_compliant=True).first(),
        what="the redone scan",
    )
    # The same task delivered again records nothing more.
    publisher.send_task("governance.scan_reviews", task_id="scan-1")
    sentinel(publisher, cast.owner.pk)
    wait_until(lambda: any("sentinel" in s for s in mails(tmp_path / "mail")), what="the sentinel")
    assert event_types(review.id) == [
        "PeriodicReviewOpened",
        "ReviewReminderSent",
        "ReviewEscalated",
        "ReviewEscalated",
        "VersionMarkedNonCompliant",
    ]
    suspensions = [e for e in store.read_stream(uuid.UUID(request.id)) if "Suspended" in e.type]
    assert len(suspensions) == 1
    assert approvals.load_request(request.id).suspended
