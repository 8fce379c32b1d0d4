"""Registry's reactions to other apps' events: a model version's status follows the outcome
of its approval requests. Subscribed by stored type names: the registry imports nothing of
the approvals app, which sits above it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from eventstore import store
from eventstore.subscribers import subscriber
from eventstore.types import Reaction, RecordedEvent, StreamRef
from registry import events as ev
from registry.state import VersionState, transition_allowed
from registry.streams import load_version

REQUESTED = "approvals.ApprovalRequested"
GRANTED = "approvals.ApprovalGranted"
REJECTED = "approvals.ApprovalRejected"
WITHDRAWN = "approvals.ApprovalWithdrawn"
VOIDED = "approvals.ApprovalVoided"


def status_moves(version: VersionState, targets: Iterable[str], reason: str) -> list[Any]:
    """The lifecycle moves that take the version through `targets`, where the workflow may
    make them (by_review), skipping a target it is already at."""
    moves, current = [], version.status
    for target in targets:
        if current != target and transition_allowed(current, target, by_review=True):
            moves.append(
                ev.ModelVersionStatusChanged(from_status=current, to_status=target, reason=reason)
            )
            current = target
    return moves


def _outcome(event: RecordedEvent, request: dict[str, Any], version: VersionState):
    """(targets, reason) of the status that follows an approval event, or None."""
    target = request["target"]
    if event.type == REQUESTED:
        route = ("draft", "in_review") if version.status == "rejected" else ("in_review",)
        return route, f"approval requested for {target}"
    if event.type == GRANTED:
        return ("approved",), f"approved for {target}"
    if event.type == REJECTED:
        return ("rejected",), f"rejected by the {event.data['board']} board"
    if event.type == WITHDRAWN and version.status == "in_review":
        return ("draft",), "approval request withdrawn"
    if (
        event.type == VOIDED
        and event.data["previous_status"] == "approved"
        and version.status == "approved"
    ):
        return ("in_review",), "approval voided: the evidence changed after it"
    return None


@subscriber(REQUESTED, GRANTED, REJECTED, WITHDRAWN, VOIDED)
def version_status_follows_approval(event: RecordedEvent) -> Iterator[Reaction]:
    """Requested: in review (a rejected version goes back through draft); granted: approved;
    rejected: rejected; withdrawn while in review: draft; an approval voided on an approved
    version: back in review. A deployed version never moves back (the finding says why)."""
    opening = event if event.type == REQUESTED else store.opening_event(event.stream_id)
    if opening is None:
        return
    request = opening.data
    version = load_version(request["version_id"])
    outcome = _outcome(event, request, version)
    if outcome is None:
        return
    moves = status_moves(version, *outcome)
    if moves:
        yield Reaction(
            StreamRef(uuid.UUID(version.id), ev.MODEL_VERSION),
            version.stream_version,
            tuple(moves),
        )
