"""Racing writers on one stream: gapless unique versions, conflicts for losers, nothing lost."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter

import pytest
from django.db import connection, transaction

from eventstore import store
from eventstore.hashing import recorded_hash
from eventstore.types import NO_STREAM, ConcurrencyConflict, InvalidEvent, NewEvent, StreamRef
from tests.conftest import events, new_stream

WRITERS = 16
EVENTS_PER_WRITER = 5


def race(write, writers: int = WRITERS) -> None:
    """Run write(number) in `writers` threads released together; fail with the errors any of
    them met (each thread has its own database connection, closed when it ends)."""
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            barrier.wait()
            write(number)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def assert_gapless_chain(recorded, total: int) -> None:
    """Versions 1..total, each event chained onto the one before and hashed as recorded."""
    assert [e.version for e in recorded] == list(range(1, total + 1))
    for before, after in itertools.pairwise(recorded):
        assert after.prev_hash == before.hash
    assert all(recorded_hash(e) == e.hash for e in recorded)


def test_versions_stay_gapless_and_unique_when_16_writers_race_on_one_stream(pristine_ledger, meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, [NewEvent("test.Opened", {})], meta)
    conflicts: Counter[int] = Counter()
    wins: Counter[int] = Counter()

    def write(number: int) -> None:
        for sequence in range(EVENTS_PER_WRITER):
            while True:
                version = store.stream_version(stream.id)
                try:
                    with transaction.atomic():
                        store.append(
                            stream,
                            version,
                            [NewEvent("test.Wrote", {"writer": number, "seq": sequence})],
                            meta,
                        )
                except ConcurrencyConflict as conflict:
                    # A loser learns where the stream really is: past what it expected.
                    assert conflict.expected == version
                    assert conflict.actual is not None
                    assert conflict.actual > version
                    conflicts[number] += 1
                    continue
                wins[number] += 1
                break

    race(write)
    recorded = store.read_stream(stream.id)
    assert_gapless_chain(recorded, 1 + WRITERS * EVENTS_PER_WRITER)
    written = Counter(e.data["writer"] for e in recorded[1:])
    assert written == Counter(dict.fromkeys(range(WRITERS), EVENTS_PER_WRITER))
    assert sum(wins.values()) == WRITERS * EVENTS_PER_WRITER
    assert sum(conflicts.values()) > 0, "the writers did not actually race"


def test_same_idempotency_key_appends_once_when_sent_concurrently(pristine_ledger, meta):
    stream = new_stream()
    keyed = {**meta, "idempotency_key": "racing-key"}
    barrier = threading.Barrier(8)
    results = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                results.append(store.append(stream, None, [NewEvent("test.Once", {})], keyed))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(store.read_stream(stream.id)) == 1
    assert len({r.positions for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1


@pytest.mark.parametrize("size", [1, 3])
def test_multi_event_append_is_atomic_when_racing_writers_interleave(pristine_ledger, meta, size):
    stream = new_stream()
    store.append(stream, NO_STREAM, [NewEvent("test.Opened", {})], meta)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for _ in range(4):
                with transaction.atomic():
                    store.append(
                        stream,
                        None,
                        [NewEvent("test.Batch", {"writer": number, "i": i}) for i in range(size)],
                        meta,
                    )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    recorded = store.read_stream(stream.id)[1:]
    assert len(recorded) == 6 * 4 * size
    # Each batch's events are contiguous versions: no writer's batch is split by another's.
    for start in range(0, len(recorded), size):
        batch = recorded[start : start + size]
        assert len({e.data["writer"] for e in batch}) == 1
        assert [e.data["i"] for e in batch] == list(range(size))


def _wait_until_a_backend_waits_on_a_lock(timeout: float = 30.0) -> None:
    """Poll pg_stat_activity until another session of this database is blocked on a lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.01)
    raise AssertionError("no session ever waited on a lock")


def test_keyed_any_version_append_is_kept_when_its_first_attempt_loses_a_race(
    pristine_ledger, meta
):
    """An explicit-version writer takes the version an any-version append chose; the retry at
    the next version must append, not mistake its own key claim for an earlier request."""
    stream = new_stream()
    store.append(stream, NO_STREAM, [NewEvent("test.Opened", {})], meta)
    keyed = {**meta, "idempotency_key": "retried-key"}
    rival_inserted, rival_may_commit = threading.Event(), threading.Event()
    results: list = []
    errors: list[BaseException] = []

    def rival() -> None:
        try:
            with transaction.atomic():
                store.append(stream, 1, [NewEvent("test.Rival", {})], meta)
                rival_inserted.set()
                assert rival_may_commit.wait(30)
        except BaseException as exc:
            errors.append(exc)
        finally:
            rival_inserted.set()
            connection.close()

    def keyed_writer() -> None:
        try:
            assert rival_inserted.wait(30)
            results.append(store.append(stream, None, [NewEvent("test.Keyed", {})], keyed))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=rival), threading.Thread(target=keyed_writer)]
    for thread in threads:
        thread.start()
    try:
        # The keyed writer read version 1 and now waits on the rival's uncommitted version 2.
        _wait_until_a_backend_waits_on_a_lock()
    finally:
        rival_may_commit.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors
    (result,) = results
    recorded = store.read_stream(stream.id)
    assert [e.type for e in recorded] == ["test.Opened", "test.Rival", "test.Keyed"]
    assert not result.replayed
    assert (result.first_version, result.last_version) == (3, 3)
    assert result.positions == (recorded[2].position,)
    assert [e.version for e in result.events] == [3]
    again = store.append(stream, None, [NewEvent("test.Keyed", {})], keyed)
    assert again.replayed
    assert (again.first_version, again.last_version, again.positions) == (
        3,
        3,
        result.positions,
    )
    assert store.stream_version(stream.id) == 3


def _count(state: int, event) -> int:
    return state + 1


def test_writers_under_load_locked_queue_and_never_conflict(pristine_ledger, meta):
    """Each writer numbers its event from the state it folded under the lock; they wait for
    each other instead of conflicting, and every number is taken exactly once."""
    stream = new_stream()
    store.append(stream, NO_STREAM, [NewEvent("test.Opened", {})], meta)

    def write(number: int) -> None:  # a ConcurrencyConflict here fails the test
        for _ in range(EVENTS_PER_WRITER):
            with transaction.atomic():
                count, head = store.load_locked(stream, _count, 0)
                assert head.version == count  # one event per version: the head is the count
                store.append(
                    stream,
                    head.version,
                    [NewEvent("test.Numbered", {"writer": number, "number": count + 1})],
                    meta,
                    head=head,
                )
            store.remember(stream.id, _count, count + 1, count + 1)

    race(write)
    recorded = store.read_stream(stream.id)
    total = 1 + WRITERS * EVENTS_PER_WRITER
    assert_gapless_chain(recorded, total)
    assert [e.data["number"] for e in recorded[1:]] == list(range(2, total + 1))


def test_load_locked_starts_from_the_state_this_process_knows(pristine_ledger, meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A", "B"), meta)
    with transaction.atomic():
        count, head = store.load_locked(stream, _count, 0)
    assert (count, head.version) == (2, 2)
    assert head.hash == store.read_stream(stream.id)[-1].hash
    # A state this process kept at the head's version is taken as it is (a made-up 100 here
    # shows it was not folded again), and only later events are read onto it.
    store.remember(stream.id, _count, 2, 100)
    with transaction.atomic():
        assert store.load_locked(stream, _count, 0)[0] == 100
    other = store.append(stream, None, events("C"), meta)
    store.remember(stream.id, _count, 3, 101)
    with transaction.atomic():
        count, head = store.load_locked(stream, _count, 0)
    assert (count, head.version, head.hash) == (101, 3, other.events[0].hash)


def test_load_locked_refuses_a_stream_of_another_type_and_needs_a_transaction(
    pristine_ledger, meta
):
    stream = new_stream("test.Thing")
    store.append(stream, NO_STREAM, events("A"), meta)
    with pytest.raises(InvalidEvent), transaction.atomic():
        store.load_locked(StreamRef(stream.id, "test.Other"), _count, 0)
    with pytest.raises(RuntimeError):
        store.load_locked(stream, _count, 0)
