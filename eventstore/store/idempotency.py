"""Idempotency keys: a repeat of an append by the same actor with the same key returns the
first append's result and appends nothing; the same key for a different request is refused.

The key is claimed by the insert statement itself (CLAIM_SQL, see inserts.py), in the same
round trip as the events, and its result is filled in with the projection writes
(`record_result`). A repeat is recognised either by that claim failing, or, where the
append must read the stream's head from the log anyway, by `key_used` before the head is
read: the stream may have moved on since the first request, and a repeat is answered before
any version check."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import psycopg

from eventstore.canonical import CanonicalizationError, canonical_json
from eventstore.projection import ProjectionWriter, json_value
from eventstore.types import (
    AppendResult,
    IdempotencyKeyReused,
    InvalidEvent,
    NewEvent,
    StreamRef,
)

# Claims (actor, key) for this request; returns a row only if it was not claimed before.
# Parameters: actor, key, fingerprint, stream id, created_at.
CLAIM_SQL = (
    "INSERT INTO eventstore_idempotency (actor, key, fingerprint, stream_id, created_at)"
    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (actor, key) DO NOTHING RETURNING id"
)


def fingerprint(stream: StreamRef, events: Sequence[NewEvent]) -> bytes:
    """What makes a repeat the same request, when the caller gives no fingerprint."""
    body = {
        "stream": str(stream.id),
        "events": [[e.type, e.schema_version, e.data] for e in events],
    }
    try:
        return hashlib.sha256(canonical_json(body)).digest()
    except CanonicalizationError as exc:
        raise InvalidEvent(str(exc)) from exc


def key_used(cursor: psycopg.Cursor[Any], actor: str, key: str) -> bool:
    """Whether a committed append already used this key: a repeat is answered before any
    version check, since the stream may have moved on since the first request."""
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM eventstore_idempotency WHERE actor = %s AND key = %s)",
        (actor, key),
    )
    return cursor.fetchone()[0]


def replay(cursor: psycopg.Cursor[Any], actor: str, key: str, fingerprint: bytes) -> AppendResult:
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


def record_result(writer: ProjectionWriter, actor: str, key: str, result: AppendResult) -> None:
    """Queue the claimed key's result, for a repeat to return."""
    writer.execute(
        "UPDATE eventstore_idempotency SET first_version = %s, last_version = %s,"
        " positions = %s::jsonb WHERE actor = %s AND key = %s",
        (
            result.first_version,
            result.last_version,
            canonical_json(list(result.positions)).decode(),
            actor,
            key,
        ),
    )
