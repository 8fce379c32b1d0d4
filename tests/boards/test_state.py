"""The fold of a review board (boards.state.evolve_board), pure: recorded events in, state out,
no database."""

from __future__ import annotations

import inspect
import uuid
from datetime import UTC, datetime, timedelta

from boards import events as ev
from boards.state import BoardState, evolve_board
from eventstore.catalog import DomainEvent
from eventstore.types import RecordedEvent
from tests.helpers.events import recorded as helper_recorded

STREAM = uuid.uuid4()
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(version: int) -> datetime:
    return T0 + timedelta(minutes=version)


def recorded(version: int, e: DomainEvent, actor: str = "user:1") -> RecordedEvent:
    return helper_recorded(STREAM, version, e, actor, stream_type=ev.BOARD, t0=T0)


def test_a_board_opens_with_its_name_and_the_stamps_of_its_first_event():
    state = evolve_board.run([recorded(1, ev.BoardCreated(name="ethics", title="Ethics"))])
    assert state == BoardState(
        id=str(STREAM),
        created_at=at(1),
        created_by="user:1",
        updated_at=at(1),
        stream_version=1,
        name="ethics",
        title="Ethics",
    )
    assert state.exists
    assert not BoardState().exists


def test_members_join_and_leave_and_removing_the_chair_clears_the_chair():
    events = [
        recorded(1, ev.BoardCreated(name="legal", title=""), actor="approvals.seed"),
        recorded(2, ev.BoardMemberAdded(user_id=5), actor="user:9"),
        recorded(3, ev.BoardMemberAdded(user_id=3)),
        recorded(4, ev.BoardChairAppointed(user_id=5, previous_user_id=None)),
    ]
    state = evolve_board.run(events)
    assert state.members == frozenset({3, 5})
    assert state.chair_id == 5
    other_left = evolve_board(state, recorded(5, ev.BoardMemberRemoved(user_id=3)))
    assert (other_left.members, other_left.chair_id) == (frozenset({5}), 5)
    chair_left = evolve_board(state, recorded(5, ev.BoardMemberRemoved(user_id=5)))
    assert (chair_left.members, chair_left.chair_id) == (frozenset({3}), None)
    rechaired = evolve_board(
        chair_left, recorded(6, ev.BoardChairAppointed(user_id=3, previous_user_id=None))
    )
    assert rechaired.chair_id == 3
    assert (rechaired.created_at, rechaired.created_by) == (at(1), "approvals.seed")
    assert (rechaired.updated_at, rechaired.stream_version) == (at(6), 6)


def test_adding_a_member_twice_keeps_one():
    state = evolve_board.run(
        [
            recorded(1, ev.BoardCreated(name="security", title="")),
            recorded(2, ev.BoardMemberAdded(user_id=4)),
            recorded(3, ev.BoardMemberAdded(user_id=4)),
        ]
    )
    assert state.members == frozenset({4})
    assert state.stream_version == 3


def test_the_fold_handles_every_event_class_of_boards():
    declared = {
        cls
        for _, cls in inspect.getmembers(ev, inspect.isclass)
        if issubclass(cls, DomainEvent) and cls.__module__ == ev.__name__
    }
    assert declared
    assert set(evolve_board.handles()) == declared
    assert [cls for cls in declared if evolve_board.opens(cls.event_type)] == [ev.BoardCreated]
