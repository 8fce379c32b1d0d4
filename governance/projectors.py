"""Projectors: governance events (and the approvals events governance keeps its own view of)
-> read tables. One function per event type, nothing else."""

from __future__ import annotations

import uuid

from eventstore.projection import (
    KeepExisting,
    ProjectionWriter,
    projection_tables,
    projector,
    touch,
)
from eventstore.types import RecordedEvent
from governance.models import (
    ApprovalStanding,
    BiasAudit,
    Evidence,
    Finding,
    Incident,
    ModelRisk,
    PeriodicReview,
    PolicyVersion,
)

projection_tables(
    PolicyVersion,
    ModelRisk,
    Evidence,
    PeriodicReview,
    BiasAudit,
    Finding,
    Incident,
    ApprovalStanding,
)


@projector("governance.PolicyVersionRecorded")
def project_policy_version_recorded(event: RecordedEvent, out: ProjectionWriter) -> None:
    # The primary key on the number is what makes two racing seeders fail instead of forking.
    out.insert(
        PolicyVersion,
        number=event.data["number"],
        stream_id=event.stream_id,
        tiers=event.data["tiers"],
        reason=event.data["reason"],
        recorded_at=event.recorded_at,
        recorded_by=event.metadata.get("actor", ""),
    )


_RISK_DEFAULTS = {
    "tier": "",
    "proposed_tier": "",
    "answers": {},
    "overridden": False,
    "reason": "",
    "policy_version": 0,
    "suspended": False,
    "suspension_reason": "",
}


def _risk(out: ProjectionWriter, event: RecordedEvent, **values) -> None:
    # The first event of a model's risk stream inserts the row; columns it does not set
    # start from their defaults and later events keep them.
    kept = {name: KeepExisting(value) for name, value in _RISK_DEFAULTS.items()}
    out.upsert(
        ModelRisk,
        ("model_id",),
        model_id=event.data["model_id"],
        stream_version=event.version,
        updated_at=event.recorded_at,
        **{**kept, **values},
    )


@projector("governance.IntakeRecorded")
def project_intake_recorded(event: RecordedEvent, out: ProjectionWriter) -> None:
    _risk(
        out,
        event,
        answers=event.data["answers"],
        proposed_tier=event.data["proposed_tier"],
        policy_version=event.data["policy_version"],
    )


@projector("governance.RiskTierAssigned")
def project_risk_tier_assigned(event: RecordedEvent, out: ProjectionWriter) -> None:
    _risk(
        out,
        event,
        tier=event.data["tier"],
        overridden=event.data["overridden"],
        reason=event.data["reason"],
        policy_version=event.data["policy_version"],
    )


@projector("governance.ModelSuspended")
def project_model_suspended(event: RecordedEvent, out: ProjectionWriter) -> None:
    _risk(out, event, suspended=True, suspension_reason=event.data["reason"])


@projector("governance.ModelReinstated")
def project_model_reinstated(event: RecordedEvent, out: ProjectionWriter) -> None:
    _risk(out, event, suspended=False, suspension_reason="")


def _evidence(out: ProjectionWriter, event: RecordedEvent, **values) -> None:
    data = event.data
    out.upsert(
        Evidence,
        ("version_id", "kind"),
        id=uuid.uuid5(uuid.UUID(data["version_id"]), data["kind"]),
        version_id=data["version_id"],
        model_id=data["model_id"],
        version_number=data["version_number"],
        kind=data["kind"],
        recorded_at=event.recorded_at,
        recorded_by=event.metadata.get("actor", ""),
        stream_version=event.version,
        **values,
    )


@projector("governance.EvidenceAttached")
def project_evidence_attached(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    _evidence(
        out,
        event,
        waived=False,
        artifact_key=data["key"],
        uri=data["uri"],
        sha256=data["sha256"],
        size=data["size"],
        summary=data["summary"],
        reason="",
        expires_at=None,
    )


@projector("governance.EvidenceWaived")
def project_evidence_waived(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    _evidence(
        out,
        event,
        waived=True,
        artifact_key="",
        uri="",
        sha256="",
        size=None,
        summary={"board": data["board"]},
        reason=data["reason"],
        expires_at=data["expires_at"],
    )


# -- periodic reviews --------------------------------------------------------------------


@projector("governance.PeriodicReviewOpened")
def project_periodic_review_opened(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    out.insert(
        PeriodicReview,
        id=event.stream_id,
        model_id=data["model_id"],
        version_id=data["version_id"],
        version_number=data["version_number"],
        sequence=data["sequence"],
        tier=data["tier"],
        policy_version=data["policy_version"],
        boards=data["boards"],
        anchor_at=data["anchor_at"],
        remind_at=data["remind_at"],
        due_at=data["due_at"],
        escalate_at=data["escalate_at"],
        escalate_officer_at=data["escalate_officer_at"],
        grace_ends_at=data["grace_ends_at"],
        overdue_action=data["overdue_action"],
        suspend_approval=data["suspend_approval"],
        status="open",
        reminded=False,
        escalation_level=0,
        flagged=False,
        non_compliant=False,
        suspended_request_id="",
        completed_at=None,
        completed_by=None,
        board="",
        outcome="",
        rationale="",
        late=False,
        opened_at=event.recorded_at,
        updated_at=event.recorded_at,
        stream_version=event.version,
    )


@projector("governance.ReviewReminderSent")
def project_review_reminder_sent(event: RecordedEvent, out: ProjectionWriter) -> None:
    touch(out, PeriodicReview, event, reminded=True)


@projector("governance.ReviewEscalated")
def project_review_escalated(event: RecordedEvent, out: ProjectionWriter) -> None:
    touch(out, PeriodicReview, event, escalation_level=event.data["level"])


@projector("governance.ReviewFlagged")
def project_review_flagged(event: RecordedEvent, out: ProjectionWriter) -> None:
    touch(out, PeriodicReview, event, flagged=True)


@projector("governance.VersionMarkedNonCompliant")
def project_version_marked_non_compliant(event: RecordedEvent, out: ProjectionWriter) -> None:
    touch(
        out,
        PeriodicReview,
        event,
        non_compliant=True,
        suspended_request_id=event.data["suspended_request_id"],
    )


@projector("governance.ReviewCompleted")
def project_review_completed(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    touch(
        out,
        PeriodicReview,
        event,
        status="completed",
        completed_at=event.recorded_at,
        completed_by=data["reviewer_id"],
        board=data["board"],
        outcome=data["outcome"],
        rationale=data["rationale"],
        late=data["late"],
    )


# -- bias audits and findings ------------------------------------------------------------


@projector("governance.BiasAuditCompleted")
def project_bias_audit_completed(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    out.insert(
        BiasAudit,
        id=event.stream_id,
        model_id=data["model_id"],
        version_id=data["version_id"],
        version_number=data["version_number"],
        trigger=data["trigger"],
        source=data["source"],
        evidence_sha256=data["evidence_sha256"],
        tier=data["tier"],
        policy_version=data["policy_version"],
        verdict=data["verdict"],
        rows=data["rows"],
        result=data["result"],
        recorded_at=event.recorded_at,
        recorded_by=event.metadata.get("actor", ""),
    )


@projector("governance.FindingOpened")
def project_finding_opened(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    out.insert(
        Finding,
        id=event.stream_id,
        model_id=data["model_id"],
        version_id=data["version_id"] or None,
        version_number=data["version_number"] or None,
        source=data["source"],
        source_id=data["source_id"],
        title=data["title"],
        severity=data["severity"],
        owner_team=data["owner_team"],
        boards=data["boards"],
        due_at=data["due_at"],
        status="open",
        opened_at=event.recorded_at,
        closed_at=None,
        closed_by=None,
        resolution="",
        evidence="",
        stream_version=event.version,
    )


@projector("governance.FindingClosed")
def project_finding_closed(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    out.update(
        Finding,
        {"id": event.stream_id},
        status="closed",
        closed_at=event.recorded_at,
        closed_by=data["reviewer_id"],
        resolution=data["resolution"],
        evidence=data["evidence"],
        stream_version=event.version,
    )


# -- serious incidents -------------------------------------------------------------------


@projector("governance.IncidentReported")
def project_incident_reported(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    out.insert(
        Incident,
        id=event.stream_id,
        model_id=data["model_id"],
        version_id=data["version_id"] or None,
        version_number=data["version_number"] or None,
        title=data["title"],
        description=data["description"],
        occurred_at=data["occurred_at"],
        became_aware_at=data["became_aware_at"],
        classes=data["classes"],
        tier=data["tier"],
        policy_version=data["policy_version"],
        clock_applies=data["clock_applies"],
        deadline_at=data["deadline_at"] or None,
        reminder_times=data["reminder_times"],
        owner_team=data["owner_team"],
        reported_by=data["reporter_id"],
        status="open",
        reminders_sent=0,
        overdue=False,
        finding_id=None,
        authority_reported_at=None,
        authority_recorded_by=None,
        authority="",
        authority_reference="",
        reported_late=False,
        closed_at=None,
        closed_by=None,
        resolution="",
        no_report_reason="",
        opened_at=event.recorded_at,
        updated_at=event.recorded_at,
        stream_version=event.version,
    )


@projector("governance.IncidentReportDeadlineReminderSent")
def project_incident_report_deadline_reminder_sent(
    event: RecordedEvent, out: ProjectionWriter
) -> None:
    touch(out, Incident, event, reminders_sent=event.data["reminder"])


@projector("governance.IncidentReportOverdue")
def project_incident_report_overdue(event: RecordedEvent, out: ProjectionWriter) -> None:
    touch(out, Incident, event, overdue=True, finding_id=event.data["finding_id"])


@projector("governance.IncidentReportedToAuthority")
def project_incident_reported_to_authority(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    touch(
        out,
        Incident,
        event,
        authority_reported_at=data["reported_at"],
        authority_recorded_by=data["recorded_by"],
        authority=data["authority"],
        authority_reference=data["reference"],
        reported_late=data["late"],
    )


@projector("governance.IncidentClosed")
def project_incident_closed(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    touch(
        out,
        Incident,
        event,
        status="closed",
        closed_at=event.recorded_at,
        closed_by=data["closed_by"],
        resolution=data["resolution"],
        no_report_reason=data["no_report_reason"],
    )


# -- approvals, as governance sees them (stored names: approvals sits above governance) ------


@projector("approvals.ApprovalRequested")
def project_approval_standing_requested(event: RecordedEvent, out: ProjectionWriter) -> None:
    out.insert(
        ApprovalStanding,
        id=event.stream_id,
        version_id=event.data["version_id"],
        target=event.data["target"],
        status="open",
        granted_at=None,
        suspended=False,
    )


# The status each approvals event leaves a request in; a voided approval no longer stands.
_STANDING_STATUS = {
    "approvals.ApprovalRejected": "rejected",
    "approvals.ChangesRequested": "changes_requested",
    "approvals.ApprovalWithdrawn": "withdrawn",
}


@projector(*_STANDING_STATUS)
def project_approval_standing_status(event: RecordedEvent, out: ProjectionWriter) -> None:
    out.update(ApprovalStanding, {"id": event.stream_id}, status=_STANDING_STATUS[event.type])


@projector("approvals.ApprovalGranted")
def project_approval_standing_granted(event: RecordedEvent, out: ProjectionWriter) -> None:
    out.update(
        ApprovalStanding, {"id": event.stream_id}, status="approved", granted_at=event.recorded_at
    )


@projector("approvals.ApprovalVoided")
def project_approval_standing_voided(event: RecordedEvent, out: ProjectionWriter) -> None:
    out.update(ApprovalStanding, {"id": event.stream_id}, status="open", granted_at=None)


@projector("approvals.ApprovalSuspended", "approvals.ApprovalReinstated")
def project_approval_standing_suspension(event: RecordedEvent, out: ProjectionWriter) -> None:
    suspended = event.type == "approvals.ApprovalSuspended"
    out.update(ApprovalStanding, {"id": event.stream_id}, suspended=suspended)
