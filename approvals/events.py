"""Approval events: approval requests and their decisions (the boards' events are in
boards/events.py).

Stream: each approval request ("approvals.Request"). People are user ids; names and addresses
stay out of the log."""

from __future__ import annotations

from dataclasses import field
from typing import Any

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
    # The reviewed facts the decisions are given on (requests made before they were recorded
    # carry none): the verified artifact's sha256, each evidence document's sha256 by kind
    # (the model card included), and the intake answers the tier was confirmed on.
    artifact_sha256: str = ""
    evidence: dict[str, str] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)


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
    # The request's new snapshot of the evidence (sha256 by kind) the decisions are given on
    # from now, and the kinds whose document changed.
    evidence: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)


@event("approvals.ApprovalRequestVoided")
class ApprovalRequestVoided(DomainEvent):
    """The request no longer stands (the model's confirmed tier is no longer the one it was
    made under, or the model moved to another owning team): it is closed (status voided), with
    the reason, and a new request is made. `tier` is the model's tier when it was voided."""

    tier: str
    previous_status: str
    reason: str
