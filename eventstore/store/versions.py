"""Where streams stand: the head an append chains onto, and the current version of streams
(for a conflict's report, a page's ETag or a check that nothing moved)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection

from core.errors import InvalidInput
from eventstore.store.rows import NO_HEAD, Head
from eventstore.types import ConcurrencyConflict, InvalidEvent, StreamRef

# The one version query: each stream's newest version, 0 for one without events.
_VERSIONS_SQL = (
    "SELECT s.id, coalesce((SELECT max(e.version) FROM eventstore_event e"
    " WHERE e.stream_id = s.id), 0) FROM unnest(%s::uuid[]) AS s(id)"
)

# The stream's append lock, held until the transaction ends (load_locked takes it too).
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended(%s::text, 0))"


def read_head(cursor: Any, stream: StreamRef, expected: int | None) -> Head:
    """The stream's newest committed event (or NO_HEAD); a conflict if it is not `expected`.
    At any version (expected None) it takes the stream's lock first, so such appends queue
    on the stream instead of starving each other."""
    if expected is None:
        cursor.execute(LOCK_SQL, (str(stream.id),))
    cursor.execute(
        "SELECT version, hash, stream_type, recorded_at FROM eventstore_event"
        " WHERE stream_id = %s ORDER BY version DESC LIMIT 1",
        (stream.id,),
    )
    row = cursor.fetchone()
    if row is None:
        head = NO_HEAD
    else:
        version, hash_, stream_type, recorded_at = row
        if stream_type != stream.type:
            raise InvalidEvent(f"stream {stream.id} is a {stream_type}, not a {stream.type}")
        head = Head(version, bytes(hash_), recorded_at)
    if expected is not None and head.version != expected:
        raise ConcurrencyConflict(stream.id, expected, head.version)
    return head


def versions_of(cursor: Any, stream_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The current version of each stream, on a psycopg or Django cursor, in one query."""
    cursor.execute(_VERSIONS_SQL, (stream_ids,))
    return dict(cursor.fetchall())


def stream_version(stream_id: uuid.UUID) -> int:
    """The stream's current version (0 before its first event)."""
    return stream_versions([stream_id])[_stream_uuid(stream_id)]


def stream_versions(stream_ids: Iterable[uuid.UUID | str]) -> dict[uuid.UUID, int]:
    """The current version of each stream (0 for one without events), in one query."""
    ids = list(dict.fromkeys(_stream_uuid(s) for s in stream_ids))
    if not ids:
        return {}
    with connection.cursor() as cursor:
        return versions_of(cursor, ids)


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
