"""Write models of governance: pure folds of the policy, a model's risk record, a version's
evidence, periodic reviews, findings and serious incidents. Nothing here imports Django.

Each fold is a `Fold` of its state class: a handler per event class returns what the event
changes; the fold stamps the stream's id, creation, last update and version (`AggregateState`).
The review and finding folds are also what writes their read tables (`eventstore.snapshots`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventstore.folds import AggregateState, Changes, Fold, copied
from eventstore.types import RecordedEvent
from governance import events as ev
from governance.policy import upgrade_tiers


@dataclass(frozen=True)
class PolicyState(AggregateState):
    number: int = 0
    tiers: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    # When the version in force was recorded (created_at is the first version's).
    recorded_at: datetime | None = None

    @property
    def exists(self) -> bool:
        return self.number > 0


evolve_policy = Fold(PolicyState)


@evolve_policy.on(ev.PolicyVersionRecorded, opens=True)
def _policy_version_recorded(
    state: PolicyState, e: ev.PolicyVersionRecorded, rec: RecordedEvent
) -> Changes:
    return {
        "number": e.number,
        "tiers": upgrade_tiers(e.tiers),
        "reason": e.reason,
        "recorded_at": rec.recorded_at,
    }


@dataclass(frozen=True)
class RiskState(AggregateState):
    """A model's risk record; `id` is the risk stream's, `model_id` the model's."""

    model_id: str = ""
    tier: str = ""
    proposed_tier: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    overridden: bool = False
    reason: str = ""
    policy_version: int = 0
    suspended: bool = False
    suspension_reason: str = ""
    # The intake answers the tier was confirmed on (no read-table column).
    confirmed_answers: dict[str, Any] = field(default_factory=dict)

    @property
    def tier_answers(self) -> dict[str, Any]:
        """The answers the confirmed tier stands on (the latest, for a tier confirmed before
        confirmations recorded them)."""
        return self.confirmed_answers or self.answers


evolve_risk = Fold(RiskState)


# Each of a risk stream's events names the model. None is marked as opening: ModelRisk is keyed
# by the model and upserted by its own projectors, whichever event comes first.
@evolve_risk.on(ev.IntakeRecorded)
def _intake_recorded(state: RiskState, e: ev.IntakeRecorded, rec: RecordedEvent) -> Changes:
    return {**copied(e, RiskState), "answers": dict(e.answers)}


@evolve_risk.on(ev.RiskTierAssigned)
def _risk_tier_assigned(state: RiskState, e: ev.RiskTierAssigned, rec: RecordedEvent) -> Changes:
    # The proposed tier is the intake's; an assignment leaves it as it is.
    return {
        **copied(e, RiskState, "proposed_tier", "answers"),
        "confirmed_answers": dict(e.answers),
    }


@evolve_risk.on(ev.RiskTierReopened)
def _risk_tier_reopened(state: RiskState, e: ev.RiskTierReopened, rec: RecordedEvent) -> Changes:
    return {"model_id": e.model_id, "tier": "", "confirmed_answers": {}}


@evolve_risk.on(ev.ModelSuspended)
def _model_suspended(state: RiskState, e: ev.ModelSuspended, rec: RecordedEvent) -> Changes:
    return {"model_id": e.model_id, "suspended": True, "suspension_reason": e.reason}


@evolve_risk.on(ev.ModelReinstated)
def _model_reinstated(state: RiskState, e: ev.ModelReinstated, rec: RecordedEvent) -> Changes:
    return {"model_id": e.model_id, "suspended": False, "suspension_reason": ""}


@dataclass(frozen=True)
class EvidenceItem:
    kind: str
    sha256: str
    uri: str
    size: int
    summary: dict[str, Any]
    recorded_at: datetime
    stream_version: int


@dataclass(frozen=True)
class Waiver:
    kind: str
    reason: str
    expires_at: datetime
    granted_by: str
    recorded_at: datetime
    stream_version: int


@dataclass(frozen=True)
class EvidenceState(AggregateState):
    """A version's evidence; `id` is the evidence stream's, `version_id` the version's."""

    version_id: str = ""
    items: dict[str, EvidenceItem] = field(default_factory=dict)
    waivers: dict[str, Waiver] = field(default_factory=dict)

    def satisfied(self, kind: str, now: datetime) -> bool:
        """Attached, or waived by a waiver that has not expired."""
        if kind in self.items:
            return True
        waiver = self.waivers.get(kind)
        return waiver is not None and waiver.expires_at > now


evolve_evidence = Fold(EvidenceState)


@evolve_evidence.on(ev.EvidenceAttached)
def _evidence_attached(state: EvidenceState, e: ev.EvidenceAttached, rec: RecordedEvent) -> Changes:
    item = EvidenceItem(
        kind=e.kind,
        sha256=e.sha256,
        uri=e.uri,
        size=e.size,
        summary=dict(e.summary),
        recorded_at=rec.recorded_at,
        stream_version=rec.version,
    )
    return {"version_id": e.version_id, "items": {**state.items, e.kind: item}}


@evolve_evidence.on(ev.EvidenceWaived)
def _evidence_waived(state: EvidenceState, e: ev.EvidenceWaived, rec: RecordedEvent) -> Changes:
    waiver = Waiver(
        kind=e.kind,
        reason=e.reason,
        expires_at=_at(e.expires_at),
        granted_by=rec.metadata.get("actor", ""),
        recorded_at=rec.recorded_at,
        stream_version=rec.version,
    )
    return {"version_id": e.version_id, "waivers": {**state.waivers, e.kind: waiver}}


@dataclass(frozen=True)
class ReviewState(AggregateState):
    model_id: str = ""
    version_id: str = ""
    version_number: int = 0
    sequence: int = 0
    tier: str = ""
    policy_version: int = 0
    boards: tuple[str, ...] = ()
    anchor_at: datetime | None = None
    remind_at: datetime | None = None
    due_at: datetime | None = None
    escalate_at: datetime | None = None
    escalate_officer_at: datetime | None = None
    grace_ends_at: datetime | None = None
    overdue_action: str = ""
    suspend_approval: bool = False
    status: str = "open"
    steps_done: frozenset[str] = frozenset()
    reminded: bool = False
    escalation_level: int = 0
    flagged: bool = False
    non_compliant: bool = False
    suspended_request_id: str = ""
    completed_at: datetime | None = None
    completed_by: int | None = None
    board: str = ""
    outcome: str = ""
    rationale: str = ""
    late: bool = False
    opened_at: datetime | None = None

    @property
    def exists(self) -> bool:
        return bool(self.version_id)

    def step_times(self) -> dict[str, datetime]:
        return {
            "remind": self.remind_at,
            "escalate_chair": self.escalate_at,
            "escalate_officer": self.escalate_officer_at,
            "overdue": self.grace_ends_at,
        }  # type: ignore[return-value]


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


evolve_review = Fold(ReviewState)

_REVIEW_TIMES = (
    "anchor_at",
    "remind_at",
    "due_at",
    "escalate_at",
    "escalate_officer_at",
    "grace_ends_at",
)


@evolve_review.on(ev.PeriodicReviewOpened, opens=True)
def _review_opened(state: ReviewState, e: ev.PeriodicReviewOpened, rec: RecordedEvent) -> Changes:
    return {
        **copied(e, ReviewState, *_REVIEW_TIMES),
        **{name: _at(getattr(e, name)) for name in _REVIEW_TIMES},
        "boards": tuple(e.boards),
        "opened_at": rec.recorded_at,
    }


# steps_done is not a column of the read table, so these handlers may read it.
@evolve_review.on(ev.ReviewReminderSent)
def _review_reminded(state: ReviewState, e: ev.ReviewReminderSent, rec: RecordedEvent) -> Changes:
    return {"steps_done": state.steps_done | {"remind"}, "reminded": True}


@evolve_review.on(ev.ReviewEscalated)
def _review_escalated(state: ReviewState, e: ev.ReviewEscalated, rec: RecordedEvent) -> Changes:
    # The read table takes the event's level (its snapshot calls this with the initial state);
    # the same, as escalations come in order: the chairs' step falls no later than the officers'.
    step = "escalate_chair" if e.level == 1 else "escalate_officer"
    return {
        "steps_done": state.steps_done | {step},
        "escalation_level": max(state.escalation_level, e.level),
    }


@evolve_review.on(ev.ReviewFlagged)
def _review_flagged(state: ReviewState, e: ev.ReviewFlagged, rec: RecordedEvent) -> Changes:
    return {"steps_done": state.steps_done | {"overdue"}, "flagged": True}


@evolve_review.on(ev.VersionMarkedNonCompliant)
def _version_marked_non_compliant(
    state: ReviewState, e: ev.VersionMarkedNonCompliant, rec: RecordedEvent
) -> Changes:
    return {
        "steps_done": state.steps_done | {"overdue"},
        "non_compliant": True,
        "suspended_request_id": e.suspended_request_id,
    }


@evolve_review.on(ev.ReviewCompleted)
def _review_completed(state: ReviewState, e: ev.ReviewCompleted, rec: RecordedEvent) -> Changes:
    return {
        **copied(e, ReviewState),
        "status": "completed",
        "completed_at": rec.recorded_at,
        "completed_by": e.reviewer_id,
    }


@dataclass(frozen=True)
class FindingState(AggregateState):
    model_id: str = ""
    version_id: str | None = None
    version_number: int | None = None
    source: str = ""
    source_id: str = ""
    title: str = ""
    severity: str = ""
    owner_team: str = ""
    boards: tuple[str, ...] = ()
    due_at: datetime | None = None
    status: str = "open"
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: int | None = None
    resolution: str = ""
    evidence: str = ""

    @property
    def exists(self) -> bool:
        return bool(self.id)


evolve_finding = Fold(FindingState)


@evolve_finding.on(ev.FindingOpened, opens=True)
def _finding_opened(state: FindingState, e: ev.FindingOpened, rec: RecordedEvent) -> Changes:
    return {
        **copied(e, FindingState),
        # A finding about a model as a whole (an incident naming no version) has none.
        "version_id": e.version_id or None,
        "version_number": e.version_number or None,
        "boards": tuple(e.boards),
        "due_at": _at(e.due_at),
        "opened_at": rec.recorded_at,
    }


@evolve_finding.on(ev.FindingRemediated)
def _finding_remediated(
    state: FindingState, e: ev.FindingRemediated, rec: RecordedEvent
) -> Changes:
    return {"status": "remediated", "resolution": e.note, "evidence": e.evidence}


@evolve_finding.on(ev.FindingRiskAccepted)
def _finding_risk_accepted(
    state: FindingState, e: ev.FindingRiskAccepted, rec: RecordedEvent
) -> Changes:
    # Due again when the acceptance expires; the reason is the finding's resolution so far.
    return {"status": "risk_accepted", "due_at": _at(e.expires_at), "resolution": e.reason}


@evolve_finding.on(ev.FindingClosed)
def _finding_closed(state: FindingState, e: ev.FindingClosed, rec: RecordedEvent) -> Changes:
    return {
        **copied(e, FindingState),
        "status": "closed",
        "closed_at": rec.recorded_at,
        "closed_by": e.reviewer_id,
    }


@dataclass(frozen=True)
class IncidentState(AggregateState):
    model_id: str = ""
    version_id: str | None = None
    version_number: int | None = None
    title: str = ""
    description: str = ""
    occurred_at: datetime | None = None
    became_aware_at: datetime | None = None
    classes: tuple[str, ...] = ()
    tier: str = ""
    policy_version: int = 0
    clock_applies: bool = False
    deadline_at: datetime | None = None
    reminder_times: tuple[datetime, ...] = ()
    owner_team: str = ""
    reported_by: int | None = None
    status: str = "open"
    reminders_sent: int = 0
    overdue: bool = False
    finding_id: str | None = None
    authority_reported_at: datetime | None = None
    authority_recorded_by: int | None = None
    authority: str = ""
    authority_reference: str = ""
    reported_late: bool = False
    closed_at: datetime | None = None
    closed_by: int | None = None
    resolution: str = ""
    no_report_reason: str = ""
    opened_at: datetime | None = None

    @property
    def exists(self) -> bool:
        return bool(self.id)

    @property
    def reported_to_authority(self) -> bool:
        return self.authority_reported_at is not None


evolve_incident = Fold(IncidentState)


@evolve_incident.on(ev.IncidentReported, opens=True)
def _incident_reported(state: IncidentState, e: ev.IncidentReported, rec: RecordedEvent) -> Changes:
    return {
        **copied(e, IncidentState),
        "version_id": e.version_id or None,
        "version_number": e.version_number or None,
        "occurred_at": _at(e.occurred_at),
        "became_aware_at": _at(e.became_aware_at),
        "classes": tuple(e.classes),
        "deadline_at": _at(e.deadline_at) if e.deadline_at else None,
        "reminder_times": tuple(_at(t) for t in e.reminder_times),
        "reported_by": e.reporter_id,
        "opened_at": rec.recorded_at,
    }


@evolve_incident.on(ev.IncidentReportDeadlineReminderSent)
def _incident_reminded(
    state: IncidentState, e: ev.IncidentReportDeadlineReminderSent, rec: RecordedEvent
) -> Changes:
    return {"reminders_sent": max(state.reminders_sent, e.reminder)}


@evolve_incident.on(ev.IncidentReportOverdue)
def _incident_overdue(
    state: IncidentState, e: ev.IncidentReportOverdue, rec: RecordedEvent
) -> Changes:
    return {"overdue": True, "finding_id": e.finding_id}


@evolve_incident.on(ev.IncidentReportedToAuthority)
def _incident_reported_to_authority(
    state: IncidentState, e: ev.IncidentReportedToAuthority, rec: RecordedEvent
) -> Changes:
    return {
        "authority_reported_at": _at(e.reported_at),
        "authority_recorded_by": e.recorded_by,
        "authority": e.authority,
        "authority_reference": e.reference,
        "reported_late": e.late,
    }


@evolve_incident.on(ev.IncidentClosed)
def _incident_closed(state: IncidentState, e: ev.IncidentClosed, rec: RecordedEvent) -> Changes:
    return {
        **copied(e, IncidentState),
        "status": "closed",
        "closed_at": rec.recorded_at,
    }
