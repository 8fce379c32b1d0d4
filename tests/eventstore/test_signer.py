"""The signer process and how readers without a key get a fresh checkpoint from it.

The signer's loop (`signer.run`) runs in a thread with its own database connection, as
`manage.py run_signer` runs it; the readers run in the test's thread with no signing key
(`LEDGER_SIGNING_KEY=""`, as web and worker processes are configured). Waits are bounded and
generous; nothing asserts on how long anything took."""

from __future__ import annotations

import threading

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from core.errors import DomainError
from eventstore import checkpoints, signer, store
from eventstore.models import Checkpoint, LedgerLeaf
from eventstore.types import NO_STREAM
from tests.conftest import events, new_stream, superuser_sql, wait_until

GENEROUS = 60  # seconds; a bound on waits, never an expectation
# The seed the test settings give the process: the signer's here; the readers run without it.
TEST_KEY = checkpoints.private_key_from_seed(settings.LEDGER_SIGNING_KEY)


class RunningSigner:
    """signer.run in a thread, with the test seed passed as the signer's own key."""

    def __init__(self, **options):
        self.stop = threading.Event()
        self.looks: int | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(TEST_KEY, options), daemon=True)

    def _run(self, key, options):
        try:
            self.looks = signer.run(self.stop, key=key, **options)
        except BaseException as exc:  # reported by the test's thread
            self.error = exc

    def __enter__(self):
        self.thread.start()
        wait_until(lambda: signer.last_look()[0] is not None, GENEROUS, "the signer's first look")
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.thread.join(GENEROUS)
        assert not self.thread.is_alive(), "the signer stops when told to"
        assert self.error is None, self.error


def signer_backends() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
            " AND datname = current_database()",
            (signer.APPLICATION_NAME,),
        )
        return [row[0] for row in cursor.fetchall()]


def leaf_of(position: int) -> LedgerLeaf | None:
    return LedgerLeaf.objects.filter(position=position).first()


def test_the_signer_signs_a_checkpoint_covering_new_events_when_asked(pristine_ledger, meta):
    with RunningSigner(interval=3600) as running:
        (first,) = Checkpoint.objects.all()
        assert first.tree_size == 0
        result = store.append(new_stream(), NO_STREAM, events("A", "B"), meta)
        with override_settings(LEDGER_SIGNING_KEY=""):
            checkpoint = signer.fresh_checkpoint(max_age=0, wait=GENEROUS)
        assert checkpoint.tree_size == 2
        assert all(leaf_of(p).leaf_index < 2 for p in result.positions)
        assert checkpoints.signature_valid(checkpoint)
    assert running.looks == 2  # the first look, and the one asked for


def test_the_signer_reconnects_when_the_database_drops_its_connection(pristine_ledger, meta):
    with RunningSigner(interval=3600, first_backoff=0.05):
        (before,) = wait_until(signer_backends, GENEROUS, "the signer's connection")
        superuser_sql("SELECT pg_terminate_backend(%s)", (before,))
        wait_until(
            lambda: signer_backends() and before not in signer_backends(),
            GENEROUS,
            "the signer to reconnect",
        )
        result = store.append(new_stream(), NO_STREAM, events("A"), meta)
        with override_settings(LEDGER_SIGNING_KEY=""):
            checkpoint = signer.fresh_checkpoint(max_age=0, wait=GENEROUS)
        assert checkpoint.tree_size == 1
        assert leaf_of(result.positions[0]).leaf_index == 0


def test_the_signer_refuses_to_start_without_a_key(transactional_db):
    with override_settings(LEDGER_SIGNING_KEY=""), pytest.raises(checkpoints.SigningKeyError):
        signer.run(threading.Event())


@override_settings(LEDGER_SIGNING_KEY="")
def test_fresh_checkpoint_returns_the_latest_without_asking_when_the_last_look_is_recent(
    db, monkeypatch
):
    written = checkpoints.write_checkpoint(TEST_KEY)
    superuser_sql("UPDATE eventstore_sequencer SET checked_at = clock_timestamp()")
    asked = []
    monkeypatch.setattr(signer, "request_look", lambda: asked.append(True))
    assert signer.fresh_checkpoint(max_age=3600, wait=GENEROUS).id == written.id
    assert asked == []


@override_settings(LEDGER_SIGNING_KEY="")
def test_fresh_checkpoint_asks_and_returns_the_latest_when_the_signer_does_not_answer(
    pristine_ledger,
):
    written = checkpoints.write_checkpoint(TEST_KEY)
    with listening() as listener:
        checkpoint = signer.fresh_checkpoint(max_age=0, wait=0.2)
        (notice,) = listener.notifies(timeout=GENEROUS, stop_after=1)
    assert notice.channel == signer.CHANNEL
    assert checkpoint.id == written.id
    assert signer.last_look()[0] is None  # nobody looked: the caller states its age


@override_settings(LEDGER_SIGNING_KEY="")
def test_fresh_checkpoint_is_a_503_problem_when_no_checkpoint_exists(pristine_ledger):
    with pytest.raises(signer.CheckpointUnavailable) as raised:
        signer.fresh_checkpoint(max_age=0, wait=0)
    assert isinstance(raised.value, DomainError)
    assert raised.value.status == 503
    assert raised.value.code == "checkpoint_unavailable"


@override_settings(LEDGER_SIGNING_KEY="")
def test_fresh_checkpoint_cannot_ask_from_inside_a_transaction(db):
    with pytest.raises(RuntimeError, match="outside a transaction"):
        signer.fresh_checkpoint(max_age=0, wait=0)


def test_a_process_holding_the_key_looks_itself_when_the_last_look_is_stale(pristine_ledger, meta):
    result = store.append(new_stream(), NO_STREAM, events("A"), meta)
    checkpoint = signer.fresh_checkpoint(max_age=0, wait=0)
    assert leaf_of(result.positions[0]).leaf_index < checkpoint.tree_size
    assert signer.last_look()[0] is not None


class listening:
    """A connection of its own LISTENing on the signer's channel, as the signer does."""

    def __enter__(self) -> psycopg.Connection:
        params = connection.get_connection_params()
        self.conn = psycopg.connect(
            dbname=params["dbname"],
            user=params.get("user"),
            password=params.get("password"),
            host=params.get("host"),
            port=params.get("port"),
            autocommit=True,
        )
        self.conn.execute(f"LISTEN {signer.CHANNEL}")
        return self.conn

    def __exit__(self, *exc_info):
        self.conn.close()
