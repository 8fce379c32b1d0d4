"""Projectors: approval request events -> read tables.

ApprovalRequest is the snapshot table of the request fold (a row is the folded state of one
request stream, written from approvals.state.evolve_request); ReviewDecision keeps a row per
decision and has its own projector."""

from __future__ import annotations

import uuid

from approvals import events as ev
from approvals.models import ApprovalRequest, ReviewDecision
from approvals.state import evolve_request
from eventstore.projection import ProjectionWriter, projection_tables, projector
from eventstore.snapshots import snapshot
from eventstore.types import RecordedEvent

REQUESTS = snapshot(ApprovalRequest, evolve_request)

projection_tables(ReviewDecision)


@projector(ev.ReviewDecisionRecorded)
def project_review_decision_recorded(
    e: ev.ReviewDecisionRecorded, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    out.insert(
        ReviewDecision,
        id=uuid.uuid5(recorded.stream_id, str(recorded.version)),
        request_id=recorded.stream_id,
        seq=recorded.version,
        board=e.board,
        reviewer_id=e.reviewer_id,
        decision=e.decision,
        rationale=e.rationale,
        conditions=e.conditions,
        evidence_version=e.evidence_version,
        recorded_at=recorded.recorded_at,
    )
