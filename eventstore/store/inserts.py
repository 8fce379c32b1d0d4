"""The insert runner every append goes through: one statement per append that claims the
idempotency key and inserts the events, and the runner that sends a batch of them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Any, NamedTuple

import psycopg

from eventstore import projection
from eventstore.store.idempotency import CLAIM_SQL
from eventstore.store.rows import INSERT_COLUMNS, TYPED_ROW, EventRow
from eventstore.types import StreamRef


class Insert(NamedTuple):
    sql: str
    params: list[Any]


class Inserted(NamedTuple):
    """What an insert statement did: whether it claimed its key (always, without one) and
    the positions of the rows it inserted, fewer than the rows when the stream moved on."""

    claimed: bool
    positions: list[int]


class After(NamedTuple):
    """The last event of the append before in a batch: inserts happen only if it is there."""

    stream_id: uuid.UUID
    version: int
    hash: bytes


# The database's chain check (migration 0005, once per statement): the trigger raises with
# this constraint name and the stream id as the detail when an event does not link to its
# stream's stored head.
CHAIN_CONSTRAINT = "eventstore_event_chain"


class ChainRefused(Exception):
    """The database refused an insert: an event of `stream_id` does not link to the stream's
    stored head (the psycopg error is the cause). The transaction is aborted."""

    def __init__(self, stream_id: uuid.UUID) -> None:
        super().__init__(f"stream {stream_id}: not chained onto the stored head")
        self.stream_id = stream_id


def run_inserts(raw: psycopg.Connection[Any], statements: Sequence[Insert]) -> list[Inserted]:
    """Run insert statements in order, several in one pipeline round trip (from
    projection.PIPELINE_FROM on; one goes alone). ChainRefused when the database's chain
    check refuses one."""
    cursors = [raw.cursor() for _ in statements]
    try:
        with raw.pipeline() if len(statements) >= projection.PIPELINE_FROM else nullcontext():
            for cursor, statement in zip(cursors, statements, strict=True):
                cursor.execute(statement.sql, statement.params)
        return [
            Inserted(bool(claimed), list(positions))
            for claimed, positions in (cursor.fetchone() for cursor in cursors)
        ]
    except psycopg.errors.IntegrityError as error:
        if error.diag.constraint_name != CHAIN_CONSTRAINT:
            raise
        raise ChainRefused(uuid.UUID(error.diag.message_detail)) from error
    finally:
        for cursor in cursors:
            cursor.close()


def insert_statement(
    stream: StreamRef,
    rows: list[EventRow],
    actor: str,
    key: str | None,
    fingerprint: bytes,
    now: datetime,
    after: After | None = None,
) -> Insert:
    """The statement that claims the idempotency key (if `key`) and inserts the events.

    UNIQUE (stream_id, version) is the concurrency guard: ON CONFLICT DO NOTHING waits for a
    racing writer of the same version and inserts nothing if it committed. NOT EXISTS keeps a
    batch all-or-nothing against writers that already committed. With `after` it inserts
    only if that event is there: the previous append of a batch went in. Returns one row:
    (claimed, positions)."""
    values = ", ".join([TYPED_ROW] * len(rows))
    events = [value for row in rows for value in row]
    next_version = rows[0].version
    if key is None:
        claim, params = "SELECT 1", [*events, stream.id, next_version]
    else:
        claim = CLAIM_SQL
        params = [actor, key, fingerprint, stream.id, now, *events, stream.id, next_version]
    previous = ""
    if after is not None:
        previous = (
            " AND EXISTS (SELECT 1 FROM eventstore_event"
            " WHERE stream_id = %s AND version = %s AND hash = %s)"
        )
        params.extend(after)
    sql = (
        f"WITH claim AS ({claim}),"
        f" ins AS (INSERT INTO eventstore_event ({INSERT_COLUMNS})"
        f"  SELECT * FROM (VALUES {values}) AS v"
        "  WHERE EXISTS (SELECT 1 FROM claim) AND NOT EXISTS ("
        f"    SELECT 1 FROM eventstore_event WHERE stream_id = %s AND version = %s){previous}"
        "  ON CONFLICT (stream_id, version) DO NOTHING RETURNING position)"
        " SELECT EXISTS (SELECT 1 FROM claim), ARRAY(SELECT position FROM ins ORDER BY 1)"
    )
    return Insert(sql, params)
