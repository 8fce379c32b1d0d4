"""The Board read table against the fold. Board is not a snapshot table (its members and chair
follow from the previous row, so its projectors update them in SQL); this holds every row to the
folded state of its stream after a realistic run through the board commands, and every boards
event class to a projector."""

from __future__ import annotations

import inspect
import uuid

import pytest

from boards import commands as board_commands
from boards import events as ev
from boards.models import Board
from boards.state import BoardState, evolve_board
from core.actors import Actor
from eventstore import store
from eventstore.catalog import DomainEvent
from eventstore.projection import projectors_for
from eventstore.snapshots import registered_snapshots
from tests.conftest import make_user, seed_ledger

pytestmark = pytest.mark.django_db

# Event classes of boards/events.py that deliberately project nothing (none so far).
NOT_PROJECTED: frozenset[type[DomainEvent]] = frozenset()


def declared_events() -> set[type[DomainEvent]]:
    return {
        cls
        for _, cls in inspect.getmembers(ev, inspect.isclass)
        if issubclass(cls, DomainEvent) and cls.__module__ == ev.__name__
    }


def row_of(state: BoardState) -> dict:
    return {
        "id": state.id,
        "name": state.name,
        "title": state.title,
        "members": sorted(state.members),
        "chair_id": state.chair_id,
        "stream_version": state.stream_version,
        "created_at": state.created_at,
        "updated_at": state.updated_at,
    }


def test_every_board_row_is_the_fold_of_its_stream():
    seed_ledger()
    admin = Actor.user(make_user("ada-admin", superuser=True), auth_method="session")
    people = [make_user(f"member-{n}").pk for n in range(4)]
    board = board_commands.create_board(actor=admin, name="snap-board", title="Snapshots")
    for pk in people:
        board_commands.add_board_member(actor=admin, board="snap-board", user_id=pk)
    board_commands.appoint_chair(actor=admin, board="snap-board", user_id=people[0])
    board_commands.remove_board_member(actor=admin, board="snap-board", user_id=people[0])
    board_commands.appoint_chair(actor=admin, board="snap-board", user_id=people[2])
    board_commands.add_board_member(actor=admin, board="snap-board", user_id=people[0])
    board_commands.remove_board_member(actor=admin, board="snap-board", user_id=people[1])
    board_commands.add_board_member(actor=admin, board="legal", user_id=people[3])

    seen = {e.type for e in store.read_stream(uuid.UUID(board.id))}
    assert seen == {cls.event_type for cls in declared_events()}
    rows = list(Board.objects.values(*row_of(BoardState())))
    assert {str(r["id"]) for r in rows} >= {board.id}
    assert {r["name"] for r in rows} >= {"snap-board", "model-risk", "legal", "ethics"}
    for row in rows:
        state = evolve_board.run(store.read_stream(row["id"]))
        assert {**row, "id": str(row["id"])} == row_of(state), row["name"]
    snap = Board.objects.get(name="snap-board")
    assert (snap.members, snap.chair_id) == (sorted([people[0], people[2], people[3]]), people[2])


def test_board_is_no_snapshot_table():
    """Its handlers derive members and the chair from the previous state, which the generic
    snapshot projector does not pass them."""
    assert Board not in {s.model for s in registered_snapshots()}


def test_every_boards_event_class_is_folded_or_projected():
    """A new event class must be written by a projector (the snapshot's or its own) or be
    listed in NOT_PROJECTED: it cannot silently project nothing."""
    declared = declared_events()
    assert declared
    everywhere = set(projectors_for("tests.NoSuchEvent"))  # the projectors of every event
    for cls in declared - NOT_PROJECTED:
        own = set(projectors_for(cls.event_type)) - everywhere
        assert own, f"{cls.event_type} writes no read table"
