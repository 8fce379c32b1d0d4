"""The hash chain: what each event's SHA-256 covers, in one canonical byte form.

hash = SHA-256(prev_hash || JCS(content)), where JCS is RFC 8785 (eventstore.canonical) and
content is the JSON object with exactly these members:
  stream_id (lowercase UUID text), stream_type, version, type, schema_version,
  data, metadata, occurred_at and recorded_at (RFC 3339, UTC, microseconds, "Z").
The first event of a stream links to GENESIS (32 zero bytes). The position is not hashed: the
Merkle tree of checkpoints fixes the order of the log as a whole.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from eventstore.canonical import canonical_json

GENESIS = bytes(32)


def timestamp_text(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds: the only timestamp form that enters a hash."""
    if moment.tzinfo is None:
        raise ValueError("timestamps in events must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_content(
    *,
    stream_id: uuid.UUID,
    stream_type: str,
    version: int,
    type: str,
    schema_version: int,
    data: Any,
    metadata: Any,
    occurred_at: datetime,
    recorded_at: datetime,
) -> dict[str, Any]:
    return {
        "stream_id": str(stream_id),
        "stream_type": stream_type,
        "version": version,
        "type": type,
        "schema_version": schema_version,
        "data": data,
        "metadata": metadata,
        "occurred_at": timestamp_text(occurred_at),
        "recorded_at": timestamp_text(recorded_at),
    }


def content_bytes(
    *,
    stream_id: uuid.UUID,
    stream_type: str,
    version: int,
    type: str,
    schema_version: int,
    data_json: bytes,
    metadata_json: bytes,
    occurred_at: datetime,
    recorded_at: datetime,
) -> bytes:
    """JCS(content) assembled from already canonical data and metadata: the members of
    content in RFC 8785 key order. Equal to canonical_json(event_content(...)) (tested).

    Timestamps and the UUID are ASCII with nothing to escape; versions are small integers;
    the two type names go through canonical_json like any string."""
    return b"".join(
        (
            b'{"data":',
            data_json,
            b',"metadata":',
            metadata_json,
            b',"occurred_at":"',
            timestamp_text(occurred_at).encode(),
            b'","recorded_at":"',
            timestamp_text(recorded_at).encode(),
            b'","schema_version":',
            b"%d" % schema_version,
            b',"stream_id":"',
            str(stream_id).encode(),
            b'","stream_type":',
            _name_json(stream_type),
            b',"type":',
            _name_json(type),
            b',"version":',
            b"%d" % version,
            b"}",
        )
    )


@lru_cache(maxsize=4096)
def _name_json(name: str) -> bytes:
    return canonical_json(name)


def chain_hash(prev_hash: bytes, content: dict[str, Any], *, strict: bool = True) -> bytes:
    """The event hash. strict=False when re-hashing stored events (see canonical_json)."""
    return hashlib.sha256(prev_hash + canonical_json(content, strict=strict)).digest()


def recorded_hash(event: Any) -> bytes:
    """Recompute the hash of a stored event from its content (for verification)."""
    content = event_content(
        stream_id=event.stream_id,
        stream_type=event.stream_type,
        version=event.version,
        type=event.type,
        schema_version=event.schema_version,
        data=event.data,
        metadata=event.metadata,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
    )
    return chain_hash(bytes(event.prev_hash), content, strict=False)
