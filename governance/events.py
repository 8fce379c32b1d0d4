"""Governance events: policy versions, intake and risk tiers, suspensions, and evidence.

Streams: one policy stream ("governance.Policy") numbers policy versions; each model has a
risk stream ("governance.ModelRisk", id derived from the model id) with its intake answers,
tier and suspension; each model version has an evidence stream ("governance.Evidence", id
derived from the version id). People appear only as user ids."""

from __future__ import annotations

from dataclasses import field
from typing import Any, ClassVar

from eventstore.catalog import DomainEvent, event, upcaster
from governance import rules
from governance.policy import upgrade_tiers
from governance.rules import AUDIT_TRIGGERS as AUDIT_TRIGGERS
from governance.rules import NEW_VERSION as NEW_VERSION
from governance.rules import ON_DEMAND as ON_DEMAND
from governance.rules import SCHEDULED as SCHEDULED

POLICY = "governance.Policy"
MODEL_RISK = "governance.ModelRisk"
EVIDENCE = "governance.Evidence"


@event("governance.PolicyVersionRecorded", schema_version=4)
class PolicyVersionRecorded(DomainEvent):
    number: int
    tiers: dict[str, Any]
    reason: str = rules.REASON.field()


@upcaster("governance.PolicyVersionRecorded", from_version=1)
def _policy_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 documents predate review reminders, escalation, grace, the overdue action
    and fairness thresholds: they are read with the shipped defaults for those."""
    return {**data, "tiers": upgrade_tiers(data["tiers"])}


@upcaster("governance.PolicyVersionRecorded", from_version=2)
def _policy_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 documents predate `bias_audit_on_new_version`: they are read with the shipped
    default (an audit on every new version for the critical tier only)."""
    return {**data, "tiers": upgrade_tiers(data["tiers"])}


@upcaster("governance.PolicyVersionRecorded", from_version=3)
def _policy_v3_to_v4(data: dict[str, Any]) -> dict[str, Any]:
    """Version 3 documents predate serious incidents: they are read with the shipped defaults
    (the Art. 73 reporting clock for the high and critical tiers, reminders at half the window
    and a day before the deadline)."""
    return {**data, "tiers": upgrade_tiers(data["tiers"])}


@event("governance.IntakeRecorded")
class IntakeRecorded(DomainEvent):
    model_id: str
    answers: dict[str, Any]
    proposed_tier: str
    policy_version: int


@event("governance.RiskTierAssigned")
class RiskTierAssigned(DomainEvent):
    model_id: str
    tier: str = rules.TIER.field()
    previous_tier: str
    proposed_tier: str
    overridden: bool
    reason: str = rules.OVERRIDE_REASON.field()
    policy_version: int
    # The intake answers the tier is confirmed on (assignments recorded before carry none).
    answers: dict[str, Any] = field(default_factory=dict)


@event("governance.RiskTierReopened")
class RiskTierReopened(DomainEvent):
    """New intake answers after the tier was confirmed: the tier is proposed again until a
    model-risk officer confirms it on the new answers."""

    model_id: str
    previous_tier: str


@event("governance.ModelSuspended")
class ModelSuspended(DomainEvent):
    model_id: str
    reason: str = rules.REASON.field()


@event("governance.ModelReinstated")
class ModelReinstated(DomainEvent):
    model_id: str
    reason: str = rules.REASON.field()


@event("governance.EvidenceAttached")
class EvidenceAttached(DomainEvent):
    sensitive: ClassVar[tuple[str, ...]] = ("key", "uri", "summary")

    model_id: str
    version_id: str
    version_number: int
    kind: str = rules.EVIDENCE_KIND.field()
    key: str
    uri: str
    sha256: str = rules.EVIDENCE_SHA256.field()
    size: int
    summary: dict[str, Any] = rules.SUMMARY.field()


@event("governance.EvidenceTamperDetected")
class EvidenceTamperDetected(DomainEvent):
    """The store held other bytes than an attached document's when the server re-hashed them
    (before a bias audit read evaluation data): nothing was computed on them, and a finding
    opens (governance/policies.py)."""

    sensitive: ClassVar[tuple[str, ...]] = ("key",)

    model_id: str
    version_id: str
    version_number: int
    kind: str = rules.EVIDENCE_KIND.field()
    key: str
    recorded_sha256: str = rules.EVIDENCE_SHA256.field()
    found_sha256: str
    found_size: int


@event("governance.EvidenceWaived")
class EvidenceWaived(DomainEvent):
    model_id: str
    version_id: str
    version_number: int
    kind: str = rules.EVIDENCE_KIND.field()
    reason: str = rules.REASON.field()
    expires_at: str = rules.WAIVER_EXPIRY.field()
    board: str


# -- periodic reviews --------------------------------------------------------------------
# One stream per review ("governance.Review"), its id derived from the version and the
# review's sequence number, so two scans that race to open the same review cannot both win.

REVIEW = "governance.Review"


@event("governance.PeriodicReviewOpened")
class PeriodicReviewOpened(DomainEvent):
    model_id: str
    version_id: str
    version_number: int
    sequence: int
    tier: str
    policy_version: int
    boards: list[str]
    anchor_at: str
    remind_at: str
    due_at: str
    escalate_at: str
    escalate_officer_at: str
    grace_ends_at: str
    overdue_action: str
    suspend_approval: bool
    recipient_ids: list[int]


@event("governance.ReviewReminderSent")
class ReviewReminderSent(DomainEvent):
    due_at: str
    recipient_ids: list[int]


@event("governance.ReviewEscalated")
class ReviewEscalated(DomainEvent):
    level: int
    escalated_to: str
    recipient_ids: list[int]


@event("governance.ReviewFlagged")
class ReviewFlagged(DomainEvent):
    reason: str


@event("governance.VersionMarkedNonCompliant")
class VersionMarkedNonCompliant(DomainEvent):
    model_id: str
    version_id: str
    version_number: int
    reason: str
    suspended_request_id: str


@event("governance.ReviewCompleted")
class ReviewCompleted(DomainEvent):
    board: str = rules.BOARD.field()
    reviewer_id: int
    outcome: str = rules.OUTCOME.field()
    rationale: str = rules.RATIONALE.field()
    late: bool


# -- bias audits and findings ------------------------------------------------------------
# One stream per audit ("governance.BiasAudit"); a scheduled audit's id is derived from the
# version and the period it covers, so a scan delivered twice runs it once. One stream per
# finding ("governance.Finding"), opened in the same transaction as the failing audit.

BIAS_AUDIT = "governance.BiasAudit"
FINDING = "governance.Finding"
# What started an audit (ON_DEMAND, SCHEDULED, NEW_VERSION): governance.rules.AUDIT_TRIGGERS.


@event("governance.BiasAuditCompleted")
class BiasAuditCompleted(DomainEvent):
    model_id: str
    version_id: str
    version_number: int
    trigger: str
    source: str
    evidence_sha256: str
    tier: str
    policy_version: int
    verdict: str
    rows: int
    result: dict[str, Any]


@event("governance.FindingOpened")
class FindingOpened(DomainEvent):
    model_id: str
    version_id: str
    version_number: int
    source: str
    source_id: str
    title: str
    severity: str
    owner_team: str
    boards: list[str]
    due_at: str


@event("governance.FindingRemediated")
class FindingRemediated(DomainEvent):
    """The model's owners say what they did about the finding and where it can be checked; a
    member of its boards independent of the model then closes it (or accepts its risk)."""

    note: str = rules.REMEDIATION.field()
    evidence: str = rules.FIX_EVIDENCE.field()


@event("governance.FindingRiskAccepted")
class FindingRiskAccepted(DomainEvent):
    """A member of the finding's boards, independent of the model, accepts its risk until
    `expires_at`: the finding stands accepted, and is due again when the acceptance expires."""

    reviewer_id: int
    reason: str = rules.REASON.field()
    expires_at: str = rules.ACCEPTANCE_EXPIRY.field()


@event("governance.FindingClosed")
class FindingClosed(DomainEvent):
    reviewer_id: int
    resolution: str = rules.FINDING_RESOLUTION.field()
    evidence: str = rules.FIX_EVIDENCE.field()


# -- serious incidents -------------------------------------------------------------------
# One stream per incident ("governance.Incident"). A serious incident on a model whose tier's
# policy starts the EU AI Act Art. 73 clock carries its reporting deadline and reminder times,
# fixed when it is reported, so a later policy change never moves a running clock. Versions
# are optional: "" and 0 when the incident concerns the model as a whole.

INCIDENT = "governance.Incident"
# Where a finding or an incident stands.
OPEN_CLOSED = ("open", "closed")
# A finding may also stand remediated by its owners (to be closed by a reviewer), or with its
# risk accepted until the acceptance expires.
FINDING_STATUSES = ("open", "remediated", "risk_accepted", "closed")


@event("governance.IncidentReported")
class IncidentReported(DomainEvent):
    model_id: str
    version_id: str
    version_number: int
    title: str = rules.INCIDENT_TITLE.field()
    description: str = rules.INCIDENT_DESCRIPTION.field()
    occurred_at: str = rules.OCCURRED_AT.field()
    became_aware_at: str = rules.BECAME_AWARE_AT.field()
    classes: list[str] = rules.INCIDENT_CLASSES.field()
    tier: str
    policy_version: int
    clock_applies: bool
    deadline_at: str
    reminder_times: list[str]
    owner_team: str
    reporter_id: int
    recipient_ids: list[int]


@event("governance.IncidentReportDeadlineReminderSent")
class IncidentReportDeadlineReminderSent(DomainEvent):
    reminder: int
    deadline_at: str
    recipient_ids: list[int]


@event("governance.IncidentReportOverdue")
class IncidentReportOverdue(DomainEvent):
    deadline_at: str
    finding_id: str
    recipient_ids: list[int]


@event("governance.IncidentReportedToAuthority")
class IncidentReportedToAuthority(DomainEvent):
    recorded_by: int
    reported_at: str = rules.REPORTED_AT.field()
    authority: str = rules.AUTHORITY.field()
    reference: str = rules.AUTHORITY_REFERENCE.field()
    late: bool


@event("governance.IncidentClosed")
class IncidentClosed(DomainEvent):
    closed_by: int
    resolution: str = rules.INCIDENT_RESOLUTION.field()
    no_report_reason: str = rules.NO_REPORT_REASON.field()
