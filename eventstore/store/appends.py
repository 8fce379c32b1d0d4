"""append and append_all: the only way events enter the log, by one path.

Every append, at a known version or at any, goes the same way (`_run`):

1. Its arguments are checked and encoded before any transaction starts (`_prepare`).
2. The head it chains onto: the one load_locked read (head=), the one this process knows
   (caches.known_head), or read from the log (versions.read_head). At any version the head
   is always read, under the stream's lock. Before a head is read from the log, a repeated
   idempotency key is answered (idempotency.key_used).
3. The rows are chained onto the head and inserted, with the key's claim, by one statement
   per append (inserts.insert_statement), all sent at once (inserts.run_inserts).
4. A short insert is a conflict: raised for a known version; at any version the head is
   read again and the insert retried (a writer at a known version took the version first).
   An insert the database refuses because an event does not link to its stream's stored
   head (the chain trigger: the head was cached or given but the log lost it) raises
   StaleHead, a ConcurrencyConflict, and the stream is forgotten (caches.forget).
5. Projections, the key's result and outbox rows are queued and sent, then subscribers
   react (reactions.flush_and_react); the head is remembered once the transaction commits.

Transactions: an append runs in `transaction.atomic(savepoint=False)`, so inside a caller's
transaction it is part of it (a conflict leaves that transaction to be rolled back: no
savepoint is spent on the common path). When the append owns the transaction (no caller's
atomic block) and no subscriber must run after the projection writes, the COMMIT is sent by
the append itself, inside the atomic block: queued in the same pipeline as the projection
writes (ProjectionWriter.flush(commit=True)), one round trip fewer. Django's commit on
leaving the block then finds no transaction open on the connection and sends nothing, and
runs the on_commit callbacks (the head cache) as usual. Nothing runs between that COMMIT and
the end of the block."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, NoReturn

from django.db import connection, transaction

from core import clock
from eventstore import catalog, outbox
from eventstore.projection import ProjectionWriter, project
from eventstore.store import caches, idempotency, reactions, rows, versions
from eventstore.store.inserts import After, ChainRefused, Insert, insert_statement, run_inserts
from eventstore.store.rows import EventRow, Head
from eventstore.types import (
    AppendResult,
    ConcurrencyConflict,
    InvalidEvent,
    NewEvent,
    SideEffect,
    StaleHead,
    StreamRef,
)

log = logging.getLogger(__name__)

MAX_EVENTS_PER_APPEND = 1000
# Inserts at any version tried before giving up with ConcurrencyConflict (they queue on the
# stream's lock, so a retry is rare: only a writer at a known version can take a version).
ANY_VERSION_ATTEMPTS = 10


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

    `head` is the stream's Head as load_locked read it in this transaction; it spares the
    append reading it again.

    A conflict raised inside a caller's transaction leaves that transaction to be rolled back
    (no savepoint is spent on the common path)."""
    item = Append(
        stream, expected_version, events, metadata, side_effects, request_fingerprint, head
    )
    return _run([_prepare(item)])[0]


@dataclass(frozen=True)
class Append:
    """One append of an append_all batch: append's arguments, at a known version."""

    stream: StreamRef
    expected_version: int | None
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
        batch.append(_prepare(item))
    return _run(batch)


@dataclass(slots=True)
class _Prepared:
    """An append checked and encoded: its events, its metadata (with the actor and maybe an
    idempotency key), the canonical bytes of both, and the key's fingerprint (empty without
    a key)."""

    item: Append
    events: list[NewEvent]
    meta: dict[str, Any]
    encoded: tuple[list[bytes], bytes]
    fingerprint: bytes


def _prepare(item: Append) -> _Prepared:
    """Check and encode an append's arguments before any transaction starts, so refusing bad
    data never poisons the caller's transaction."""
    new_events = [e.to_new() if isinstance(e, catalog.DomainEvent) else e for e in item.events]
    _check_arguments(item.stream, item.expected_version, new_events, item.metadata)
    meta = dict(item.metadata)
    encoded = rows.encode(new_events, meta)
    fingerprint = b""
    if meta.get("idempotency_key") is not None:
        fingerprint = item.request_fingerprint or idempotency.fingerprint(item.stream, new_events)
    return _Prepared(item, new_events, meta, encoded, fingerprint)


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


def _run(batch: Sequence[_Prepared]) -> list[AppendResult]:
    """The one append path (see the module's docstring): a single append at any version, or
    appends at known versions. Only the first append may carry an idempotency key."""
    first = batch[0]
    key = first.meta.get("idempotency_key")
    any_version = first.item.expected_version is None
    owns_transaction = not connection.in_atomic_block

    # When this call owns the transaction, its COMMIT is sent inside this block, queued with
    # the projection writes (reactions.flush_and_react); see "Transactions" above.
    with transaction.atomic(savepoint=False):
        raw = connection.connection
        # The key is claimed by the first attempt's insert; a retry after losing a race keeps
        # that claim and must not take it for an earlier request's.
        key_claimed = False
        for _attempt in range(ANY_VERSION_ATTEMPTS if any_version else 1):
            unclaimed_key = key is not None and not key_claimed
            with raw.cursor() as cursor:
                heads = _heads(cursor, batch, any_version, check_key=unclaimed_key)
                if heads is None:
                    return [_replay(cursor, first)]
            planned = _plan(batch, heads, claim_key=unclaimed_key)
            try:
                outcomes = run_inserts(raw, [p.insert for p in planned])
            except ChainRefused as refused:
                _stale_head(batch, refused)
            if unclaimed_key:
                if not outcomes[0].claimed:
                    with raw.cursor() as cursor:
                        return [_replay(cursor, first)]
                key_claimed = True
            short = next(
                (
                    (prepared, outcome)
                    for prepared, plan, outcome in zip(batch, planned, outcomes, strict=True)
                    if len(outcome.positions) != len(plan.rows)
                ),
                None,
            )
            if short is None:
                break
            # At any version, nothing inserted means a writer at a known version took the
            # version first: read the head again and retry.
            prepared, outcome = short
            if not any_version or outcome.positions:
                _conflict(raw, prepared)
        else:
            _conflict(raw, first)
        writer = ProjectionWriter()
        results = [
            _finish(writer, prepared, plan, outcome.positions)
            for prepared, plan, outcome in zip(batch, planned, outcomes, strict=True)
        ]
        reactions.flush_and_react(writer, [e for r in results for e in r.events], owns_transaction)
    return results


def _heads(
    cursor: Any, batch: Sequence[_Prepared], any_version: bool, *, check_key: bool
) -> list[Head] | None:
    """The head each append chains onto: given by load_locked, known to this process, or
    read from the log (always at any version, under the stream's lock). None when the first
    append's key was used before, checked before its head is read (a version check)."""
    heads: list[Head] = []
    for prepared in batch:
        head = None if any_version else _known_head(prepared.item)
        if head is None:
            if check_key and prepared is batch[0]:
                actor, key = prepared.meta["actor"], prepared.meta["idempotency_key"]
                if idempotency.key_used(cursor, actor, key):
                    return None
            head = versions.read_head(cursor, prepared.item.stream, prepared.item.expected_version)
        heads.append(head)
    return heads


def _known_head(item: Append) -> Head | None:
    """The head of an append at a known version without reading the log, if known."""
    expected = item.expected_version
    if expected is None:
        return None
    if item.head is not None and item.head.version == expected:
        return item.head
    return caches.known_head(item.stream, expected)


class _Planned(NamedTuple):
    """An append's rows chained onto its head, their recorded_at, and its insert statement."""

    rows: list[EventRow]
    recorded_at: datetime
    insert: Insert


def _plan(batch: Sequence[_Prepared], heads: Sequence[Head], *, claim_key: bool) -> list[_Planned]:
    """Chain each append's rows onto its head and build its insert, which claims the first
    append's key (if `claim_key`) and, after the first, needs the append before it in."""
    # Read once the heads are known and never before a head's: a stream's recorded_at never
    # goes back, so reading it as of a time gives a prefix.
    now = clock.now()
    planned: list[_Planned] = []
    after: After | None = None
    for prepared, head in zip(batch, heads, strict=True):
        stream, meta = prepared.item.stream, prepared.meta
        recorded_at = now if head.recorded_at is None else max(now, head.recorded_at)
        event_rows = rows.chain(stream, head, prepared.events, prepared.encoded, recorded_at)
        key = meta.get("idempotency_key") if claim_key else None
        insert = insert_statement(
            stream, event_rows, meta["actor"], key, prepared.fingerprint, recorded_at, after
        )
        planned.append(_Planned(event_rows, recorded_at, insert))
        last = event_rows[-1]
        after = After(last.stream_id, last.version, last.hash)
    return planned


def _replay(cursor: Any, prepared: _Prepared) -> AppendResult:
    meta = prepared.meta
    return idempotency.replay(cursor, meta["actor"], meta["idempotency_key"], prepared.fingerprint)


def _stale_head(batch: Sequence[_Prepared], refused: ChainRefused) -> NoReturn:
    """The database refused an insert: its first event does not link to the stream's stored
    head, so the head this append chained onto (cached, or given by the caller) is not in the
    log. Forget the stream, so the retry reads the stored head, and raise StaleHead (the
    transaction is left to be rolled back)."""
    prepared = next((p for p in batch if p.item.stream.id == refused.stream_id), batch[0])
    stream_id, expected = prepared.item.stream.id, prepared.item.expected_version
    caches.forget(stream_id)
    log.warning(
        "stream %s: the log does not hold version %s, which this process knew as its head;"
        " the database lost commits (a failover or a restore?). Forgot the stream.",
        stream_id,
        expected,
    )
    raise StaleHead(stream_id, expected) from refused.__cause__


def _conflict(raw: Any, prepared: _Prepared) -> None:
    with raw.cursor() as cursor:
        stream = prepared.item.stream
        actual = versions.versions_of(cursor, [stream.id])[stream.id]
    raise ConcurrencyConflict(stream.id, prepared.item.expected_version, actual)


def _finish(
    writer: ProjectionWriter, prepared: _Prepared, plan: _Planned, positions: Sequence[int]
) -> AppendResult:
    """Queue what follows inserted events on the writer: projections, the idempotency key's
    result, outbox rows; the head is remembered once the transaction commits."""
    stream, meta, recorded_at = prepared.item.stream, prepared.meta, plan.recorded_at
    recorded = rows.recorded(plan.rows, positions, prepared.events, meta)
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
        idempotency.record_result(writer, meta["actor"], key, result)
    outbox.record(writer, prepared.item.side_effects, position=positions[-1], now=recorded_at)
    last = recorded[-1]
    transaction.on_commit(
        lambda: caches.remember_head(stream.id, last.version, last.hash, stream.type, recorded_at)
    )
    return result
