"""The rows an append writes, by name: an event row chained onto its stream's head, the head
it chains onto, and the events as recorded once the rows are in."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from eventstore.canonical import CanonicalizationError, canonical_json
from eventstore.hashing import GENESIS, content_bytes
from eventstore.types import InvalidEvent, NewEvent, RecordedEvent, StreamRef


class Head(NamedTuple):
    """The event an append chains onto: its version, hash and recorded_at (version 0, GENESIS
    and None before a stream's first event)."""

    version: int
    hash: bytes
    recorded_at: datetime | None


NO_HEAD = Head(0, GENESIS, None)


class EventRow(NamedTuple):
    """One row of eventstore_event as an append inserts it, in INSERT_COLUMNS order (the
    position is the database's; data and metadata are canonical JSON text)."""

    stream_id: uuid.UUID
    stream_type: str
    version: int
    type: str
    schema_version: int
    data: str
    metadata: str
    occurred_at: datetime
    recorded_at: datetime
    prev_hash: bytes
    hash: bytes


INSERT_COLUMNS = ", ".join(EventRow._fields)
# The row as SQL VALUES, with the column types the insert needs (in the same order).
TYPED_ROW = (
    "(%s::uuid, %s::text, %s::bigint, %s::text, %s::integer, %s::jsonb, %s::jsonb,"
    " %s::timestamptz, %s::timestamptz, %s::bytea, %s::bytea)"
)


def encode(events: Sequence[NewEvent], metadata: dict[str, Any]) -> tuple[list[bytes], bytes]:
    """RFC 8785 bytes of every event's data and of the metadata; InvalidEvent if not JSON-exact."""
    return [_json(e.data, f"{e.type} data") for e in events], _json(metadata, "metadata")


def _json(value: Any, what: str) -> bytes:
    try:
        return canonical_json(value)
    except CanonicalizationError as exc:
        raise InvalidEvent(f"{what}: {exc}") from exc


def chain(
    stream: StreamRef,
    head: Head,
    events: Sequence[NewEvent],
    encoded: tuple[list[bytes], bytes],
    recorded_at: datetime,
) -> list[EventRow]:
    """The rows to insert: each event's content hashed onto the previous event's hash."""
    rows: list[EventRow] = []
    prev = head.hash
    datas, meta_json = encoded
    meta_text = meta_json.decode()
    for offset, (event, data_json) in enumerate(zip(events, datas, strict=True), start=1):
        version = head.version + offset
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
            EventRow(
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


def recorded(
    rows: Sequence[EventRow],
    positions: Sequence[int],
    events: Sequence[NewEvent],
    metadata: dict[str, Any],
) -> list[RecordedEvent]:
    """The inserted rows as RecordedEvents, with the positions the database gave them (data
    and metadata as the caller gave them, not parsed back)."""
    return [
        RecordedEvent(
            position=position,
            stream_id=row.stream_id,
            stream_type=row.stream_type,
            version=row.version,
            type=row.type,
            schema_version=row.schema_version,
            data=event.data,
            metadata=metadata,
            occurred_at=row.occurred_at,
            recorded_at=row.recorded_at,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )
        for row, position, event in zip(rows, positions, events, strict=True)
    ]
