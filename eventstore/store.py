"""append and load: the only way events enter the log, and the ways they are read back.

An append is one transaction (or part of the caller's): lock the stream row by moving its
version, chain the new events onto the stored head hash, insert them, run the inline
projectors and record side effects in the outbox. `UNIQUE (stream_id, version)` backs the
optimistic concurrency check."""

from __future__ import annotations

import hashlib
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from django.db import connection, transaction

from core import clock
from core.errors import InvalidInput
from eventstore import catalog, outbox, subscribers
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
    Reaction,
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
    request_fingerprint: bytes | None = None,
    head: Head | None = None,
) -> AppendResult:
    """Append events to a stream at `expected_version` (NO_STREAM for a new stream, None for
    any). Raises ConcurrencyConflict when the stream has moved on. With an idempotency_key in
    the metadata, a repeat by the same actor returns the first result and appends nothing; the
    repeat must be the same request: the same events, or the same `request_fingerprint` where
    the events hold values the server assigns (such as a version number).

    `head` is the stream's (version, hash, recorded_at) as load_locked read it in this
    transaction; it spares the append reading it again.

    A conflict raised inside a caller's transaction leaves that transaction to be rolled back
    (no savepoint is spent on the common path)."""
    if expected_version is not None:
        batch = Append(
            stream, expected_version, events, metadata, side_effects, request_fingerprint, head
        )
        return append_all([batch])[0]
    new_events, meta, encoded, fingerprint = _prepare(
        stream, expected_version, events, metadata, request_fingerprint
    )
    key = meta.get("idempotency_key")
    owns_transaction = not connection.in_atomic_block

    # Any version: appends queue on the stream's lock (see _read_head), so a retry is rare.
    with transaction.atomic(savepoint=False):
        raw = connection.connection
        # The key is claimed by the first attempt's insert; a retry after losing a race keeps
        # that claim and must not take it for an earlier request's.
        key_claimed = False
        with raw.cursor() as cursor:
            for _attempt in range(10):
                if key is not None and not key_claimed and _key_used(cursor, meta["actor"], key):
                    return _replay(cursor, meta["actor"], key, fingerprint)
                head = _read_head(cursor, stream, None)
                # Read once the head is known and never before the head's: a stream's
                # recorded_at never goes back, so reading it as of a time gives a prefix.
                recorded_at = clock.now() if head[2] is None else max(clock.now(), head[2])
                rows = _chain(stream, head[0], head[1], new_events, encoded, recorded_at)
                claim = key if not key_claimed else None
                statement = _insert_statement(stream, rows, meta, claim, fingerprint, recorded_at)
                ((claimed, positions),) = _run_inserts(raw, [statement])
                if claim is not None:
                    if not claimed:
                        return _replay(cursor, meta["actor"], key, fingerprint)
                    key_claimed = True
                if len(positions) == len(rows):
                    break
                if positions:
                    raise ConcurrencyConflict(stream.id, None, _current_version(cursor, stream))
            else:
                raise ConcurrencyConflict(stream.id, None, _current_version(cursor, stream))
        writer = ProjectionWriter()
        result = _finish(
            writer, stream, rows, positions, new_events, meta, side_effects, recorded_at
        )
        _flush_and_react(writer, result.events, owns_transaction)
    return result


def _finish(
    writer: ProjectionWriter,
    stream: StreamRef,
    rows: Sequence[tuple[Any, ...]],
    positions: Sequence[int],
    events: Sequence[NewEvent],
    meta: dict[str, Any],
    side_effects: Sequence[SideEffect],
    recorded_at: datetime,
) -> AppendResult:
    """Queue what follows inserted events on the writer: projections, the idempotency key's
    result, outbox rows; the head is remembered once the transaction commits."""
    recorded = _recorded(rows, positions, events, meta)
    result = AppendResult(
        stream_id=stream.id,
        first_version=recorded[0].version,
        last_version=recorded[-1].version,
        positions=tuple(positions),
        events=tuple(recorded),
    )
    project(recorded, writer)
    key = meta.get("idempotency_key")
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
    head_after = (result.last_version, recorded[-1].hash, stream.type, recorded_at)
    transaction.on_commit(lambda: _remember_head(stream.id, *head_after))
    return result


def _flush_and_react(
    writer: ProjectionWriter, recorded: Sequence[RecordedEvent], owns_transaction: bool
) -> None:
    """Send the queued projection writes, then run the subscribers of the recorded events,
    which see the projections and append in the same transaction. Without subscribers the
    COMMIT goes with the writes (one round trip); with them, the transaction ends when the
    caller's atomic block does."""
    if not subscribers.has_subscribers(e.type for e in recorded):
        writer.flush(commit=owns_transaction)
        return
    writer.flush()
    react(recorded)


# The reactions that led to the append running now: (subscriber, stream it appended to).
_reaction_chain: ContextVar[tuple[tuple[str, uuid.UUID], ...]] = ContextVar(
    "reaction_chain", default=()
)


def react(recorded: Sequence[RecordedEvent]) -> list[AppendResult]:
    """Inside the transaction that recorded `recorded`: run their subscribers and append what
    they return. Each reaction's append carries the trigger's actor, its causation (the
    triggering event) and an idempotency key derived from the trigger, the subscriber and the
    target stream, so reacting to the same event again appends nothing. Reactions may trigger
    reactions up to MAX_REACTION_DEPTH links; a subscriber appending again to a stream it
    already appended to in the chain is a loop. Either raises ReactionChainError."""
    if not connection.in_atomic_block:
        raise RuntimeError("reactions run inside the transaction of their cause")
    chain = _reaction_chain.get()
    results: list[AppendResult] = []
    for event in recorded:
        for fn in subscribers.subscribers_for(event.type):
            name = subscribers.name_of(fn)
            for reaction in fn(event) or ():
                results.append(_append_reaction(chain, name, event, reaction))
    return results


def _append_reaction(
    chain: tuple[tuple[str, uuid.UUID], ...], name: str, cause: RecordedEvent, reaction: Reaction
) -> AppendResult:
    link = (name, reaction.stream.id)
    if link in chain:
        raise subscribers.ReactionChainError(
            f"{name} would append to stream {reaction.stream.id} again in one chain of"
            f" reactions (a loop), reacting to {cause.type}"
        )
    if len(chain) >= subscribers.MAX_REACTION_DEPTH:
        raise subscribers.ReactionChainError(
            f"reactions nest deeper than {subscribers.MAX_REACTION_DEPTH} links"
            f" ({' -> '.join(n for n, _ in (*chain, link))})"
        )
    key = f"reaction:{cause.stream_id}:{cause.version}:{reaction.stream.id}:"
    # Keys are at most 200 characters: a long subscriber name is kept as its digest.
    key += name if len(key) + len(name) <= 200 else hashlib.sha256(name.encode()).hexdigest()
    meta = {k: v for k, v in cause.metadata.items() if k != "idempotency_key"}
    meta["causation_id"] = f"{cause.stream_id}@{cause.version}"
    meta["idempotency_key"] = key
    token = _reaction_chain.set((*chain, link))
    try:
        return append(
            reaction.stream,
            reaction.expected_version,
            reaction.events,
            meta,
            side_effects=reaction.side_effects,
            # A repeat is the same reaction whatever its data (a due date, say), not a reuse.
            request_fingerprint=hashlib.sha256(key.encode()).digest(),
        )
    finally:
        _reaction_chain.reset(token)


@dataclass(frozen=True)
class Append:
    """One append of an append_all batch: append's arguments, at a known version."""

    stream: StreamRef
    expected_version: int
    events: Sequence[NewEvent | catalog.DomainEvent]
    metadata: Mapping[str, Any]
    side_effects: Sequence[SideEffect] = ()
    request_fingerprint: bytes | None = None
    head: Head | None = None


def append_all(appends: Sequence[Append]) -> list[AppendResult]:
    """Append to several streams in one transaction (or the caller's) in two round trips:
    every insert in one pipeline, then every projection, idempotency result and outbox row
    (with the COMMIT when this call owns the transaction).

    Each append is at a known version (NO_STREAM, or a version whose head load_locked read or
    this process knows; otherwise the head is read first). Only the first append may carry an
    idempotency key: a repeat returns [the first's earlier result] and appends nothing. Every
    later insert happens only if the one before it did (it looks for that event's hash), so a
    refused first append leaves nothing behind, and a conflict anywhere raises
    ConcurrencyConflict and leaves the transaction to be rolled back."""
    if not appends:
        raise InvalidEvent("append_all needs at least one append")
    batch = []
    for index, item in enumerate(appends):
        if item.expected_version is None:
            raise InvalidEvent("append_all appends at known versions")
        if index and item.metadata.get("idempotency_key") is not None:
            raise InvalidEvent("only the first append of a batch may carry a key")
        prepared = _prepare(
            item.stream,
            item.expected_version,
            item.events,
            item.metadata,
            item.request_fingerprint,
        )
        batch.append((item, *prepared))
    first, _, first_meta, _, first_fingerprint = batch[0]
    key = first_meta.get("idempotency_key")
    owns_transaction = not connection.in_atomic_block

    with transaction.atomic(savepoint=False):
        raw = connection.connection
        heads: list[Head] = []
        with raw.cursor() as cursor:
            for item, *_ in batch:
                head = item.head if item.head and item.head[0] == item.expected_version else None
                head = head or _cached_head(item.stream, item.expected_version)
                if head is None:
                    # As in append: a repeat is answered before any version check.
                    actor = first_meta["actor"]
                    if item is first and key is not None and _key_used(cursor, actor, key):
                        return [_replay(cursor, actor, key, first_fingerprint)]
                    head = _read_head(cursor, item.stream, item.expected_version)
                heads.append(head)
        now = clock.now()
        planned, statements = [], []
        after: tuple[uuid.UUID, int, bytes] | None = None
        for (item, new_events, meta, encoded, fingerprint), head in zip(batch, heads, strict=True):
            recorded_at = now if head[2] is None else max(now, head[2])
            rows = _chain(item.stream, head[0], head[1], new_events, encoded, recorded_at)
            claim = meta.get("idempotency_key")
            statements.append(
                _insert_statement(item.stream, rows, meta, claim, fingerprint, recorded_at, after)
            )
            planned.append((rows, recorded_at))
            after = (item.stream.id, rows[-1][2], rows[-1][10])
        outcomes = _run_inserts(raw, statements)
        if key is not None and not outcomes[0][0]:
            with raw.cursor() as cursor:
                return [_replay(cursor, first_meta["actor"], key, first_fingerprint)]
        for (item, *_), (rows, _at), (_claimed, positions) in zip(
            batch, planned, outcomes, strict=True
        ):
            if len(positions) != len(rows):
                with raw.cursor() as cursor:
                    actual = _current_version(cursor, item.stream)
                raise ConcurrencyConflict(item.stream.id, item.expected_version, actual)
        writer = ProjectionWriter()
        results = [
            _finish(writer, item.stream, rows, positions, new_events, meta, item.side_effects, at)
            for (item, new_events, meta, _, _), (rows, at), (_, positions) in zip(
                batch, planned, outcomes, strict=True
            )
        ]
        _flush_and_react(writer, [e for r in results for e in r.events], owns_transaction)
    return results


def _prepare(
    stream: StreamRef,
    expected_version: int | None,
    events: Sequence[NewEvent | catalog.DomainEvent],
    metadata: Mapping[str, Any],
    request_fingerprint: bytes | None,
) -> tuple[list[NewEvent], dict[str, Any], tuple[list[bytes], bytes], bytes]:
    """Check and encode an append's arguments before any transaction starts, so refusing bad
    data never poisons the caller's transaction: (events, metadata, encoded, fingerprint),
    the fingerprint empty without an idempotency key."""
    new_events = [e.to_new() if isinstance(e, catalog.DomainEvent) else e for e in events]
    _check_arguments(stream, expected_version, new_events, metadata)
    meta = dict(metadata)
    encoded = _encode(new_events, meta)
    fingerprint = b""
    if meta.get("idempotency_key") is not None:
        fingerprint = request_fingerprint or _fingerprint(stream, new_events)
    return new_events, meta, encoded, fingerprint


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


# The (version, hash, stream type, recorded_at) of committed events this process wrote or read.
# A committed event never changes, so a cached head is always true of its version; if the
# stream has moved past it, the insert of the next version conflicts, exactly as an
# expected_version should.
_heads: OrderedDict[uuid.UUID, tuple[int, bytes, str, datetime]] = OrderedDict()
_HEADS_KEPT = 10_000

# (version, hash, recorded_at) of the event an append chains onto; recorded_at is None before
# a stream's first event.
Head = tuple[int, bytes, datetime | None]


def _remember_head(
    stream_id: uuid.UUID, version: int, head: bytes, stream_type: str, recorded_at: datetime
) -> None:
    _heads[stream_id] = (version, head, stream_type, recorded_at)
    _heads.move_to_end(stream_id)
    while len(_heads) > _HEADS_KEPT:
        _heads.popitem(last=False)


def _cached_head(stream: StreamRef, expected: int | None) -> Head | None:
    if expected is None:
        return None
    if expected == NO_STREAM:
        return 0, GENESIS, None
    cached = _heads.get(stream.id)
    if cached is None or cached[0] != expected or cached[2] != stream.type:
        return None
    return cached[0], cached[1], cached[3]


def _key_used(cursor: psycopg.Cursor[Any], actor: str, key: str) -> bool:
    """Whether a committed append already used this key: a repeat is answered before any
    version check, since the stream may have moved on since the first request."""
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM eventstore_idempotency WHERE actor = %s AND key = %s)",
        (actor, key),
    )
    return cursor.fetchone()[0]


def _read_head(cursor: psycopg.Cursor[Any], stream: StreamRef, expected: int | None) -> Head:
    """The stream's newest committed event (or GENESIS); a conflict if it is not `expected`."""
    if expected is None:
        # Appends at any version queue on the stream instead of starving each other.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s::text, 0))", (str(stream.id),)
        )
    cursor.execute(
        "SELECT version, hash, stream_type, recorded_at FROM eventstore_event"
        " WHERE stream_id = %s ORDER BY version DESC LIMIT 1",
        (stream.id,),
    )
    row = cursor.fetchone()
    version, head, at = (row[0], bytes(row[1]), row[3]) if row else (0, GENESIS, None)
    if row is not None and row[2] != stream.type:
        raise InvalidEvent(f"stream {stream.id} is a {row[2]}, not a {stream.type}")
    if expected is not None and version != expected:
        raise ConcurrencyConflict(stream.id, expected, version)
    return version, head, at


def _current_version(cursor: psycopg.Cursor[Any], stream: StreamRef) -> int:
    cursor.execute(
        "SELECT coalesce(max(version), 0) FROM eventstore_event WHERE stream_id = %s",
        (stream.id,),
    )
    return cursor.fetchone()[0]


def _encode(events: Sequence[NewEvent], metadata: dict[str, Any]) -> tuple[list[bytes], bytes]:
    """RFC 8785 bytes of every event's data and of the metadata; InvalidEvent if not JSON-exact."""
    return [_json(e.data, f"{e.type} data") for e in events], _json(metadata, "metadata")


def _chain(
    stream: StreamRef,
    prev_version: int,
    head: bytes,
    events: Sequence[NewEvent],
    encoded: tuple[list[bytes], bytes],
    recorded_at: datetime,
) -> list[tuple[Any, ...]]:
    """The rows to insert: each event's content hashed onto the previous event's hash."""
    rows: list[tuple[Any, ...]] = []
    prev = head
    datas, meta_json = encoded
    meta_text = meta_json.decode()
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
                meta_text,
                occurred_at,
                recorded_at,
                prev,
                digest,
            )
        )
        prev = digest
    return rows


def _recorded(
    rows: Sequence[tuple[Any, ...]],
    positions: Sequence[int],
    events: Sequence[NewEvent],
    metadata: dict[str, Any],
) -> list[RecordedEvent]:
    return [
        RecordedEvent(
            position=position,
            stream_id=row[0],
            stream_type=row[1],
            version=row[2],
            type=row[3],
            schema_version=row[4],
            data=event.data,
            metadata=metadata,
            occurred_at=row[7],
            recorded_at=row[8],
            prev_hash=row[9],
            hash=row[10],
        )
        for row, position, event in zip(rows, positions, events, strict=True)
    ]


def _json(value: Any, what: str) -> bytes:
    try:
        return canonical_json(value)
    except CanonicalizationError as exc:
        raise InvalidEvent(f"{what}: {exc}") from exc


_TYPED_ROW = (
    "(%s::uuid, %s::text, %s::bigint, %s::text, %s::integer, %s::jsonb, %s::jsonb,"
    " %s::timestamptz, %s::timestamptz, %s::bytea, %s::bytea)"
)
_EVENT_COLUMNS = (
    "stream_id, stream_type, version, type, schema_version, data, metadata, occurred_at,"
    " recorded_at, prev_hash, hash"
)


def _run_inserts(
    raw: psycopg.Connection[Any], statements: Sequence[tuple[str, list[Any]]]
) -> list[tuple[bool, list[int]]]:
    """Run insert statements (see _insert_statement) in order, several in one pipeline round
    trip; each gives (claimed, positions), fewer positions than rows meaning the stream moved
    on."""
    cursors = [raw.cursor() for _ in statements]
    try:
        # Measured: for a single statement a pipeline costs more than it saves.
        with raw.pipeline() if len(statements) > 1 else nullcontext():
            for cursor, statement in zip(cursors, statements, strict=True):
                cursor.execute(*statement)
        return [
            (bool(claimed), list(positions))
            for claimed, positions in (cursor.fetchone() for cursor in cursors)
        ]
    finally:
        for cursor in cursors:
            cursor.close()


def _insert_statement(
    stream: StreamRef,
    rows: list[tuple[Any, ...]],
    meta: dict[str, Any],
    key: str | None,
    fingerprint: bytes,
    now: datetime,
    after: tuple[uuid.UUID, int, bytes] | None = None,
) -> tuple[str, list[Any]]:
    """The statement that claims the idempotency key and inserts the events.

    UNIQUE (stream_id, version) is the concurrency guard: ON CONFLICT DO NOTHING waits for a
    racing writer of the same version and inserts nothing if it committed. NOT EXISTS keeps a
    batch all-or-nothing against writers that already committed. With `after` (stream id,
    version, hash) it inserts only if that event is there: the previous append of a batch
    went in. Returns one row: (claimed, positions)."""
    values = ", ".join([_TYPED_ROW] * len(rows))
    events = [value for row in rows for value in row]
    next_version = rows[0][2]
    if key is None:
        claim, params = "SELECT 1", [*events, stream.id, next_version]
    else:
        claim = (
            "INSERT INTO eventstore_idempotency (actor, key, fingerprint, stream_id, created_at)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (actor, key) DO NOTHING RETURNING id"
        )
        params = [meta["actor"], key, fingerprint, stream.id, now, *events, stream.id, next_version]
    previous = ""
    if after is not None:
        previous = (
            " AND EXISTS (SELECT 1 FROM eventstore_event"
            " WHERE stream_id = %s AND version = %s AND hash = %s)"
        )
        params.extend(after)
    sql = (
        f"WITH claim AS ({claim}),"
        f" ins AS (INSERT INTO eventstore_event ({_EVENT_COLUMNS})"
        f"  SELECT * FROM (VALUES {values}) AS v"
        "  WHERE EXISTS (SELECT 1 FROM claim) AND NOT EXISTS ("
        f"    SELECT 1 FROM eventstore_event WHERE stream_id = %s AND version = %s){previous}"
        "  ON CONFLICT (stream_id, version) DO NOTHING RETURNING position)"
        " SELECT EXISTS (SELECT 1 FROM claim), ARRAY(SELECT position FROM ins ORDER BY 1)"
    )
    return sql, params


def read_stream(
    stream_id: uuid.UUID,
    *,
    up_to_position: int | None = None,
    as_of: datetime | None = None,
    after_version: int = 0,
    upcast: bool = True,
) -> list[RecordedEvent]:
    """The stream's events, oldest first, as the log held them at a position or a time."""
    sql = f"SELECT {EVENT_COLUMNS} FROM eventstore_event WHERE stream_id = %s"
    params: list[Any] = [stream_id]
    if after_version:
        sql += " AND version > %s"
        params.append(after_version)
    if up_to_position is not None:
        sql += " AND position <= %s"
        params.append(up_to_position)
    if as_of is not None:
        # A prefix of the stream: stop before the first version recorded after `as_of`, even
        # where an older log holds a later version recorded earlier than the one before it.
        sql += (
            " AND version < coalesce((SELECT min(version) FROM eventstore_event"
            " WHERE stream_id = %s AND recorded_at > %s), 9223372036854775807)"
        )
        params.extend([stream_id, as_of])
    sql += " ORDER BY version"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        events = [row_to_event(row) for row in cursor.fetchall()]
    if events and up_to_position is None and as_of is None and not connection.in_atomic_block:
        # Only committed reads: a head seen inside a transaction might still roll back.
        last = events[-1]
        _remember_head(stream_id, last.version, last.hash, last.stream_type, last.recorded_at)
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


# Folded state per (stream, evolve) as of a committed version: a load only reads what came after.
_states: OrderedDict[tuple[uuid.UUID, Callable[..., Any]], tuple[int, Any]] = OrderedDict()
_STATES_KEPT = 5_000


def load(
    stream_id: uuid.UUID,
    evolve: Callable[[S, RecordedEvent], S],
    initial: S,
    *,
    up_to_position: int | None = None,
    as_of: datetime | None = None,
    cached: bool = False,
) -> tuple[S, int]:
    """Fold a stream into state with `evolve`; returns (state, version). Time travel with
    up_to_position or as_of. States must be immutable: the latest committed one is reused.

    `cached=True` returns this process's last known state without asking the database whether
    the stream moved on. Only for a command that appends to this very stream at the version it
    read: a stale state then fails that append with ConcurrencyConflict, and the command
    retries with a fresh load."""
    travelling = up_to_position is not None or as_of is not None
    state, version = initial, 0
    if not travelling:
        version, state = _states.get((stream_id, evolve), (0, initial))
        if cached and version:
            return state, version
    events = read_stream(
        stream_id, up_to_position=up_to_position, as_of=as_of, after_version=version
    )
    for recorded in events:
        state = evolve(state, recorded)
        version = recorded.version
    if not travelling and events and not connection.in_atomic_block:
        _states[(stream_id, evolve)] = (version, state)
        _states.move_to_end((stream_id, evolve))
        while len(_states) > _STATES_KEPT:
            _states.popitem(last=False)
    return state, version


def load_existing(
    stream_id: str | uuid.UUID,
    evolve: Callable[[S, RecordedEvent], S],
    initial: S,
    missing: Exception,
    *,
    up_to_position: int | None = None,
    as_of: datetime | None = None,
) -> S:
    """load() of an aggregate by the id a client gave (also as of a position or time): raises
    `missing` when the id is not a UUID or the stream did not exist (yet). The state needs an
    `exists` property."""
    try:
        stream = uuid.UUID(str(stream_id))
    except ValueError:
        raise missing from None
    state, _ = load(stream, evolve, initial, up_to_position=up_to_position, as_of=as_of)
    if not state.exists:
        raise missing
    return state


def load_locked(
    stream: StreamRef, evolve: Callable[[S, RecordedEvent], S], initial: S
) -> tuple[S, Head]:
    """Inside a transaction: take the stream's append lock, held until the transaction ends,
    and fold the stream as committed under it; returns (state, head) for an append at
    head[0] with head=head, which then cannot conflict with another load_locked writer.

    For commands whose new events depend on the latest state (numbering): writers queue on
    the lock instead of racing and retrying. Lock and read go in one round trip (a pipeline,
    so the read's snapshot is taken once the lock is held), and only the events after this
    process's last known state are read."""
    if not connection.in_atomic_block:
        raise RuntimeError("load_locked needs a transaction")
    known_version, state = _states.get((stream.id, evolve), (0, initial))
    known_head = _heads.get(stream.id)
    if known_head is None or known_head[0] != known_version:
        # The head event's hash is not at hand: read it with the rest.
        known_version, state = 0, initial
    connection.ensure_connection()
    raw = connection.connection
    with raw.pipeline(), raw.cursor() as lock, raw.cursor() as cursor:
        lock.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s::text, 0))", (str(stream.id),)
        )
        cursor.execute(
            f"SELECT {EVENT_COLUMNS} FROM eventstore_event WHERE stream_id = %s AND version > %s"
            " ORDER BY version",
            (stream.id, known_version),
        )
        rows = cursor.fetchall()
    events = [catalog.upcast(row_to_event(row)) for row in rows]
    for recorded in events:
        if recorded.stream_type != stream.type:
            raise InvalidEvent(
                f"stream {stream.id} is a {recorded.stream_type}, not a {stream.type}"
            )
        state = evolve(state, recorded)
    if events:
        last = events[-1]
        return state, (last.version, last.hash, last.recorded_at)
    if known_head is not None and known_version:
        return state, (known_head[0], known_head[1], known_head[3])
    return state, (0, GENESIS, None)


def remember(
    stream_id: uuid.UUID, evolve: Callable[[S, RecordedEvent], S], version: int, state: S
) -> None:
    """Keep a state the caller folded from events it has just appended, once they commit, so
    the next load starts from it instead of reading them back."""

    def keep() -> None:
        known = _states.get((stream_id, evolve))
        if known is None or known[0] < version:
            _states[(stream_id, evolve)] = (version, state)
            _states.move_to_end((stream_id, evolve))
            while len(_states) > _STATES_KEPT:
                _states.popitem(last=False)

    transaction.on_commit(keep)


def stream_version(stream_id: uuid.UUID) -> int:
    """The stream's current version (0 before its first event)."""
    return stream_versions([stream_id])[_stream_uuid(stream_id)]


def opening_event(stream_id: uuid.UUID) -> RecordedEvent | None:
    """The stream's first event (upcast), or None: what a subscriber in another app reads to
    learn what a stream is about, by stored names, without importing the app that wrote it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {EVENT_COLUMNS} FROM eventstore_event WHERE stream_id = %s AND version = 1",
            (stream_id,),
        )
        row = cursor.fetchone()
    return catalog.upcast(row_to_event(row)) if row else None


def stream_versions(stream_ids: Iterable[uuid.UUID | str]) -> dict[uuid.UUID, int]:
    """The current version of each stream (0 for one without events), in one query."""
    ids = list(dict.fromkeys(_stream_uuid(s) for s in stream_ids))
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.id, coalesce((SELECT max(e.version) FROM eventstore_event e"
            " WHERE e.stream_id = s.id), 0) FROM unnest(%s::uuid[]) AS s(id)",
            (ids,),
        )
        return dict(cursor.fetchall())


def require_versions(expected: Mapping[uuid.UUID | str, int] | None) -> None:
    """Refuse with ConcurrencyConflict, naming the first stream that moved, unless every
    stream is still at the version the caller saw (its expected version). A command that
    decides on what a person was shown checks here every stream the page showed, beside the
    expected_version of the stream it appends to; nothing is read when nothing is expected.

    One read, not a lock: a stream that moves between this read and the command's commit is
    not caught here; what binds a decision to its facts (such as the evidence_version each
    review decision records) still applies then."""
    if not expected:
        return
    wanted = {_stream_uuid(stream_id): version for stream_id, version in expected.items()}
    for version in wanted.values():
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise InvalidInput("an expected version is a whole number, 0 or more")
    current = stream_versions(wanted)
    for stream_id, version in wanted.items():
        if current[stream_id] != version:
            raise ConcurrencyConflict(stream_id, version, current[stream_id])


def _stream_uuid(stream_id: uuid.UUID | str) -> uuid.UUID:
    try:
        return stream_id if isinstance(stream_id, uuid.UUID) else uuid.UUID(str(stream_id))
    except ValueError:
        raise InvalidInput(f"{stream_id!r} is not a stream id") from None
