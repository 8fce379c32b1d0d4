"""Projectors: governance events (and the approvals events governance keeps its own view of)
-> read tables.

PeriodicReview and Finding are snapshot tables: a row is the folded state of its stream, written
from the fold itself (`eventstore.snapshots`). The others have projectors of their own, one per
event: PolicyVersion and BiasAudit hold one event each (keyed by the policy's number, by the
audit); ModelRisk is keyed by the model and upserted by whichever event comes first; Evidence has
a row per kind; Incident keeps the reminder times as the event's text while the fold parses them;
ApprovalStanding follows another app's events."""

from __future__ import annotations

import json
import uuid
from typing import Any

from eventstore.canonical import canonical_json
from eventstore.projection import (
    KeepExisting,
    ProjectionWriter,
    projection_tables,
    projector,
    touch,
)
from eventstore.snapshots import snapshot
from eventstore.types import RecordedEvent
from governance import events as ev
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
from governance.state import evolve_finding, evolve_review

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


@projector(ev.PolicyVersionRecorded)
def project_policy_version_recorded(
    e: ev.PolicyVersionRecorded, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    # The primary key on the number is what makes two racing seeders fail instead of forking.
    out.insert(
        PolicyVersion,
        number=e.number,
        stream_id=recorded.stream_id,
        tiers=e.tiers,
        reason=e.reason,
        recorded_at=recorded.recorded_at,
        recorded_by=recorded.metadata.get("actor", ""),
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


def _risk(out: ProjectionWriter, model_id: str, recorded: RecordedEvent, **values: Any) -> None:
    # The first event of a model's risk stream inserts the row; columns it does not set
    # start from their defaults and later events keep them.
    kept = {name: KeepExisting(value) for name, value in _RISK_DEFAULTS.items()}
    out.upsert(
        ModelRisk,
        ("model_id",),
        model_id=model_id,
        stream_version=recorded.version,
        updated_at=recorded.recorded_at,
        **{**kept, **values},
    )


@projector(ev.IntakeRecorded)
def project_intake_recorded(
    e: ev.IntakeRecorded, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    _risk(
        out,
        e.model_id,
        recorded,
        answers=e.answers,
        proposed_tier=e.proposed_tier,
        policy_version=e.policy_version,
    )


@projector(ev.RiskTierAssigned)
def project_risk_tier_assigned(
    e: ev.RiskTierAssigned, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    _risk(
        out,
        e.model_id,
        recorded,
        tier=e.tier,
        overridden=e.overridden,
        reason=e.reason,
        policy_version=e.policy_version,
    )


@projector(ev.RiskTierReopened)
def project_risk_tier_reopened(
    e: ev.RiskTierReopened, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    _risk(out, e.model_id, recorded, tier="")


@projector(ev.ModelSuspended)
def project_model_suspended(
    e: ev.ModelSuspended, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    _risk(out, e.model_id, recorded, suspended=True, suspension_reason=e.reason)


@projector(ev.ModelReinstated)
def project_model_reinstated(
    e: ev.ModelReinstated, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    _risk(out, e.model_id, recorded, suspended=False, suspension_reason="")


def _evidence(
    out: ProjectionWriter,
    e: ev.EvidenceAttached | ev.EvidenceWaived,
    recorded: RecordedEvent,
    **values: Any,
) -> None:
    out.upsert(
        Evidence,
        ("version_id", "kind"),
        id=uuid.uuid5(uuid.UUID(e.version_id), e.kind),
        version_id=e.version_id,
        model_id=e.model_id,
        version_number=e.version_number,
        kind=e.kind,
        recorded_at=recorded.recorded_at,
        recorded_by=recorded.metadata.get("actor", ""),
        stream_version=recorded.version,
        **values,
    )


@projector(ev.EvidenceAttached)
def project_evidence_attached(
    e: ev.EvidenceAttached, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    _evidence(
        out,
        e,
        recorded,
        waived=False,
        artifact_key=e.key,
        uri=e.uri,
        sha256=e.sha256,
        size=e.size,
        summary=e.summary,
        reason="",
        expires_at=None,
    )


@projector(ev.EvidenceWaived)
def project_evidence_waived(
    e: ev.EvidenceWaived, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    _evidence(
        out,
        e,
        recorded,
        waived=True,
        artifact_key="",
        uri="",
        sha256="",
        size=None,
        summary={"board": e.board},
        reason=e.reason,
        expires_at=e.expires_at,
    )


# -- periodic reviews and findings: rows are the folded state of their streams ------------

PERIODIC_REVIEWS = snapshot(PeriodicReview, evolve_review)
FINDINGS = snapshot(Finding, evolve_finding)


# -- bias audits -------------------------------------------------------------------------


@projector(ev.BiasAuditCompleted)
def project_bias_audit_completed(
    e: ev.BiasAuditCompleted, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    out.insert(
        BiasAudit,
        id=recorded.stream_id,
        model_id=e.model_id,
        version_id=e.version_id,
        version_number=e.version_number,
        trigger=e.trigger,
        source=e.source,
        evidence_sha256=e.evidence_sha256,
        tier=e.tier,
        policy_version=e.policy_version,
        verdict=e.verdict,
        rows=e.rows,
        # As the log stores it (RFC 8785 writes 1.0 as 1), so a replay writes the same row.
        result=json.loads(canonical_json(e.result)),
        recorded_at=recorded.recorded_at,
        recorded_by=recorded.metadata.get("actor", ""),
    )


# -- serious incidents -------------------------------------------------------------------
# Not a snapshot: the row keeps reminder_times as the event's ISO text (a JSON list of strings)
# while the fold holds them as datetimes, which the scan compares with the clock.


@projector(ev.IncidentReported)
def project_incident_reported(
    e: ev.IncidentReported, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    out.insert(
        Incident,
        id=recorded.stream_id,
        model_id=e.model_id,
        version_id=e.version_id or None,
        version_number=e.version_number or None,
        title=e.title,
        description=e.description,
        occurred_at=e.occurred_at,
        became_aware_at=e.became_aware_at,
        classes=e.classes,
        tier=e.tier,
        policy_version=e.policy_version,
        clock_applies=e.clock_applies,
        deadline_at=e.deadline_at or None,
        reminder_times=e.reminder_times,
        owner_team=e.owner_team,
        reported_by=e.reporter_id,
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
        opened_at=recorded.recorded_at,
        updated_at=recorded.recorded_at,
        stream_version=recorded.version,
    )


@projector(ev.IncidentReportDeadlineReminderSent)
def project_incident_report_deadline_reminder_sent(
    e: ev.IncidentReportDeadlineReminderSent, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    touch(out, Incident, recorded, reminders_sent=e.reminder)


@projector(ev.IncidentReportOverdue)
def project_incident_report_overdue(
    e: ev.IncidentReportOverdue, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    touch(out, Incident, recorded, overdue=True, finding_id=e.finding_id)


@projector(ev.IncidentReportedToAuthority)
def project_incident_reported_to_authority(
    e: ev.IncidentReportedToAuthority, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    touch(
        out,
        Incident,
        recorded,
        authority_reported_at=e.reported_at,
        authority_recorded_by=e.recorded_by,
        authority=e.authority,
        authority_reference=e.reference,
        reported_late=e.late,
    )


@projector(ev.IncidentClosed)
def project_incident_closed(
    e: ev.IncidentClosed, recorded: RecordedEvent, out: ProjectionWriter
) -> None:
    touch(
        out,
        Incident,
        recorded,
        status="closed",
        closed_at=recorded.recorded_at,
        closed_by=e.closed_by,
        resolution=e.resolution,
        no_report_reason=e.no_report_reason,
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
