"""Write model of approvals: the pure fold of an approval request. Nothing here imports
Django."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from approvals import events as ev
from eventstore.folds import AggregateState, Changes, Fold, copied
from eventstore.types import RecordedEvent

DECISIONS = ("approve", "reject", "request_changes")
TARGETS = ("production",)
ACTIVE = frozenset({"open", "changes_requested"})
CLOSED = frozenset({"rejected", "withdrawn", "voided"})
REQUEST_STATUSES = ("open", "changes_requested", "approved", "rejected", "withdrawn", "voided")


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
class RequestState(AggregateState):
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
    # The reviewed facts (no read-table columns): the verified artifact's sha256, each evidence
    # document's sha256 by kind, the intake answers the tier was confirmed on; and why the
    # request was last voided.
    artifact_sha256: str = ""
    evidence: dict[str, str] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)
    void_reason: str = ""

    @property
    def exists(self) -> bool:
        return bool(self.version_id)


evolve_request = Fold(RequestState)


@evolve_request.on(ev.ApprovalRequested, opens=True)
def _requested(state: RequestState, e: ev.ApprovalRequested, rec: RecordedEvent) -> Changes:
    return {
        **copied(e, RequestState, "required_evidence", "boards"),
        "required_evidence": tuple(e.required_evidence),
        "boards": dict(e.boards),
        "evidence": dict(e.evidence),
        "answers": dict(e.answers),
    }


@evolve_request.on(ev.ReviewDecisionRecorded)
def _decided(state: RequestState, e: ev.ReviewDecisionRecorded, rec: RecordedEvent) -> Changes:
    decision = Decision(
        seq=rec.version,
        board=e.board,
        reviewer_id=e.reviewer_id,
        decision=e.decision,
        rationale=e.rationale,
        conditions=tuple(e.conditions),
        evidence_version=e.evidence_version,
        recorded_at=rec.recorded_at,
    )
    # `decisions` is no read-table column (ReviewDecision keeps a row per decision), so it may
    # build on the previous state.
    return {"decisions": (*state.decisions, decision)}


@evolve_request.on(ev.ApprovalGranted)
def _granted(state: RequestState, e: ev.ApprovalGranted, rec: RecordedEvent) -> Changes:
    return {
        "status": "approved",
        "granted_at": rec.recorded_at,
        "expires_at": datetime.fromisoformat(e.expires_at),
        "granted_evidence_version": e.evidence_version,
        "conditions": tuple(e.conditions),
    }


@evolve_request.on(ev.ApprovalRejected)
def _rejected(state: RequestState, e: ev.ApprovalRejected, rec: RecordedEvent) -> Changes:
    return {"status": "rejected"}


@evolve_request.on(ev.ChangesRequested)
def _changes_requested(state: RequestState, e: ev.ChangesRequested, rec: RecordedEvent) -> Changes:
    return {"status": "changes_requested"}


@evolve_request.on(ev.ApprovalWithdrawn)
def _withdrawn(state: RequestState, e: ev.ApprovalWithdrawn, rec: RecordedEvent) -> Changes:
    return {"status": "withdrawn"}


@evolve_request.on(ev.ApprovalSuspended)
def _suspended(state: RequestState, e: ev.ApprovalSuspended, rec: RecordedEvent) -> Changes:
    return {"suspended": True, "suspension_reason": e.reason}


@evolve_request.on(ev.ApprovalReinstated)
def _reinstated(state: RequestState, e: ev.ApprovalReinstated, rec: RecordedEvent) -> Changes:
    return {"suspended": False, "suspension_reason": ""}


@evolve_request.on(ev.ApprovalVoided)
def _voided(state: RequestState, e: ev.ApprovalVoided, rec: RecordedEvent) -> Changes:
    return {
        "status": "open",
        "granted_at": None,
        "expires_at": None,
        "granted_evidence_version": None,
        "conditions": (),
        "voided_evidence_version": e.evidence_version,
        "evidence": dict(e.evidence),
        "void_reason": e.reason,
    }


@evolve_request.on(ev.ApprovalRequestVoided)
def _request_voided(
    state: RequestState, e: ev.ApprovalRequestVoided, rec: RecordedEvent
) -> Changes:
    return {"status": "voided", "void_reason": e.reason}
