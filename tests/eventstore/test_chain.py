"""The database keeps the chain: an event goes in only onto its stream's stored head (version
N+1 links to the stored hash of version N, version 1 to GENESIS), whoever inserts it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from eventstore import store
from eventstore.hashing import GENESIS
from eventstore.types import NO_STREAM
from tests.conftest import events, new_stream

CHAIN = "eventstore_event_chain"


def _insert(stream, version: int, prev_hash: bytes, digest: bytes) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO eventstore_event (stream_id, stream_type, version, type,"
            " schema_version, data, metadata, occurred_at, recorded_at, prev_hash, hash)"
            " VALUES (%s, %s, %s, 'test.Raw', 1, '{}', '{}', now(), now(), %s, %s)",
            (stream.id, stream.type, version, prev_hash, digest),
        )


def _refused(stream, version: int, prev_hash: bytes) -> None:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        _insert(stream, version, prev_hash, bytes([version]) * 32)
    assert caught.value.__cause__.diag.constraint_name == CHAIN


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
