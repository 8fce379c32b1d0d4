"""append and load: the only way events enter the log, and the ways they are read back.

An append is one transaction (or part of the caller's): lock the stream row by moving its
version, chain the new events onto the stored head hash, insert them, run the inline
projectors and record side effects in the outbox. `UNIQUE (stream_id, version)` backs the
optimistic concurrency check."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from django.db import connection, transaction

from core import clock
from eventstore import catalog, outbox
from eventstore.canonical import CanonicalizationError, canonical_json, check_json_value
from eventstore.hashing import GENESIS, chain_hash, event_content
from eventstore.projection import (
    EVENT_COLUMNS,
    ProjectionWriter,
    json_value,
    project,
    row_to_event,
)
from eventstore.types import (
    NO_STREAM,
    AppendResult,
    ConcurrencyConflict,
    IdempotencyKeyReused,
    InvalidEvent,
    NewEvent,
    RecordedEvent,
    SideEffect,
    StreamRef,
)

MAX_EVENTS_PER_APPEND = 1000
S = TypeVar("S")


def append(
    stream: StreamRef,
    expected_version: int | None,
    events: Sequence[NewEvent | catalog.DomainEvent],
    metadata: Mapping[str, Any],
    *,
    side_effects: Sequence[SideEffect] = (),
) -> AppendResult:
    """Append events to a stream at `expected_version` (NO_STREAM for a new stream, None for
    any). Raises ConcurrencyConflict when the stream has moved on. With an idempotency_key in
    the metadata, a repeat by the same actor returns the first result and appends nothing."""
    new_events = [e.to_new() if isinstance(e, catalog.DomainEvent) else e for e in events]
    _check_arguments(stream, expected_version, new_events, metadata)
    meta = dict(metadata)
    key = meta.get("idempotency_key")

    with transaction.atomic(savepoint=False):
        connection.ensure_connection()
        raw = connection.connection
        with raw.cursor() as cursor:
            fingerprint = b""
            if key is not None:
                fingerprint = _fingerprint(stream, new_events)
                earlier = _claim_idempotency_key(cursor, meta["actor"], key, fingerprint, stream)
                if earlier is not None:
                    return earlier
            prev_version, head = _lock_stream(cursor, stream, expected_version, len(new_events))
            recorded_at = clock.now()
            rows, recorded = _chain(stream, prev_version, head, new_events, meta, recorded_at)
            positions = _insert(cursor, stream, rows, recorded[-1].hash, recorded_at)
        recorded = [_with_position(r, p) for r, p in zip(recorded, positions, strict=True)]
        result = AppendResult(
            stream_id=stream.id,
            first_version=prev_version + 1,
            last_version=prev_version + len(new_events),
            positions=tuple(positions),
        )
        writer = ProjectionWriter()
        project(recorded, writer)
        if key is not None:
            writer.execute(
                "UPDATE eventstore_idempotency SET first_version = %s, last_version = %s,"
                " positions = %s::jsonb WHERE actor = %s AND key = %s",
                (
                    result.first_version,
                    result.last_version,
                    canonical_json(list(positions)).decode(),
                    meta["actor"],
                    key,
                ),
            )
        outbox.record(writer, side_effects, position=positions[-1], now=recorded_at)
        writer.flush()
    return result


def _check_arguments(
    stream: StreamRef,
    expected_version: int | None,
    events: Sequence[NewEvent],
    metadata: Mapping[str, Any],
) -> None:
    if not events:
        raise InvalidEvent("an append needs at least one event")
    if len(events) > MAX_EVENTS_PER_APPEND:
        raise InvalidEvent(f"at most {MAX_EVENTS_PER_APPEND} events per append")
    if expected_version is not None and expected_version < 0:
        raise InvalidEvent("expected_version cannot be negative")
    if not isinstance(stream.id, uuid.UUID) or not stream.type:
        raise InvalidEvent("a stream needs a UUID and a type")
    if not isinstance(metadata.get("actor"), str) or not metadata["actor"]:
        raise InvalidEvent("metadata must name the actor")
    key = metadata.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 200):
        raise InvalidEvent("an idempotency key is a string of 1 to 200 characters")
    for event in events:
        if not event.type or event.schema_version < 1 or not isinstance(event.data, dict):
            raise InvalidEvent(f"event {event.type!r} needs a type, a schema version and data")
    # Checked before the transaction starts, so refusing bad data never poisons the caller's.
    try:
        for event in events:
            check_json_value(event.data)
        check_json_value(dict(metadata))
    except CanonicalizationError as exc:
        raise InvalidEvent(str(exc)) from exc


def _fingerprint(stream: StreamRef, events: Sequence[NewEvent]) -> bytes:
    body = {
        "stream": str(stream.id),
        "events": [[e.type, e.schema_version, e.data] for e in events],
    }
    try:
        return hashlib.sha256(canonical_json(body)).digest()
    except CanonicalizationError as exc:
        raise InvalidEvent(str(exc)) from exc


def _claim_idempotency_key(
    cursor: psycopg.Cursor[Any], actor: str, key: str, fingerprint: bytes, stream: StreamRef
) -> AppendResult | None:
    """Claim the key, or return the result of the append that claimed it first.

    A concurrent request with the same key waits on the unique index until the first one
    commits, then sees its result; if the first one rolled back, this one proceeds."""
    cursor.execute(
        "INSERT INTO eventstore_idempotency (actor, key, fingerprint, stream_id, created_at)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (actor, key) DO NOTHING RETURNING id",
        (actor, key, fingerprint, stream.id, clock.now()),
    )
    if cursor.fetchone() is not None:
        return None
    cursor.execute(
        "SELECT fingerprint, stream_id, first_version, last_version, positions"
        " FROM eventstore_idempotency WHERE actor = %s AND key = %s",
        (actor, key),
    )
    stored_fp, stream_id, first, last, positions = cursor.fetchone()
    if bytes(stored_fp) != fingerprint:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {key!r} was used before for a different request"
        )
    return AppendResult(stream_id, first, last, tuple(json_value(positions) or ()), replayed=True)


def _lock_stream(
    cursor: psycopg.Cursor[Any], stream: StreamRef, expected: int | None, count: int
) -> tuple[int, bytes]:
    """Move the stream's version on by `count`, holding its row lock; return the old version
    and head hash. The head hash is read from the locked row, never in the same statement as
    another row's lock, so racing appends cannot chain onto a stale head."""
    now = clock.now()
    if expected == NO_STREAM or expected is None:
        cursor.execute(
            "INSERT INTO eventstore_stream"
            " (stream_id, stream_type, version, head_hash, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (stream_id) DO NOTHING"
            " RETURNING stream_type",
            (stream.id, stream.type, count, GENESIS, now, now),
        )
        if cursor.fetchone() is not None:
            return 0, GENESIS
        if expected == NO_STREAM:
            raise ConcurrencyConflict(stream.id, expected, _current_version(cursor, stream))
        cursor.execute(
            "UPDATE eventstore_stream SET version = version + %s, updated_at = %s"
            " WHERE stream_id = %s RETURNING version - %s, head_hash, stream_type",
            (count, now, stream.id, count),
        )
    else:
        cursor.execute(
            "UPDATE eventstore_stream SET version = version + %s, updated_at = %s"
            " WHERE stream_id = %s AND version = %s RETURNING version - %s, head_hash, stream_type",
            (count, now, stream.id, expected, count),
        )
    row = cursor.fetchone()
    if row is None:
        raise ConcurrencyConflict(stream.id, expected, _current_version(cursor, stream))
    version, head, stream_type = row
    if stream_type != stream.type:
        raise InvalidEvent(f"stream {stream.id} is a {stream_type}, not a {stream.type}")
    return version, bytes(head)


def _current_version(cursor: psycopg.Cursor[Any], stream: StreamRef) -> int:
    cursor.execute("SELECT version FROM eventstore_stream WHERE stream_id = %s", (stream.id,))
    row = cursor.fetchone()
    return row[0] if row else 0


def _chain(
    stream: StreamRef,
    prev_version: int,
    head: bytes,
    events: Sequence[NewEvent],
    metadata: dict[str, Any],
    recorded_at: datetime,
) -> tuple[list[tuple[Any, ...]], list[RecordedEvent]]:
    rows: list[tuple[Any, ...]] = []
    recorded: list[RecordedEvent] = []
    prev = head
    meta_json = _json(metadata, "metadata")
    for offset, event in enumerate(events, start=1):
        version = prev_version + offset
        occurred_at = event.occurred_at or recorded_at
        content = event_content(
            stream_id=stream.id,
            stream_type=stream.type,
            version=version,
            type=event.type,
            schema_version=event.schema_version,
            data=event.data,
            metadata=metadata,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
        )
        try:
            digest = chain_hash(prev, content)
        except CanonicalizationError as exc:
            raise InvalidEvent(f"{event.type}: {exc}") from exc
        rows.append(
            (
                stream.id,
                stream.type,
                version,
                event.type,
                event.schema_version,
                _json(event.data, "data"),
                meta_json,
                occurred_at,
                recorded_at,
                prev,
                digest,
            )
        )
        recorded.append(
            RecordedEvent(
                position=0,
                stream_id=stream.id,
                stream_type=stream.type,
                version=version,
                type=event.type,
                schema_version=event.schema_version,
                data=event.data,
                metadata=metadata,
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    return rows, recorded


def _json(value: Any, what: str) -> str:
    try:
        return canonical_json(value).decode()
    except CanonicalizationError as exc:
        raise InvalidEvent(f"{what}: {exc}") from exc


_ROW = "(%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s)"


def _insert(
    cursor: psycopg.Cursor[Any],
    stream: StreamRef,
    rows: list[tuple[Any, ...]],
    head: bytes,
    now: datetime,
) -> list[int]:
    values = ", ".join([_ROW] * len(rows))
    params: list[Any] = [value for row in rows for value in row]
    try:
        cursor.execute(
            "WITH head AS (UPDATE eventstore_stream SET head_hash = %s WHERE stream_id = %s)"
            " INSERT INTO eventstore_event (stream_id, stream_type, version, type,"
            " schema_version, data, metadata, occurred_at, recorded_at, prev_hash, hash)"
            f" VALUES {values} RETURNING position",
            [head, stream.id, *params],
        )
    except psycopg.errors.UniqueViolation as exc:
        # Only reachable if the stream row and the log disagree; never chain a duplicate.
        raise ConcurrencyConflict(stream.id, rows[0][2] - 1, None) from exc
    return sorted(row[0] for row in cursor.fetchall())


def _with_position(event: RecordedEvent, position: int) -> RecordedEvent:
    return RecordedEvent(**{**event.__dict__, "position": position})


def read_stream(
    stream_id: uuid.UUID,
    *,
    up_to_position: int | None = None,
    as_of: datetime | None = None,
    upcast: bool = True,
) -> list[RecordedEvent]:
    """The stream's events, oldest first, as the log held them at a position or a time."""
    sql = f"SELECT {EVENT_COLUMNS} FROM eventstore_event WHERE stream_id = %s"
    params: list[Any] = [stream_id]
    if up_to_position is not None:
        sql += " AND position <= %s"
        params.append(up_to_position)
    if as_of is not None:
        sql += " AND recorded_at <= %s"
        params.append(as_of)
    sql += " ORDER BY version"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        events = [row_to_event(row) for row in cursor.fetchall()]
    return [catalog.upcast(e) for e in events] if upcast else events


def read_all(*, after_position: int = 0, batch_size: int = 1000) -> Iterator[RecordedEvent]:
    """Every event in position order (for history and export, not for catch-up readers)."""
    last = after_position
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {EVENT_COLUMNS} FROM eventstore_event WHERE position > %s"
                " ORDER BY position LIMIT %s",
                (last, batch_size),
            )
            rows = cursor.fetchall()
        if not rows:
            return
        for row in rows:
            yield row_to_event(row)
        last = rows[-1][0]


def load(
    stream_id: uuid.UUID,
    evolve: Callable[[S, RecordedEvent], S],
    initial: S,
    *,
    up_to_position: int | None = None,
    as_of: datetime | None = None,
) -> tuple[S, int]:
    """Fold a stream into state with `evolve`; returns (state, version). Time travel with
    up_to_position or as_of."""
    state, version = initial, 0
    for recorded in read_stream(stream_id, up_to_position=up_to_position, as_of=as_of):
        state = evolve(state, recorded)
        version = recorded.version
    return state, version


def stream_version(stream_id: uuid.UUID) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM eventstore_stream WHERE stream_id = %s", (stream_id,))
        row = cursor.fetchone()
    return row[0] if row else 0
