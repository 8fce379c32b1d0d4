"""Write models of governance: pure folds of the policy, a model's risk record and a
version's evidence. Nothing here imports Django."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from eventstore.types import RecordedEvent
from governance.policy import upgrade_tiers


@dataclass(frozen=True)
class PolicyState:
    id: str = ""
    number: int = 0
    tiers: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    recorded_at: datetime | None = None
    stream_version: int = 0

    @property
    def exists(self) -> bool:
        return self.number > 0


def evolve_policy(state: PolicyState, event: RecordedEvent) -> PolicyState:
    if event.type == "governance.PolicyVersionRecorded":
        return replace(
            state,
            id=str(event.stream_id),
            number=event.data["number"],
            tiers=upgrade_tiers(event.data["tiers"]),
            reason=event.data["reason"],
            recorded_at=event.recorded_at,
            stream_version=event.version,
        )
    return replace(state, stream_version=event.version)


@dataclass(frozen=True)
class RiskState:
    model_id: str = ""
    tier: str = ""
    proposed_tier: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    overridden: bool = False
    reason: str = ""
    policy_version: int = 0
    suspended: bool = False
    suspension_reason: str = ""
    updated_at: datetime | None = None
    stream_version: int = 0


def evolve_risk(state: RiskState, event: RecordedEvent) -> RiskState:
    data = event.data
    stamp = {
        "model_id": data.get("model_id", state.model_id),
        "updated_at": event.recorded_at,
        "stream_version": event.version,
    }
    match event.type:
        case "governance.IntakeRecorded":
            return replace(
                state,
                answers=dict(data["answers"]),
                proposed_tier=data["proposed_tier"],
                policy_version=data["policy_version"],
                **stamp,
            )
        case "governance.RiskTierAssigned":
            return replace(
                state,
                tier=data["tier"],
                overridden=data["overridden"],
                reason=data["reason"],
                policy_version=data["policy_version"],
                **stamp,
            )
        case "governance.ModelSuspended":
            return replace(state, suspended=True, suspension_reason=data["reason"], **stamp)
        case "governance.ModelReinstated":
            return replace(state, suspended=False, suspension_reason="", **stamp)
    return replace(state, **stamp)


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
class EvidenceState:
    version_id: str = ""
    items: dict[str, EvidenceItem] = field(default_factory=dict)
    waivers: dict[str, Waiver] = field(default_factory=dict)
    stream_version: int = 0

    def satisfied(self, kind: str, now: datetime) -> bool:
        """Attached, or waived by a waiver that has not expired."""
        if kind in self.items:
            return True
        waiver = self.waivers.get(kind)
        return waiver is not None and waiver.expires_at > now


def evolve_evidence(state: EvidenceState, event: RecordedEvent) -> EvidenceState:
    data = event.data
    stamp = {"version_id": data["version_id"], "stream_version": event.version}
    match event.type:
        case "governance.EvidenceAttached":
            item = EvidenceItem(
                kind=data["kind"],
                sha256=data["sha256"],
                uri=data["uri"],
                size=data["size"],
                summary=dict(data["summary"]),
                recorded_at=event.recorded_at,
                stream_version=event.version,
            )
            return replace(state, items={**state.items, data["kind"]: item}, **stamp)
        case "governance.EvidenceWaived":
            waiver = Waiver(
                kind=data["kind"],
                reason=data["reason"],
                expires_at=datetime.fromisoformat(data["expires_at"]),
                granted_by=event.metadata.get("actor", ""),
                recorded_at=event.recorded_at,
                stream_version=event.version,
            )
            return replace(state, waivers={**state.waivers, data["kind"]: waiver}, **stamp)
    return replace(state, **stamp)


@dataclass(frozen=True)
class ReviewState:
    id: str = ""
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
    updated_at: datetime | None = None
    stream_version: int = 0

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


def evolve_review(state: ReviewState, event: RecordedEvent) -> ReviewState:
    data = event.data
    stamp = {"updated_at": event.recorded_at, "stream_version": event.version}
    match event.type:
        case "governance.PeriodicReviewOpened":
            return replace(
                state,
                id=str(event.stream_id),
                model_id=data["model_id"],
                version_id=data["version_id"],
                version_number=data["version_number"],
                sequence=data["sequence"],
                tier=data["tier"],
                policy_version=data["policy_version"],
                boards=tuple(data["boards"]),
                anchor_at=_at(data["anchor_at"]),
                remind_at=_at(data["remind_at"]),
                due_at=_at(data["due_at"]),
                escalate_at=_at(data["escalate_at"]),
                escalate_officer_at=_at(data["escalate_officer_at"]),
                grace_ends_at=_at(data["grace_ends_at"]),
                overdue_action=data["overdue_action"],
                suspend_approval=data["suspend_approval"],
                opened_at=event.recorded_at,
                **stamp,
            )
        case "governance.ReviewReminderSent":
            return replace(state, steps_done=state.steps_done | {"remind"}, **stamp)
        case "governance.ReviewEscalated":
            step = "escalate_chair" if data["level"] == 1 else "escalate_officer"
            return replace(
                state,
                steps_done=state.steps_done | {step},
                escalation_level=max(state.escalation_level, data["level"]),
                **stamp,
            )
        case "governance.ReviewFlagged":
            return replace(state, steps_done=state.steps_done | {"overdue"}, flagged=True, **stamp)
        case "governance.VersionMarkedNonCompliant":
            return replace(
                state,
                steps_done=state.steps_done | {"overdue"},
                non_compliant=True,
                suspended_request_id=data["suspended_request_id"],
                **stamp,
            )
        case "governance.ReviewCompleted":
            return replace(
                state,
                status="completed",
                completed_at=event.recorded_at,
                completed_by=data["reviewer_id"],
                board=data["board"],
                outcome=data["outcome"],
                rationale=data["rationale"],
                late=data["late"],
                **stamp,
            )
    return replace(state, **stamp)


@dataclass(frozen=True)
class FindingState:
    id: str = ""
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
    stream_version: int = 0

    @property
    def exists(self) -> bool:
        return bool(self.id)


def evolve_finding(state: FindingState, event: RecordedEvent) -> FindingState:
    data = event.data
    match event.type:
        case "governance.FindingOpened":
            return replace(
                state,
                id=str(event.stream_id),
                model_id=data["model_id"],
                # A finding about a model as a whole (an incident naming no version) has none.
                version_id=data["version_id"] or None,
                version_number=data["version_number"] or None,
                source=data["source"],
                source_id=data["source_id"],
                title=data["title"],
                severity=data["severity"],
                owner_team=data["owner_team"],
                boards=tuple(data["boards"]),
                due_at=_at(data["due_at"]),
                opened_at=event.recorded_at,
                stream_version=event.version,
            )
        case "governance.FindingClosed":
            return replace(
                state,
                status="closed",
                closed_at=event.recorded_at,
                closed_by=data["reviewer_id"],
                resolution=data["resolution"],
                evidence=data["evidence"],
                stream_version=event.version,
            )
    return replace(state, stream_version=event.version)


@dataclass(frozen=True)
class IncidentState:
    id: str = ""
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
    updated_at: datetime | None = None
    stream_version: int = 0

    @property
    def exists(self) -> bool:
        return bool(self.id)

    @property
    def reported_to_authority(self) -> bool:
        return self.authority_reported_at is not None


def evolve_incident(state: IncidentState, event: RecordedEvent) -> IncidentState:
    data = event.data
    stamp = {"updated_at": event.recorded_at, "stream_version": event.version}
    match event.type:
        case "governance.IncidentReported":
            return replace(
                state,
                id=str(event.stream_id),
                model_id=data["model_id"],
                version_id=data["version_id"] or None,
                version_number=data["version_number"] or None,
                title=data["title"],
                description=data["description"],
                occurred_at=_at(data["occurred_at"]),
                became_aware_at=_at(data["became_aware_at"]),
                classes=tuple(data["classes"]),
                tier=data["tier"],
                policy_version=data["policy_version"],
                clock_applies=data["clock_applies"],
                deadline_at=_at(data["deadline_at"]) if data["deadline_at"] else None,
                reminder_times=tuple(_at(t) for t in data["reminder_times"]),
                owner_team=data["owner_team"],
                reported_by=data["reporter_id"],
                opened_at=event.recorded_at,
                **stamp,
            )
        case "governance.IncidentReportDeadlineReminderSent":
            return replace(
                state, reminders_sent=max(state.reminders_sent, data["reminder"]), **stamp
            )
        case "governance.IncidentReportOverdue":
            return replace(state, overdue=True, finding_id=data["finding_id"], **stamp)
        case "governance.IncidentReportedToAuthority":
            return replace(
                state,
                authority_reported_at=_at(data["reported_at"]),
                authority_recorded_by=data["recorded_by"],
                authority=data["authority"],
                authority_reference=data["reference"],
                reported_late=data["late"],
                **stamp,
            )
        case "governance.IncidentClosed":
            return replace(
                state,
                status="closed",
                closed_at=event.recorded_at,
                closed_by=data["closed_by"],
                resolution=data["resolution"],
                no_report_reason=data["no_report_reason"],
                **stamp,
            )
    return replace(state, **stamp)
