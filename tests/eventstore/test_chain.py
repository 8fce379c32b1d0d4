"""The database keeps the chain: an event goes in only onto its stream's stored head (version
N+1 links to the stored hash of version N, version 1 to GENESIS), whoever inserts it. A
process whose cached head the log lost (a failover to a replica behind it, a restore under
running workers) has its append refused, forgets that stream, and its retry goes in."""

from __future__ import annotations

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from eventstore import store
from eventstore.hashing import GENESIS
from eventstore.store import caches
from eventstore.types import NO_STREAM, ConcurrencyConflict, RecordedEvent, StaleHead
from eventstore.verify import verify
from tests.conftest import events, lose_newest, new_stream

CHAIN = "eventstore_event_chain"


INSERT = (
    "INSERT INTO eventstore_event (stream_id, stream_type, version, type, schema_version, data,"
    " metadata, occurred_at, recorded_at, prev_hash, hash) VALUES "
)
ROW = "(%s, %s, %s, 'test.Raw', 1, '{}', '{}', now(), now(), %s, %s)"


def _insert_rows(*rows: tuple) -> None:
    """One INSERT statement of rows (stream, version, prev_hash, hash), in the order given."""
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT + ", ".join([ROW] * len(rows)),
            [value for stream, *link in rows for value in (stream.id, stream.type, *link)],
        )


def _insert(stream, version: int, prev_hash: bytes, digest: bytes) -> None:
    _insert_rows((stream, version, prev_hash, digest))


def _refused_rows(*rows: tuple):
    """The statement inserting `rows` is refused by the chain check; returns the psycopg error."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        _insert_rows(*rows)
    assert caught.value.__cause__.diag.constraint_name == CHAIN
    return caught.value.__cause__


def _refused(stream, version: int, prev_hash: bytes) -> None:
    _refused_rows((stream, version, prev_hash, bytes([version]) * 32))


def _stored(stream) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version FROM eventstore_event WHERE stream_id = %s ORDER BY 1", (stream.id,)
        )
        return [row[0] for row in cursor.fetchall()]


def _h(n: int) -> bytes:
    return bytes([n]) * 32


def count(total: int, event: RecordedEvent) -> int:
    return total + 1


# -- the database itself -------------------------------------------------------------------


@pytest.mark.django_db
def test_database_refuses_a_first_event_that_does_not_link_to_genesis():
    stream = new_stream()
    _refused(stream, 1, b"\x01" * 32)
    _insert(stream, 1, GENESIS, b"\x01" * 32)


@pytest.mark.django_db
def test_database_refuses_an_event_whose_prev_hash_is_not_the_stored_head():
    stream = new_stream()
    _insert(stream, 1, GENESIS, b"\x01" * 32)
    _refused(stream, 2, b"\x09" * 32)
    _refused(stream, 2, GENESIS)
    _insert(stream, 2, b"\x01" * 32, b"\x02" * 32)


@pytest.mark.django_db
def test_database_refuses_a_gap_in_the_versions():
    stream = new_stream()
    _insert(stream, 1, GENESIS, b"\x01" * 32)
    _refused(stream, 3, b"\x01" * 32)
    _refused(stream, 3, b"\x02" * 32)  # the hash version 2 would have, were it there


@pytest.mark.django_db
def test_database_refuses_a_link_to_the_head_of_another_stream():
    stream, other = new_stream(), new_stream()
    _insert(other, 1, GENESIS, b"\x07" * 32)
    _refused(stream, 2, b"\x07" * 32)


@pytest.mark.django_db
def test_database_accepts_a_multi_row_insert_chained_within_itself(meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A", "B", "C"), meta)
    assert [e.version for e in store.read_stream(stream.id)] == [1, 2, 3]


# -- one statement, many rows: the check runs once over all of them -------------------------


@pytest.mark.django_db
def test_database_accepts_a_statement_chained_within_itself_whatever_the_row_order():
    stream = new_stream()
    _insert_rows((stream, 2, _h(1), _h(2)), (stream, 1, GENESIS, _h(1)), (stream, 3, _h(2), _h(3)))
    _insert_rows((stream, 4, _h(3), _h(4)), (stream, 5, _h(4), _h(5)))
    assert _stored(stream) == [1, 2, 3, 4, 5]


@pytest.mark.django_db
def test_database_refuses_a_whole_statement_when_one_of_its_streams_is_not_chained():
    good, bad = new_stream(), new_stream()
    _insert(bad, 1, GENESIS, _h(1))
    error = _refused_rows(
        (good, 1, GENESIS, _h(1)),
        (good, 2, _h(1), _h(2)),
        (bad, 2, _h(9), _h(2)),
        (bad, 3, _h(2), _h(3)),
    )
    assert error.diag.message_detail == str(bad.id)  # what StaleHead is raised for
    assert (_stored(good), _stored(bad)) == ([], [1])


@pytest.mark.django_db
def test_database_refuses_a_first_event_off_genesis_in_a_statement_chained_within_itself():
    stream = new_stream()
    _refused_rows((stream, 1, _h(7), _h(1)), (stream, 2, _h(1), _h(2)))
    assert _stored(stream) == []


@pytest.mark.django_db
def test_database_refuses_a_statement_chained_within_itself_onto_a_head_that_is_not_stored():
    stream = new_stream()
    _insert(stream, 1, GENESIS, _h(1))
    _refused_rows((stream, 2, _h(8), _h(2)), (stream, 3, _h(2), _h(3)))
    _refused_rows((stream, 3, _h(2), _h(3)), (stream, 4, _h(3), _h(4)))  # version 2 missing
    assert _stored(stream) == [1]


@pytest.mark.django_db
def test_database_refuses_a_gap_or_a_broken_link_inside_one_statement():
    stream = new_stream()
    _insert(stream, 1, GENESIS, _h(1))
    _refused_rows((stream, 2, _h(1), _h(2)), (stream, 4, _h(2), _h(4)))
    _refused_rows((stream, 2, _h(1), _h(2)), (stream, 3, _h(9), _h(3)))
    _refused_rows((stream, 2, _h(1), _h(2)), (stream, 3, _h(1), _h(3)))  # links past its parent
    assert _stored(stream) == [1]


@pytest.mark.django_db
def test_database_refuses_two_events_of_the_same_version_in_one_statement():
    stream = new_stream()
    _insert(stream, 1, GENESIS, _h(1))
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert_rows((stream, 2, _h(1), _h(2)), (stream, 2, _h(1), _h(5)))
    assert _stored(stream) == [1]


@pytest.mark.django_db
def test_database_checks_rows_a_copy_brings_in():
    stream = new_stream()
    _insert(stream, 1, GENESIS, _h(1))
    columns = "stream_id, stream_type, version, type, schema_version, data, metadata,"
    columns += " occurred_at, recorded_at, prev_hash, hash"
    raw = connection.connection
    with pytest.raises(psycopg.errors.IntegrityError) as caught, transaction.atomic():
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY eventstore_event ({columns}) FROM STDIN") as copy,
        ):
            for version, prev_hash in ((2, _h(1)), (3, _h(9))):
                copy.write_row(
                    (
                        stream.id,
                        stream.type,
                        version,
                        "test.Raw",
                        1,
                        "{}",
                        "{}",
                        "2026-01-01T00:00:00Z",
                        "2026-01-01T00:00:00Z",
                        prev_hash,
                        _h(version),
                    )
                )
    assert caught.value.diag.constraint_name == CHAIN
    assert _stored(stream) == [1]


# -- a process whose cached head the log lost ----------------------------------------------


def test_append_onto_a_lost_head_is_refused_and_the_retry_goes_onto_the_stored_head(
    pristine_ledger, meta
):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A", "B"), meta)
    store.append(stream, 2, events("C"), meta)
    assert store.load(stream.id, count, 0) == (3, 3)  # state and head cached at version 3
    lose_newest(stream.id, keep=2)
    assert store.load(stream.id, count, 0) == (3, 3)  # the process still believes it

    with pytest.raises(StaleHead) as caught:
        store.append(stream, 3, events("D"), meta)
    assert isinstance(caught.value, ConcurrencyConflict)  # a 409: reload and retry
    assert caught.value.stream_id == stream.id
    assert stream.id not in caches.heads
    assert not [key for key in caches.states if key[0] == stream.id]
    assert store.stream_version(stream.id) == 2

    assert store.load(stream.id, count, 0) == (2, 2)
    assert store.append(stream, 2, events("D"), meta).last_version == 3
    recorded = store.read_stream(stream.id)
    assert recorded[2].prev_hash == recorded[1].hash
    assert verify().ok


def test_append_onto_a_head_the_log_replaced_is_refused(pristine_ledger, meta):
    """The log lost version 2, then another process appended a different version 2: the
    cached version 2 names a fork, and the next version is refused on it too."""
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A", "B"), meta)
    lost = caches.heads[stream.id]
    lose_newest(stream.id, keep=1)
    caches.clear()  # another process
    store.append(stream, 1, events("Other"), meta)
    caches.heads[stream.id] = lost  # this process

    with pytest.raises(StaleHead):
        store.append(stream, 2, events("C"), meta)
    assert store.append(stream, 2, events("C"), meta).last_version == 3
    assert verify().ok


def test_load_locked_onto_a_lost_head_is_refused_and_the_retry_goes_in(pristine_ledger, meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A", "B"), meta)
    assert store.load(stream.id, count, 0) == (2, 2)
    lose_newest(stream.id, keep=1)

    def locked_append() -> int:
        with transaction.atomic():
            state, head = store.load_locked(stream, count, 0)
            store.append(stream, head.version, events("C"), meta, head=head)
            return state

    with pytest.raises(StaleHead):
        locked_append()
    assert locked_append() == 1
    assert store.stream_version(stream.id) == 2
    assert verify().ok


def test_append_all_onto_a_lost_head_leaves_nothing_and_the_retry_goes_in(pristine_ledger, meta):
    first, second = new_stream(), new_stream("test.Other")
    store.append(first, NO_STREAM, events("A"), meta)
    store.append(second, NO_STREAM, events("A", "B"), meta)
    lose_newest(second.id, keep=1)
    batch = [
        store.Append(first, 1, events("B"), meta),
        store.Append(second, 2, events("C"), meta),
    ]
    with pytest.raises(StaleHead) as caught:
        store.append_all(batch)
    assert caught.value.stream_id == second.id
    assert store.stream_versions([first.id, second.id]) == {first.id: 1, second.id: 1}

    batch[1] = store.Append(second, 1, events("C"), meta)
    store.append_all(batch)
    assert store.stream_versions([first.id, second.id]) == {first.id: 2, second.id: 2}
    assert verify().ok
