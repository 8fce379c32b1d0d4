"""Approvals loaders: the folds a command takes of a review board or an approval request
(current state, read from the log). Nothing here writes."""

from __future__ import annotations

import uuid

from approvals.errors import BoardNotFound, RequestNotFound
from approvals.state import BoardState, RequestState, evolve_board, evolve_request
from eventstore import store


def load_board(board_id: str | uuid.UUID) -> BoardState:
    state, _ = store.load(uuid.UUID(str(board_id)), evolve_board, BoardState())
    if not state.exists:
        raise BoardNotFound(f"no board with id {board_id}")
    return state


def load_request(request_id: str | uuid.UUID) -> RequestState:
    return store.load_existing(
        request_id,
        evolve_request,
        RequestState(),
        RequestNotFound(f"no approval request {request_id}"),
    )
