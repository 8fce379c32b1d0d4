"""Reading the log back: a stream's events (also as of a position or a time), every event in
position order, and a stream folded into state, from this process's known state on (see
caches.py for what that assumes)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from django.db import connection, transaction

from eventstore import catalog
from eventstore.projection import EVENT_COLUMNS, row_to_event
from eventstore.store import caches
from eventstore.store.rows import NO_HEAD, Head
from eventstore.store.versions import LOCK_SQL
from eventstore.types import InvalidEvent, RecordedEvent, StreamRef

S = TypeVar("S")


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
        caches.remember_head(stream_id, last.version, last.hash, last.stream_type, last.recorded_at)
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
            events = [row_to_event(row) for row in cursor.fetchall()]
        if not events:
            return
        yield from events
        last = events[-1].position


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
        version, state = caches.known_state(stream_id, evolve, initial)
        if cached and version:
            return state, version
    events = read_stream(
        stream_id, up_to_position=up_to_position, as_of=as_of, after_version=version
    )
    for recorded in events:
        state = evolve(state, recorded)
        version = recorded.version
    if not travelling and events and not connection.in_atomic_block:
        caches.keep_state(stream_id, evolve, version, state)
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
    head.version with head=head, which then cannot conflict with another load_locked writer.

    For commands whose new events depend on the latest state (numbering): writers queue on
    the lock instead of racing and retrying. Lock and read go in one round trip (a pipeline,
    so the read's snapshot is taken once the lock is held), and only the events after this
    process's last known state are read."""
    if not connection.in_atomic_block:
        raise RuntimeError("load_locked needs a transaction")
    known_version, state = caches.known_state(stream.id, evolve, initial)
    known_head = caches.heads.get(stream.id)
    if known_head is None or known_head.version != known_version:
        # The head event's hash is not at hand: read it with the rest.
        known_version, state = 0, initial
    connection.ensure_connection()
    raw = connection.connection
    with raw.pipeline(), raw.cursor() as lock, raw.cursor() as cursor:
        lock.execute(LOCK_SQL, (str(stream.id),))
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
        return state, Head(last.version, last.hash, last.recorded_at)
    if known_head is not None and known_version:
        return state, Head(known_head.version, known_head.hash, known_head.recorded_at)
    return state, NO_HEAD


def remember(
    stream_id: uuid.UUID, evolve: Callable[[S, RecordedEvent], S], version: int, state: S
) -> None:
    """Keep a state the caller folded from events it has just appended, once they commit, so
    the next load starts from it instead of reading them back."""

    def keep() -> None:
        known = caches.states.get((stream_id, evolve))
        if known is None or known[0] < version:
            caches.keep_state(stream_id, evolve, version, state)

    transaction.on_commit(keep)
