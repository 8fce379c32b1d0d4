"""Approvals loader: the fold a command takes of an approval request (current state, read from
the log). Nothing here writes."""

from __future__ import annotations

import uuid

from approvals.errors import RequestNotFound
from approvals.state import RequestState, evolve_request
from eventstore import store


def load_request(request_id: str | uuid.UUID) -> RequestState:
    return store.load_existing(
        request_id,
        evolve_request,
        RequestState(),
        RequestNotFound(f"no approval request {request_id}"),
    )
