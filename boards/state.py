"""Write model of a review board: a pure fold of its events. Nothing here imports Django."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from eventstore.types import RecordedEvent


@dataclass(frozen=True)
class BoardState:
    id: str = ""
    name: str = ""
    title: str = ""
    members: frozenset[int] = frozenset()
    chair_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    stream_version: int = 0

    @property
    def exists(self) -> bool:
        return bool(self.name)


def evolve_board(state: BoardState, event: RecordedEvent) -> BoardState:
    data = event.data
    stamp = {"updated_at": event.recorded_at, "stream_version": event.version}
    match event.type:
        case "approvals.BoardCreated":
            return replace(
                state,
                id=str(event.stream_id),
                name=data["name"],
                title=data["title"],
                created_at=event.recorded_at,
                **stamp,
            )
        case "approvals.BoardMemberAdded":
            return replace(state, members=state.members | {data["user_id"]}, **stamp)
        case "approvals.BoardMemberRemoved":
            chair = None if state.chair_id == data["user_id"] else state.chair_id
            return replace(
                state, members=state.members - {data["user_id"]}, chair_id=chair, **stamp
            )
        case "approvals.BoardChairAppointed":
            return replace(state, chair_id=data["user_id"], **stamp)
    return replace(state, **stamp)
