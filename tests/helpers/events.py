"""Recorded events built in memory, for pure tests of folds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from eventstore.catalog import DomainEvent
from eventstore.types import RecordedEvent

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def recorded(
    stream_id: uuid.UUID,
    version: int,
    event: DomainEvent,
    actor: str = "user:1",
    *,
    stream_type: str = "tests.Stream",
    t0: datetime = T0,
) -> RecordedEvent:
    """`event` as the log would hold it at `version` of `stream_id`, recorded `version`
    minutes after `t0`."""
    at = t0 + timedelta(minutes=version)
    return RecordedEvent(
        position=version,
        stream_id=stream_id,
        stream_type=stream_type,
        version=version,
        type=event.event_type,
        schema_version=event.schema_version,
        data=event.to_data(),
        metadata={"actor": actor},
        occurred_at=at,
        recorded_at=at,
        prev_hash=b"",
        hash=b"",
    )


def stream(*events: DomainEvent, actor: str = "user:1") -> list[RecordedEvent]:
    """`events` as versions 1, 2, ... of one new stream."""
    stream_id = uuid.uuid4()
    return [recorded(stream_id, n, e, actor) for n, e in enumerate(events, start=1)]
