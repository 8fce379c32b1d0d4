"""Registry's reactions to other apps' events: a model version's status follows the outcome
of its approval requests, and every stream opened elsewhere about a model or a version is
named on that model's or version's own stream (StreamLinked), so the subject's events say
which streams its audit bundle must hold. Subscribed by stored type names: the registry
imports nothing of the apps above it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection

from eventstore import store
from eventstore.subscribers import subscriber
from eventstore.types import Reaction, RecordedEvent, StreamRef
from registry import events as ev
from registry.errors import ModelNotFound, ModelVersionNotFound
from registry.state import VersionState, transition_allowed
from registry.streams import load_model, load_version

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


# The events that open a stream concerning a model or a version, by stored type, with the kind
# of stream they open. A stream is linked at its first event only (version 1): the risk record
# and a version's evidence are opened by whichever of their events comes first. Lineage edges
# and runs are not linked: lineage keeps them in its own tables, and an edge may be drawn to a
# version by a team that does not own it (through a run, or from its own model), which must not
# write on that version's stream.
LINKED = "registry.StreamLinked"
STREAM_KINDS = {
    REQUESTED: "approval_request",
    "governance.PeriodicReviewOpened": "periodic_review",
    "governance.BiasAuditCompleted": "bias_audit",
    "governance.FindingOpened": "finding",
    "governance.IncidentReported": "incident",
    "governance.EvidenceAttached": "evidence",
    "governance.EvidenceWaived": "evidence",
    "governance.IntakeRecorded": "risk",
    "governance.RiskTierAssigned": "risk",
    "governance.ModelSuspended": "risk",
    "governance.ModelReinstated": "risk",
}


def _subject(event: RecordedEvent) -> tuple[str, str]:
    """(stream type, id) of the registry stream the opened stream concerns: its version, or
    its model where it names no version."""
    data = event.data
    if data.get("version_id"):
        return ev.MODEL_VERSION, data["version_id"]
    return ev.MODEL, data["model_id"]


def _head(stream_type: str, stream_id: str) -> int | None:
    """The subject's stream version, or None where the registry has no such model or version."""
    try:
        if stream_type == ev.MODEL:
            return load_model(stream_id).stream_version
        return load_version(stream_id).stream_version
    except (ModelNotFound, ModelVersionNotFound):
        return None


@subscriber(*STREAM_KINDS)
def link_opened_stream(event: RecordedEvent) -> Iterator[Reaction]:
    """Name a newly opened stream on the model or version it concerns. The store's reaction
    key (cause, subscriber, target stream) makes a repeat of the same cause append nothing."""
    if event.version != 1:
        return
    link = ev.StreamLinked(
        stream_id=str(event.stream_id),
        stream_type=event.stream_type,
        kind=STREAM_KINDS[event.type],
    )
    stream_type, subject_id = _subject(event)
    head = _head(stream_type, subject_id)
    if head is not None:
        yield Reaction(StreamRef(uuid.UUID(subject_id), stream_type), head, (link,))


def link_unlinked_streams() -> int:
    """Link every stream opened before links were recorded (what `link_opened_stream` would
    have appended then); a stream already linked appends nothing. Returns how many were
    linked now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.stream_id FROM eventstore_event e"
            " WHERE e.version = 1 AND e.type = ANY(%s) AND NOT EXISTS ("
            "   SELECT 1 FROM eventstore_event l WHERE l.type = %s"
            "   AND l.data->>'stream_id' = e.stream_id::text)"
            " ORDER BY e.position",
            (list(STREAM_KINDS), LINKED),
        )
        opened = [row[0] for row in cursor.fetchall()]
    events = (store.opening_event(stream) for stream in opened)
    results = store.catch_up(link_opened_stream, (e for e in events if e is not None))
    return sum(1 for result in results if not result.replayed)
