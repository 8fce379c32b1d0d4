"""Write model of approvals: the pure fold of an approval request. Nothing here imports
Django."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from eventstore.types import RecordedEvent

DECISIONS = ("approve", "reject", "request_changes")
TARGETS = ("production",)
ACTIVE = frozenset({"open", "changes_requested"})
CLOSED = frozenset({"rejected", "withdrawn"})


@dataclass(frozen=True)
class Decision:
    seq: int
    board: str
    reviewer_id: int
    decision: str
    rationale: str
    conditions: tuple[str, ...]
    evidence_version: int
    recorded_at: datetime


@dataclass(frozen=True)
class RequestState:
    id: str = ""
    model_id: str = ""
    version_id: str = ""
    version_number: int = 0
    target: str = ""
    requester_id: int = 0
    tier: str = ""
    policy_version: int = 0
    required_evidence: tuple[str, ...] = ()
    boards: dict[str, int] = field(default_factory=dict)
    validity_days: int = 0
    notes: str = ""
    status: str = "open"
    decisions: tuple[Decision, ...] = ()
    granted_at: datetime | None = None
    expires_at: datetime | None = None
    granted_evidence_version: int | None = None
    conditions: tuple[str, ...] = ()
    suspended: bool = False
    suspension_reason: str = ""
    # Decisions on evidence older than this were voided by a change of the evidence.
    voided_evidence_version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    stream_version: int = 0

    @property
    def exists(self) -> bool:
        return bool(self.version_id)


def evolve_request(state: RequestState, event: RecordedEvent) -> RequestState:
    data: dict[str, Any] = event.data
    stamp = {"updated_at": event.recorded_at, "stream_version": event.version}
    match event.type:
        case "approvals.ApprovalRequested":
            return replace(
                state,
                id=str(event.stream_id),
                model_id=data["model_id"],
                version_id=data["version_id"],
                version_number=data["version_number"],
                target=data["target"],
                requester_id=data["requester_id"],
                tier=data["tier"],
                policy_version=data["policy_version"],
                required_evidence=tuple(data["required_evidence"]),
                boards=dict(data["boards"]),
                validity_days=data["validity_days"],
                notes=data["notes"],
                created_at=event.recorded_at,
                **stamp,
            )
        case "approvals.ReviewDecisionRecorded":
            decision = Decision(
                seq=event.version,
                board=data["board"],
                reviewer_id=data["reviewer_id"],
                decision=data["decision"],
                rationale=data["rationale"],
                conditions=tuple(data["conditions"]),
                evidence_version=data["evidence_version"],
                recorded_at=event.recorded_at,
            )
            return replace(state, decisions=(*state.decisions, decision), **stamp)
        case "approvals.ApprovalGranted":
            return replace(
                state,
                status="approved",
                granted_at=event.recorded_at,
                expires_at=datetime.fromisoformat(data["expires_at"]),
                granted_evidence_version=data["evidence_version"],
                conditions=tuple(data["conditions"]),
                **stamp,
            )
        case "approvals.ApprovalRejected":
            return replace(state, status="rejected", **stamp)
        case "approvals.ChangesRequested":
            return replace(state, status="changes_requested", **stamp)
        case "approvals.ApprovalWithdrawn":
            return replace(state, status="withdrawn", **stamp)
        case "approvals.ApprovalSuspended":
            return replace(state, suspended=True, suspension_reason=data["reason"], **stamp)
        case "approvals.ApprovalReinstated":
            return replace(state, suspended=False, suspension_reason="", **stamp)
        case "approvals.ApprovalVoided":
            return replace(
                state,
                status="open",
                granted_at=None,
                expires_at=None,
                granted_evidence_version=None,
                conditions=(),
                voided_evidence_version=data["evidence_version"],
                **stamp,
            )
    return replace(state, **stamp)
