"""Projectors: approval request events -> read tables. One function per event type, nothing
else."""

from __future__ import annotations

import uuid

from approvals.models import ApprovalRequest, ReviewDecision
from eventstore.projection import ProjectionWriter, projection_tables, projector
from eventstore.projection import touch as _touch
from eventstore.types import RecordedEvent

projection_tables(ApprovalRequest, ReviewDecision)


@projector("approvals.ApprovalRequested")
def project_approval_requested(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    out.insert(
        ApprovalRequest,
        id=event.stream_id,
        model_id=data["model_id"],
        version_id=data["version_id"],
        version_number=data["version_number"],
        target=data["target"],
        requester_id=data["requester_id"],
        tier=data["tier"],
        policy_version=data["policy_version"],
        required_evidence=data["required_evidence"],
        boards=data["boards"],
        validity_days=data["validity_days"],
        notes=data["notes"],
        status="open",
        granted_at=None,
        expires_at=None,
        conditions=[],
        suspended=False,
        suspension_reason="",
        stream_version=event.version,
        created_at=event.recorded_at,
        updated_at=event.recorded_at,
    )


@projector("approvals.ReviewDecisionRecorded")
def project_review_decision_recorded(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    _touch(out, ApprovalRequest, event)
    out.insert(
        ReviewDecision,
        id=uuid.uuid5(event.stream_id, str(event.version)),
        request_id=event.stream_id,
        seq=event.version,
        board=data["board"],
        reviewer_id=data["reviewer_id"],
        decision=data["decision"],
        rationale=data["rationale"],
        conditions=data["conditions"],
        evidence_version=data["evidence_version"],
        recorded_at=event.recorded_at,
    )


@projector("approvals.ApprovalGranted")
def project_approval_granted(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(
        out,
        ApprovalRequest,
        event,
        status="approved",
        granted_at=event.recorded_at,
        expires_at=event.data["expires_at"],
        conditions=event.data["conditions"],
    )


@projector("approvals.ApprovalRejected")
def project_approval_rejected(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, ApprovalRequest, event, status="rejected")


@projector("approvals.ChangesRequested")
def project_changes_requested(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, ApprovalRequest, event, status="changes_requested")


@projector("approvals.ApprovalWithdrawn")
def project_approval_withdrawn(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, ApprovalRequest, event, status="withdrawn")


@projector("approvals.ApprovalSuspended")
def project_approval_suspended(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, ApprovalRequest, event, suspended=True, suspension_reason=event.data["reason"])


@projector("approvals.ApprovalReinstated")
def project_approval_reinstated(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, ApprovalRequest, event, suspended=False, suspension_reason="")


@projector("approvals.ApprovalVoided")
def project_approval_voided(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(
        out,
        ApprovalRequest,
        event,
        status="open",
        granted_at=None,
        expires_at=None,
        conditions=[],
    )
