"""Projectors of the event store's own read table: one StreamSummary row per stream."""

from eventstore.models import StreamSummary
from eventstore.projection import ALL_EVENTS, Add, KeepExisting, ProjectionWriter, projector
from eventstore.projection import projection_tables as _tables
from eventstore.types import RecordedEvent

_tables(StreamSummary)


@projector(ALL_EVENTS)
def project_stream_summary(event: RecordedEvent, out: ProjectionWriter) -> None:
    out.upsert(
        StreamSummary,
        ("stream_id",),
        stream_id=event.stream_id,
        stream_type=event.stream_type,
        version=event.version,
        event_count=Add(1),
        first_position=KeepExisting(event.position),
        last_position=event.position,
        last_event_type=event.type,
        created_at=KeepExisting(event.recorded_at),
        updated_at=event.recorded_at,
        last_actor=event.metadata.get("actor", ""),
    )
