"""Approvals' reactions to governance events: evidence that changes voids the decisions given
on the old evidence, and a version marked non-compliant loses its production approval. They
run in the transaction of the governance command that recorded the cause."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from approvals import events as ev
from approvals import rules
from approvals.models import ApprovalRequest
from approvals.notices import notify
from approvals.streams import load_request
from boards.queries import board_members
from eventstore.subscribers import subscriber
from eventstore.types import Reaction, RecordedEvent, StreamRef

EVIDENCE_CHANGED = ("governance.EvidenceAttached", "governance.EvidenceWaived")
NON_COMPLIANT = "governance.VersionMarkedNonCompliant"


@subscriber(*EVIDENCE_CHANGED)
def void_approvals_on_evidence_change(event: RecordedEvent) -> Iterator[Reaction]:
    """The version's evidence is now at the event's version, so decisions given on older
    evidence no longer count. The latest request per target (the one the gate reads) records
    ApprovalVoided and is open again, and its boards are told, as for a new request."""
    evidence_version = event.version
    seen: set[str] = set()
    rows = ApprovalRequest.objects.filter(version_id=event.data["version_id"])
    for row in rows.order_by("-created_at").values("id", "target"):
        if row["target"] in seen:
            continue
        seen.add(row["target"])
        state = load_request(row["id"])
        stale = rules.decisions_to_void(state, evidence_version)
        if not stale:
            continue
        yield Reaction(
            StreamRef(uuid.UUID(state.id), ev.REQUEST),
            state.stream_version,
            (
                ev.ApprovalVoided(
                    evidence_version=evidence_version,
                    previous_status=state.status,
                    voided_decisions=len(stale),
                    reason="the evidence changed after decisions were given",
                ),
            ),
            tuple(notify("voided", state.id, board_members(state.boards))),
        )


@subscriber(NON_COMPLIANT)
def suspend_approval_when_non_compliant(event: RecordedEvent) -> Iterator[Reaction]:
    """A periodic review overdue beyond its grace names the version's approval in force where
    the tier's policy says to suspend it; the approval is suspended in the same transaction."""
    request_id = event.data["suspended_request_id"]
    if not request_id:
        return
    state = load_request(request_id)
    # Only the named version's own approval: an event naming another version's request
    # suspends nothing.
    if state.suspended or state.version_id != event.data["version_id"]:
        return
    yield Reaction(
        StreamRef(uuid.UUID(state.id), ev.REQUEST),
        state.stream_version,
        (ev.ApprovalSuspended(reason=event.data["reason"]),),
        tuple(notify("suspended", state.id, [state.requester_id])),
    )
