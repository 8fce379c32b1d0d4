"""Boards loader: the fold a command takes of a review board (current state, read from the
log). Nothing here writes."""

from __future__ import annotations

import uuid

from boards.errors import BoardNotFound
from boards.state import BoardState, evolve_board
from eventstore import store


def load_board(board_id: str | uuid.UUID) -> BoardState:
    state, _ = store.load(uuid.UUID(str(board_id)), evolve_board, BoardState())
    if not state.exists:
        raise BoardNotFound(f"no board with id {board_id}")
    return state
