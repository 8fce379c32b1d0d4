"""Projectors of the event store's own read table: the index of streams."""

from eventstore.models import StreamIndex
from eventstore.projection import ALL_EVENTS, ProjectionWriter, projection_tables, projector
from eventstore.types import RecordedEvent

projection_tables(StreamIndex)


@projector(ALL_EVENTS)
def project_stream_started(event: RecordedEvent, out: ProjectionWriter) -> None:
    # Only a stream's first event writes: later appends cost the index nothing.
    if event.version != 1:
        return
    out.insert(
        StreamIndex,
        stream_id=event.stream_id,
        stream_type=event.stream_type,
        first_event_type=event.type,
        first_position=event.position,
        created_at=event.recorded_at,
        created_by=event.metadata.get("actor", ""),
    )
