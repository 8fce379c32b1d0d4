"""Projectors: board events -> the Board read table. One function per event type, nothing
else.

Board is not a snapshot table (eventstore.snapshots): its members and chair_id columns follow
from the previous row (a member joins or leaves the set; removing the chair clears the chair),
which the generic snapshot projector cannot derive, so these projectors update them in SQL.
tests/boards/test_projectors.py checks every row against the fold of its stream."""

from __future__ import annotations

from boards import events as ev
from boards.models import Board
from eventstore.projection import ProjectionWriter, projection_tables, projector
from eventstore.projection import touch as _touch
from eventstore.types import RecordedEvent

projection_tables(Board)


@projector(ev.BoardCreated)
def project_board_created(
    e: ev.BoardCreated, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    out.insert(
        Board,
        id=recorded.stream_id,
        name=e.name,
        title=e.title,
        members=[],
        chair_id=None,
        stream_version=recorded.version,
        created_at=recorded.recorded_at,
        updated_at=recorded.recorded_at,
    )


@projector(ev.BoardMemberAdded)
def project_board_member_added(
    e: ev.BoardMemberAdded, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    out.execute(
        "UPDATE approvals_board SET members = (SELECT coalesce(jsonb_agg(DISTINCT m ORDER BY m),"
        " '[]'::jsonb) FROM jsonb_array_elements(members || to_jsonb(%s::int)) AS m),"
        " stream_version = %s, updated_at = %s WHERE id = %s",
        (e.user_id, recorded.version, recorded.recorded_at, recorded.stream_id),
    )


@projector(ev.BoardMemberRemoved)
def project_board_member_removed(
    e: ev.BoardMemberRemoved, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    out.execute(
        "UPDATE approvals_board SET members = (SELECT coalesce(jsonb_agg(m ORDER BY m),"
        " '[]'::jsonb) FROM jsonb_array_elements(members) AS m WHERE m <> to_jsonb(%s::int)),"
        " chair_id = CASE WHEN chair_id = %s THEN NULL ELSE chair_id END,"
        " stream_version = %s, updated_at = %s WHERE id = %s",
        (e.user_id, e.user_id, recorded.version, recorded.recorded_at, recorded.stream_id),
    )


@projector(ev.BoardChairAppointed)
def project_board_chair_appointed(
    e: ev.BoardChairAppointed, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    _touch(out, Board, recorded, chair_id=e.user_id)
