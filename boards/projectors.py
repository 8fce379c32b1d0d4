"""Projectors: board events -> the Board read table. One function per event type, nothing
else."""

from __future__ import annotations

from boards.models import Board
from eventstore.projection import ProjectionWriter, projection_tables, projector
from eventstore.projection import touch as _touch
from eventstore.types import RecordedEvent

projection_tables(Board)


@projector("approvals.BoardCreated")
def project_board_created(event: RecordedEvent, out: ProjectionWriter) -> None:
    out.insert(
        Board,
        id=event.stream_id,
        name=event.data["name"],
        title=event.data["title"],
        members=[],
        chair_id=None,
        stream_version=event.version,
        created_at=event.recorded_at,
        updated_at=event.recorded_at,
    )


@projector("approvals.BoardMemberAdded")
def project_board_member_added(event: RecordedEvent, out: ProjectionWriter) -> None:
    out.execute(
        "UPDATE approvals_board SET members = (SELECT coalesce(jsonb_agg(DISTINCT m ORDER BY m),"
        " '[]'::jsonb) FROM jsonb_array_elements(members || to_jsonb(%s::int)) AS m),"
        " stream_version = %s, updated_at = %s WHERE id = %s",
        (event.data["user_id"], event.version, event.recorded_at, event.stream_id),
    )


@projector("approvals.BoardMemberRemoved")
def project_board_member_removed(event: RecordedEvent, out: ProjectionWriter) -> None:
    out.execute(
        "UPDATE approvals_board SET members = (SELECT coalesce(jsonb_agg(m ORDER BY m),"
        " '[]'::jsonb) FROM jsonb_array_elements(members) AS m WHERE m <> to_jsonb(%s::int)),"
        " chair_id = CASE WHEN chair_id = %s THEN NULL ELSE chair_id END,"
        " stream_version = %s, updated_at = %s WHERE id = %s",
        (
            event.data["user_id"],
            event.data["user_id"],
            event.version,
            event.recorded_at,
            event.stream_id,
        ),
    )


@projector("approvals.BoardChairAppointed")
def project_board_chair_appointed(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, Board, event, chair_id=event.data["user_id"])
