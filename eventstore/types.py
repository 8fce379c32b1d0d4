"""Value types of the event store: what goes in, what comes out, and what can go wrong."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.errors import Conflict, DomainError, InvalidInput

NO_STREAM = 0
"""expected_version for a stream that must not exist yet."""

ANY_VERSION = None
"""expected_version that appends whatever the stream's current version is."""


@dataclass(frozen=True)
class StreamRef:
    """Which stream: its id and the aggregate type it belongs to."""

    id: uuid.UUID
    type: str


@dataclass(frozen=True)
class NewEvent:
    """An event about to be appended."""

    type: str
    data: dict[str, Any]
    schema_version: int = 1
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored in the log."""

    position: int
    stream_id: uuid.UUID
    stream_type: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    prev_hash: bytes
    hash: bytes


@dataclass(frozen=True)
class AppendResult:
    """What an append produced; `replayed` when an idempotency key matched an earlier append."""

    stream_id: uuid.UUID
    first_version: int
    last_version: int
    positions: tuple[int, ...]
    replayed: bool = False
    # The events as recorded (empty for a replay), so a command can fold its new state without
    # reading back what it has just written.
    events: tuple[RecordedEvent, ...] = ()

    @property
    def version(self) -> int:
        return self.last_version


@dataclass(frozen=True)
class SideEffect:
    """A Celery task to run once the events are committed (recorded in the outbox)."""

    task: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reaction:
    """An append a subscriber asks for in reaction to an event: the store records it in the
    same transaction, with the triggering event's actor and a key derived from the trigger."""

    stream: StreamRef
    expected_version: int | None
    events: tuple[Any, ...]
    side_effects: tuple[SideEffect, ...] = ()


class ConcurrencyConflict(Conflict):
    code = "concurrency_conflict"
    title = "The object was changed by someone else"

    def __init__(self, stream_id: uuid.UUID, expected: int | None, actual: int | None) -> None:
        super().__init__(
            f"stream {stream_id} is at version {actual}, not {expected}",
            expected_version=expected,
            current_version=actual,
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class StaleHead(ConcurrencyConflict):
    """The database refused an append: the head it chained onto is not the stream's stored
    head (the log lost commits this process had seen, such as after a failover to a replica
    that was behind). The process forgot what it knew of the stream; a reload and a retry
    append onto the stored head."""

    def __init__(self, stream_id: uuid.UUID, expected: int | None) -> None:
        super().__init__(stream_id, expected, None)
        self.detail = (
            f"stream {stream_id}: the log does not hold the version {expected} this change was"
            " based on; reload and retry"
        )
        self.args = (self.detail,)


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422
    title = "The Idempotency-Key was already used for a different request"


class InvalidEvent(InvalidInput):
    code = "invalid_event"
    title = "The event cannot be recorded"
