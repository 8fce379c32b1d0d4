"""Governance tasks against a real broker and a real `celery worker` process on the test
database: review notifications wait out a broker outage and are delivered once; a
notification delivered twice, to two worker processes at once or after a restart, sends each
e-mail once; a send that fails is retried and then sent once; a scan killed (SIGKILL) in the
middle of its transaction leaves nothing behind and is redone; a task delivered twice records
its outcome once; the audit queued with a new critical version's evaluation data runs in a
worker and is recorded once however often it is delivered.

Each runs against every broker at hand, on a queue of its own: RabbitMQ and Redis on
127.0.0.1 where they answer, a private `redis-server` started here where the program is
installed (the one broker the tests stop for real), and always the filesystem broker the
project uses by default, which needs no service. `TEST_BROKERS=private-redis,filesystem` chooses."""

from __future__ import annotations

import os
import shutil
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
from django.conf import settings
from django.db import connection

from approvals import streams as approval_streams
from config import env
from core import clock
from core.actors import Actor
from eventstore import outbox, store
from eventstore.models import OutboxMessage
from eventstore.types import NO_STREAM, NewEvent, SideEffect
from governance import commands as governance
from governance.commands import reviews
from governance.models import BiasAudit, DeliveredNotification, Finding, PeriodicReview
from tests.approvals.conftest import actor_of, governed_version, unique_name, upload
from tests.conftest import new_stream, wait_until
from tests.governance.helpers import approved_version, event_types

ROOT = Path(__file__).resolve().parents[2]
AMQP = "amqp://guest:guest@127.0.0.1:5672//"
SHARED_REDIS = "redis://127.0.0.1:6379/15"
# In the past, so the worker's real clock finds every step of the first review due.
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
REDIS_VISIBILITY_SECONDS = 3
HIGH_MEMBERS = 6  # model-risk 3, legal 1, ethics 2, each with an e-mail address
FLAKY_MAIL = "tests.governance.mail_backends.FlakyFileBackend"


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=0.5):
            return True
    except OSError:
        return False


def _broker_kinds() -> list[str]:
    """The brokers at hand; `TEST_BROKERS` (comma-separated kinds) picks some instead."""
    if os.environ.get("TEST_BROKERS"):
        return os.environ["TEST_BROKERS"].split(",")
    kinds = []
    if _reachable(AMQP):
        kinds.append("rabbitmq")
    if _reachable(SHARED_REDIS):
        kinds.append("redis")
    if shutil.which("redis-server"):
        kinds.append("private-redis")  # one the tests can stop and start
    return [*kinds, "filesystem"]


class PrivateRedis:
    """A `redis-server` of the tests' own, persisting every write (append-only file), so it
    can be stopped for real and started again with what it held."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=(self.directory / "redis.log").open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: _reachable(self.url), timeout=20, what="redis-server to listen")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        wait_until(lambda: not _reachable(self.url), timeout=10, what="redis-server to stop")


class Broker:
    """Where the publisher and the workers meet, and whether the tests own it."""

    def __init__(self, kind: str, url: str, server: PrivateRedis | None = None) -> None:
        self.kind, self.url, self.server = kind, url, server

    @property
    def redelivers_after_a_crash(self) -> bool:
        """RabbitMQ and Redis hand an unacknowledged task to the next worker; the filesystem
        transport removes a message from its folder when a worker takes it."""
        return self.kind != "filesystem"

    @property
    def transport_options(self) -> dict:
        if self.kind == "filesystem":
            folder = env.STATE_DIR / ("test-broker" if settings.LEDGER_ENV == "test" else "broker")
            return {
                "data_folder_in": str(folder / "queue"),
                "data_folder_out": str(folder / "queue"),
                "processed_folder": str(folder / "processed"),
                "control_folder": str(folder / "control"),
            }
        if "redis" in self.kind:
            return {"visibility_timeout": REDIS_VISIBILITY_SECONDS}
        return {}


@pytest.fixture(scope="module", params=_broker_kinds())
def broker(request, tmp_path_factory):
    kind = request.param
    if kind == "private-redis":
        server = PrivateRedis(tmp_path_factory.mktemp("redis"))
        server.start()
        yield Broker(kind, server.url, server)
        server.stop()
        return
    yield Broker(kind, {"rabbitmq": AMQP, "redis": SHARED_REDIS}.get(kind, "filesystem://"))


class Worker:
    """`celery worker` in its own process, on the test database and a private queue."""

    def __init__(self, broker: Broker, queue: str, mail: Path, log: Path, **env) -> None:
        url = urlsplit(os.environ["DATABASE_URL"])
        database = urlunsplit(url._replace(path=f"/{connection.settings_dict['NAME']}"))
        self.env = {
            **os.environ,
            "DATABASE_URL": database,
            "CELERY_BROKER_URL": broker.url,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "CELERY_VISIBILITY_TIMEOUT": str(REDIS_VISIBILITY_SECONDS),
            "EMAIL_BACKEND": FLAKY_MAIL,
            "EMAIL_FILE_PATH": str(mail),
            **env,
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

    def ran(self, task_id: str) -> bool:
        return f"[{task_id}] succeeded" in self.log.read_text()

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


def broker_app(broker: Broker, queue: str) -> Celery:
    app = Celery("ledger-tests", broker=broker.url, set_as_current=False)
    app.conf.task_default_queue = queue
    app.conf.broker_transport_options = broker.transport_options
    app.conf.broker_connection_timeout = 2
    app.conf.task_publish_retry_policy = {"max_retries": 1}
    return app


@pytest.fixture
def publisher(broker, queue, monkeypatch):
    """What the outbox publishes with: the real broker, the test's queue."""
    app = broker_app(broker, queue)
    monkeypatch.setattr(outbox, "celery_app", lambda: app)
    yield app
    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue)
    app.close()


@pytest.fixture
def workers(pristine_ledger, broker, queue, tmp_path):
    started: list[Worker] = []

    def start(on: str | None = None, **env) -> Worker:
        log = tmp_path / f"worker{len(started)}.log"
        worker = Worker(broker, on or queue, tmp_path / "mail", log, **env)
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


def wait_for_sentinel(mail: Path) -> None:
    wait_until(lambda: any("sentinel" in s for s in mails(mail)), what="the sentinel e-mail")


def test_notifications_wait_for_a_stopped_broker_and_are_delivered_once(
    pristine_ledger, cast, evidence_store, broker, workers, publisher, monkeypatch, tmp_path
):
    with clock.frozen(T0):
        approved_version(cast, evidence_store, "high")
    if broker.server is not None:
        # The tests own this broker: stop it for real, under a running worker.
        workers()
        broker.server.stop()
    else:
        # A broker the tests do not own stands in for a stopped one by an address where
        # nothing listens.
        down = Celery("down", broker="redis://127.0.0.1:1/0", set_as_current=False)
        down.conf.broker_connection_timeout = 0.5
        down.conf.task_publish_retry_policy = {"max_retries": 0}
        monkeypatch.setattr(outbox, "celery_app", lambda: down)
    with clock.frozen(T0 + 16 * DAY):
        report = reviews.scan_reviews(actor=Actor.system("tests"))  # the command succeeds
    assert report.opened == 1
    (message,) = OutboxMessage.objects.filter(task="governance.notify_review")
    assert message.dispatched_at is None and message.last_error

    if broker.server is not None:
        broker.server.start()
    else:
        monkeypatch.setattr(outbox, "celery_app", lambda: publisher)
        workers()
    with clock.frozen(message.next_attempt_at + timedelta(seconds=1)):
        # Sixteen days on, the approval notices of T0 are due again too unless a worker has
        # finished them already: the relay publishes them with this one (same ids).
        assert outbox.dispatch().failed == 0
        message.refresh_from_db()
        assert message.dispatched_at is not None
        assert outbox.dispatch().sent == 0
    mail = tmp_path / "mail"
    opened = "Subject: A periodic model review is open for your board"
    wait_until(lambda: mails(mail).count(opened) == HIGH_MEMBERS, what="the review e-mails")

    # The relay published it again (a crash before marking it sent): same id, nothing new.
    message.refresh_from_db()
    publisher.send_task(message.task, kwargs=message.kwargs, task_id=str(message.id))
    sentinel(publisher, cast.owner.pk)
    wait_for_sentinel(mail)
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
    pristine_ledger, cast, evidence_store, workers, publisher, broker, tmp_path
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
    assert not approval_streams.load_request(request.id).suspended

    if "redis" in broker.kind:
        # Redis hands back an unacknowledged task once its visibility timeout (3 s) passed.
        time.sleep(REDIS_VISIBILITY_SECONDS + 1)
    workers()  # the broker hands the unacknowledged scan to the new worker
    if not broker.redelivers_after_a_crash:
        # The filesystem transport lost the taken task with its worker: beat's next tick, a
        # new task, redoes the scan.
        publisher.send_task("governance.scan_reviews", task_id="scan-2")
    review = wait_until(
        lambda: PeriodicReview.objects.filter(version_id=version.id, non_compliant=True).first(),
        what="the redone scan",
    )
    # The same task delivered again records nothing more.
    publisher.send_task("governance.scan_reviews", task_id="scan-1")
    sentinel(publisher, cast.owner.pk)
    wait_for_sentinel(tmp_path / "mail")
    assert event_types(review.id) == [
        "PeriodicReviewOpened",
        "ReviewReminderSent",
        "ReviewEscalated",
        "ReviewEscalated",
        "VersionMarkedNonCompliant",
    ]
    suspensions = [e for e in store.read_stream(uuid.UUID(request.id)) if "Suspended" in e.type]
    assert len(suspensions) == 1
    assert approval_streams.load_request(request.id).suspended


def _board_members(cast, board: str = "model-risk") -> list[int]:
    return [user.pk for user in cast.members[board]]


def _unfinished(message_id) -> bool:
    return OutboxMessage.objects.get(id=message_id).completed_at is None


def test_a_task_whose_worker_was_killed_is_finished_by_the_next_worker(
    cast, broker, workers, publisher, meta, tmp_path
):
    """Whatever the broker: RabbitMQ and Redis hand the task back; the filesystem broker lost
    it with the worker, so the relay publishes it again once the redelivery delay passed."""
    members = _board_members(cast)
    slow = workers(TEST_MAIL_DELAY="2")
    store.append(
        new_stream(),
        NO_STREAM,
        [NewEvent("test.Happened", {})],
        meta,
        side_effects=[
            SideEffect(
                "governance.notify_review",
                {"event": "opened", "review_id": str(uuid.uuid4()), "user_ids": members},
            )
        ],
    )
    (message,) = OutboxMessage.objects.filter(task="governance.notify_review")
    assert message.dispatched_at is not None
    mail = tmp_path / "mail"
    opened = "Subject: A periodic model review is open for your board"
    wait_until(lambda: mails(mail).count(opened) >= 1, what="the first e-mail")
    slow.kill()
    assert _unfinished(message.id)

    workers()
    redeliver_at = OutboxMessage.objects.get(id=message.id).next_attempt_at
    if broker.redelivers_after_a_crash:
        if "redis" in broker.kind:
            time.sleep(REDIS_VISIBILITY_SECONDS + 1)
        wait_until(lambda: not _unfinished(message.id), what="the broker's redelivery")
        with clock.frozen(redeliver_at + timedelta(seconds=1)):
            assert outbox.dispatch().sent == 0  # finished: nothing to publish again
    else:
        with clock.frozen(redeliver_at - timedelta(seconds=1)):
            assert outbox.dispatch().sent == 0  # not before the delay
        assert _unfinished(message.id)
        with clock.frozen(redeliver_at + timedelta(seconds=1)):
            assert outbox.dispatch().sent == 1
        wait_until(lambda: not _unfinished(message.id), what="the relay's redelivery")
    # Every member got the e-mail; the one being sent when the worker died may go twice.
    assert len(members) <= mails(mail).count(opened) <= len(members) + 1
    assert DeliveredNotification.objects.filter(message_id=message.id).count() == len(members)


def test_a_notification_delivered_to_two_workers_at_once_sends_each_email_once(
    cast, broker, workers, publisher, queue, tmp_path
):
    other = f"{queue}-b"
    # Each send takes a second, so the second worker arrives while the first still sends.
    first, second = workers(TEST_MAIL_DELAY="1"), workers(on=other, TEST_MAIL_DELAY="1")
    task_id = str(uuid.uuid4())
    kwargs = {"event": "opened", "review_id": str(uuid.uuid4()), "user_ids": _board_members(cast)}
    publisher.send_task("governance.notify_review", kwargs=kwargs, task_id=task_id)
    publisher.send_task("governance.notify_review", kwargs=kwargs, task_id=task_id, queue=other)
    # The later delivery waits on the earlier one's claim rather than sending beside it.
    wait_until(_waiting_on_a_lock, what="the second delivery to wait for the first")
    wait_until(lambda: first.ran(task_id) and second.ran(task_id), what="both deliveries")

    opened = "Subject: A periodic model review is open for your board"
    assert mails(tmp_path / "mail").count(opened) == 3
    assert DeliveredNotification.objects.filter(message_id=task_id).count() == 3
    with broker_app(broker, other).connection_for_write() as conn:
        conn.default_channel.queue_delete(other)


def test_a_notification_whose_send_fails_is_retried_and_then_sent_once(
    cast, workers, publisher, tmp_path
):
    # The mail server drops the second and third sends: the first recipient's e-mail goes
    # out, the second's fails twice; the retries send the rest and nothing twice.
    flaky = workers(TEST_MAIL_FAIL_SENDS="2,3")
    task_id = str(uuid.uuid4())
    kwargs = {"event": "remind", "review_id": str(uuid.uuid4()), "user_ids": _board_members(cast)}
    publisher.send_task("governance.notify_review", kwargs=kwargs, task_id=task_id)
    wait_until(lambda: flaky.ran(task_id), what="the notification to get through")

    reminder = "Subject: Reminder: a periodic model review is due soon"
    mail = tmp_path / "mail"
    assert mails(mail).count(reminder) == 3
    assert flaky.log.read_text().count(f"[{task_id}] retry") == 2

    # A restarted worker given the same message again sends nothing more.
    flaky.stop()
    workers()
    publisher.send_task("governance.notify_review", kwargs=kwargs, task_id=task_id)
    sentinel(publisher, cast.owner.pk)
    wait_for_sentinel(mail)
    assert mails(mail).count(reminder) == 3


def test_new_critical_version_is_audited_once_by_a_worker_when_its_evaluation_data_arrives(
    pristine_ledger, cast, evidence_store, workers, publisher, tmp_path
):
    model, version = governed_version(
        cast, evidence_store, "critical", unique_name("critical-model"), audited=False
    )
    # Group a is selected at 80%, group b at 30%: the audit fails and opens a finding.
    lines = ["sex,label,prediction"] + [
        f"{group},{i % 2},{1 if i < rate * 100 else 0}"
        for group, rate in (("a", 0.8), ("b", 0.3))
        for i in range(100)
    ]
    document = upload(
        evidence_store, version, "evaluation_data", "\n".join(lines).encode(), "eval.csv"
    )
    governance.attach_evidence(
        actor=actor_of(cast.owner),
        model_id=model.id,
        number=1,
        kind="evaluation_data",
        summary={
            "audit_spec": {"attributes": ["sex"], "label": "label", "prediction": "prediction"}
        },
        **document,
    )
    # Published to the broker once the attachment committed.
    (message,) = OutboxMessage.objects.filter(task="governance.audit_new_version")
    assert message.dispatched_at is not None

    worker = workers(ARTIFACT_ROOT=str(tmp_path / "artifacts"), S3_BUCKET="")
    wait_until(lambda: worker.ran(str(message.id)), what="the audit task")
    audit = BiasAudit.objects.get(version_id=version.id)
    assert audit.trigger == "new_version" and audit.verdict == "fail"
    assert audit.recorded_by == "system:governance.audit_new_version"

    # The relay published it again (a crash before marking it sent): same id, nothing new.
    publisher.send_task(message.task, kwargs=message.kwargs, task_id=str(message.id))
    sentinel(publisher, cast.owner.pk)
    wait_for_sentinel(tmp_path / "mail")
    assert BiasAudit.objects.filter(version_id=version.id).count() == 1
    assert Finding.objects.filter(version_id=version.id).count() == 1
