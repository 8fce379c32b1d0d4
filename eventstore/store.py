"""append and load: the only way events enter the log, and the ways they are read back.

An append is one transaction (or part of the caller's): lock the stream row by moving its
version, chain the new events onto the stored head hash, insert them, run the inline
projectors and record side effects in the outbox. `UNIQUE (stream_id, version)` backs the
optimistic concurrency check."""

from __future__ import annotations

import hashlib
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from django.db import connection, transaction

from core import clock
from eventstore import catalog, outbox
from eventstore.canonical import CanonicalizationError, canonical_json
from eventstore.hashing import GENESIS, content_bytes
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
    # Encoded (and so validated) before the transaction starts: refusing bad data never
    # poisons the caller's transaction.
    encoded = _encode(new_events, meta)
    owns_transaction = not connection.in_atomic_block

    with transaction.atomic(savepoint=False):
        connection.ensure_connection()
        raw = connection.connection
        recorded_at = clock.now()
        fingerprint = _fingerprint(stream, new_events) if key is not None else b""
        claimed = False
        positions: list[int] = []
        with raw.cursor() as cursor:
            cached = _heads.get(stream.id)
            if expected_version and cached is not None and cached[0] == expected_version:
                # One round trip: claim the key, move the head and insert, guarded by the
                # cached head; a stale cache or a lost race inserts nothing and falls through.
                rows, recorded = _chain(
                    stream, expected_version, cached[1], new_events, encoded, meta, recorded_at
                )
                claimed, positions = _fast_append(
                    raw,
                    cursor,
                    stream,
                    cached,
                    rows,
                    recorded[-1].hash,
                    recorded_at,
                    meta,
                    key,
                    fingerprint,
                )
                if key is not None and not claimed:
                    return _replay(cursor, meta["actor"], key, fingerprint)
            if not positions:
                if key is not None and not claimed:
                    earlier = _claim_idempotency_key(
                        cursor, meta["actor"], key, fingerprint, stream
                    )
                    if earlier is not None:
                        return earlier
                prev_version, head = _lock_stream(cursor, stream, expected_version, len(new_events))
                rows, recorded = _chain(
                    stream, prev_version, head, new_events, encoded, meta, recorded_at
                )
                positions = _insert(cursor, stream, rows, recorded[-1].hash)
        first_version = recorded[0].version
        recorded = [_with_position(r, p) for r, p in zip(recorded, positions, strict=True)]
        result = AppendResult(
            stream_id=stream.id,
            first_version=first_version,
            last_version=recorded[-1].version,
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
        writer.flush(commit=owns_transaction)
        _remember_head(stream.id, result.last_version, recorded[-1].hash)
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
    return _replay(cursor, actor, key, fingerprint)


def _replay(cursor: psycopg.Cursor[Any], actor: str, key: str, fingerprint: bytes) -> AppendResult:
    """The result of the earlier append made with this key (the same request repeated)."""
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


def _encode(events: Sequence[NewEvent], metadata: dict[str, Any]) -> tuple[list[bytes], bytes]:
    """RFC 8785 bytes of every event's data and of the metadata; InvalidEvent if not JSON-exact."""
    return [_json(e.data, f"{e.type} data") for e in events], _json(metadata, "metadata")


def _chain(
    stream: StreamRef,
    prev_version: int,
    head: bytes,
    events: Sequence[NewEvent],
    encoded: tuple[list[bytes], bytes],
    metadata: dict[str, Any],
    recorded_at: datetime,
) -> tuple[list[tuple[Any, ...]], list[RecordedEvent]]:
    rows: list[tuple[Any, ...]] = []
    recorded: list[RecordedEvent] = []
    prev = head
    datas, meta_json = encoded
    for offset, (event, data_json) in enumerate(zip(events, datas, strict=True), start=1):
        version = prev_version + offset
        occurred_at = event.occurred_at or recorded_at
        content = content_bytes(
            stream_id=stream.id,
            stream_type=stream.type,
            version=version,
            type=event.type,
            schema_version=event.schema_version,
            data_json=data_json,
            metadata_json=meta_json,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
        )
        digest = hashlib.sha256(prev + content).digest()
        rows.append(
            (
                stream.id,
                stream.type,
                version,
                event.type,
                event.schema_version,
                data_json.decode(),
                meta_json.decode(),
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


def _json(value: Any, what: str) -> bytes:
    try:
        return canonical_json(value)
    except CanonicalizationError as exc:
        raise InvalidEvent(f"{what}: {exc}") from exc


_ROW = "(%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s)"
_TYPED_ROW = (
    "(%s::uuid, %s::text, %s::bigint, %s::text, %s::integer, %s::jsonb, %s::jsonb,"
    " %s::timestamptz, %s::timestamptz, %s::bytea, %s::bytea)"
)
_EVENT_COLUMNS = (
    "stream_id, stream_type, version, type, schema_version, data, metadata, occurred_at,"
    " recorded_at, prev_hash, hash"
)

# Last known (version, head hash) per stream, from this process's own appends and reads.
_heads: OrderedDict[uuid.UUID, tuple[int, bytes]] = OrderedDict()
_HEADS_KEPT = 10_000


def _remember_head(stream_id: uuid.UUID, version: int, head: bytes) -> None:
    _heads[stream_id] = (version, head)
    _heads.move_to_end(stream_id)
    while len(_heads) > _HEADS_KEPT:
        _heads.popitem(last=False)


def _fast_append(
    raw: psycopg.Connection[Any],
    cursor: psycopg.Cursor[Any],
    stream: StreamRef,
    cached: tuple[int, bytes],
    rows: list[tuple[Any, ...]],
    new_head: bytes,
    now: datetime,
    meta: dict[str, Any],
    key: str | None,
    fingerprint: bytes,
) -> tuple[bool, list[int]]:
    """Claim, guard and insert in one statement (and, in a pipeline, with BEGIN)."""
    version, head = cached
    values = ", ".join([_TYPED_ROW] * len(rows))
    guard = [version + len(rows), new_head, now, stream.id, version, head, stream.type]
    events = [value for row in rows for value in row]
    if key is None:
        claim, params = "SELECT 1", [*guard, *events]
    else:
        claim = (
            "INSERT INTO eventstore_idempotency (actor, key, fingerprint, stream_id, created_at)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (actor, key) DO NOTHING RETURNING id"
        )
        params = [meta["actor"], key, fingerprint, stream.id, now, *guard, *events]
    with raw.pipeline():  # BEGIN and the statement travel together; exit syncs once
        cursor.execute(
            f"WITH claim AS ({claim}),"
            " head AS ("
            "  UPDATE eventstore_stream SET version = %s, head_hash = %s, updated_at = %s"
            "  WHERE stream_id = %s AND version = %s AND head_hash = %s AND stream_type = %s"
            "  AND EXISTS (SELECT 1 FROM claim) RETURNING 1),"
            f" ins AS (INSERT INTO eventstore_event ({_EVENT_COLUMNS})"
            f"  SELECT * FROM (VALUES {values}) AS v WHERE EXISTS (SELECT 1 FROM head)"
            "  RETURNING position)"
            " SELECT EXISTS (SELECT 1 FROM claim), ARRAY(SELECT position FROM ins ORDER BY 1)",
            params,
        )
    claimed, positions = cursor.fetchone()
    return bool(claimed), list(positions)


def _insert(
    cursor: psycopg.Cursor[Any], stream: StreamRef, rows: list[tuple[Any, ...]], head: bytes
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
    if events and up_to_position is None and as_of is None:
        _remember_head(stream_id, events[-1].version, events[-1].hash)
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
