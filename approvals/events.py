"""Approval events: approval requests and their decisions (the boards' events are in
boards/events.py).

Stream: each approval request ("approvals.Request"). People are user ids; names and addresses
stay out of the log."""

from __future__ import annotations

from eventstore.catalog import DomainEvent, event

REQUEST = "approvals.Request"


@event("approvals.ApprovalRequested")
class ApprovalRequested(DomainEvent):
    model_id: str
    version_id: str
    version_number: int
    target: str
    requester_id: int
    tier: str
    policy_version: int
    required_evidence: list[str]
    boards: dict[str, int]
    validity_days: int
    notes: str


@event("approvals.ReviewDecisionRecorded")
class ReviewDecisionRecorded(DomainEvent):
    board: str
    reviewer_id: int
    decision: str
    rationale: str
    conditions: list[str]
    evidence_version: int


@event("approvals.ApprovalGranted")
class ApprovalGranted(DomainEvent):
    expires_at: str
    conditions: list[str]
    evidence_version: int


@event("approvals.ApprovalRejected")
class ApprovalRejected(DomainEvent):
    board: str
    reviewer_id: int


@event("approvals.ChangesRequested")
class ChangesRequested(DomainEvent):
    board: str
    reviewer_id: int


@event("approvals.ApprovalWithdrawn")
class ApprovalWithdrawn(DomainEvent):
    reason: str


@event("approvals.ApprovalSuspended")
class ApprovalSuspended(DomainEvent):
    reason: str


@event("approvals.ApprovalReinstated")
class ApprovalReinstated(DomainEvent):
    reason: str


@event("approvals.ApprovalVoided")
class ApprovalVoided(DomainEvent):
    """The version's evidence changed after decisions were given: decisions on evidence older
    than `evidence_version` no longer count, an approval granted on it lapses, and the request
    is open for decisions again."""

    evidence_version: int
    previous_status: str
    voided_decisions: int
    reason: str
