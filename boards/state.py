"""Write model of a review board: a pure fold of its events. Nothing here imports Django."""

from __future__ import annotations

from dataclasses import dataclass

from boards import events as ev
from eventstore.folds import AggregateState, Changes, Fold, copied
from eventstore.types import RecordedEvent


@dataclass(frozen=True)
class BoardState(AggregateState):
    name: str = ""
    title: str = ""
    members: frozenset[int] = frozenset()
    chair_id: int | None = None

    @property
    def exists(self) -> bool:
        return bool(self.name)


evolve_board = Fold(BoardState)


@evolve_board.on(ev.BoardCreated, opens=True)
def _created(state: BoardState, e: ev.BoardCreated, rec: RecordedEvent) -> Changes:
    return copied(e, BoardState)


@evolve_board.on(ev.BoardMemberAdded)
def _member_added(state: BoardState, e: ev.BoardMemberAdded, rec: RecordedEvent) -> Changes:
    return {"members": state.members | {e.user_id}}


@evolve_board.on(ev.BoardMemberRemoved)
def _member_removed(state: BoardState, e: ev.BoardMemberRemoved, rec: RecordedEvent) -> Changes:
    chair = None if state.chair_id == e.user_id else state.chair_id
    return {"members": state.members - {e.user_id}, "chair_id": chair}


@evolve_board.on(ev.BoardChairAppointed)
def _chair_appointed(state: BoardState, e: ev.BoardChairAppointed, rec: RecordedEvent) -> Changes:
    return {"chair_id": e.user_id}
