"""Governance's reactions: findings opened by what happened elsewhere. A failed bias audit, an
Art. 73 report gone overdue, and a deployed version whose production approval was voided each
open a finding for the model's owners and the boards concerned, in the cause's transaction.
The approvals app sits above governance, so its events are read by their stored names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from boards.queries import board_members, owner_ids
from core import clock
from eventstore import store
from eventstore.subscribers import subscriber
from eventstore.types import NO_STREAM, Reaction, RecordedEvent, SideEffect, StreamRef
from governance import events as ev
from governance.rules import INCIDENT_BOARDS
from governance.streams import finding_stream_id, load_incident, load_risk
from registry.streams import load_model, load_version

NOTIFY_TASK = "governance.notify_finding"
# A failed bias audit goes to the ethics board, due by the tier's urgency.
AUDIT_FINDING_BOARDS = ["ethics"]
AUDIT_FINDING_DUE_DAYS = {"low": 90, "medium": 60, "high": 30, "critical": 14}
# An Art. 73 report overdue: the incident boards have two days.
OVERDUE_FINDING_DUE = timedelta(days=2)
# A deployment whose production approval was voided: the boards decide within a week.
VOIDED_DEPLOYMENT_FINDING_DUE = timedelta(days=7)

APPROVAL_VOIDED = "approvals.ApprovalVoided"
# Stored bytes found other than the verified or attached ones: the model-risk and security
# boards look within two days (the store was tampered with).
ARTIFACT_TAMPER_DETECTED = "registry.ArtifactTamperDetected"
TAMPER_FINDING_BOARDS = ["model-risk", "security"]
TAMPER_FINDING_DUE = timedelta(days=2)


def finding_opened(
    *,
    model: Any,
    version_id: str | None,
    version_number: int | None,
    source: str,
    source_id: str,
    title: str,
    severity: str,
    boards: list[str],
    due_at: datetime,
) -> Reaction:
    """A finding owned by the model's team for `boards`, and the notice to both; its id is
    derived from what opened it (`source_id`), so the same failed check never opens two.
    Without a version, the finding concerns the model as a whole."""
    finding_id = finding_stream_id(source_id)
    recipients = sorted(set(owner_ids(model.id)) | set(board_members(boards)))
    effects = (
        (
            SideEffect(
                NOTIFY_TASK,
                {"event": "opened", "finding_id": str(finding_id), "user_ids": recipients},
            ),
        )
        if recipients
        else ()
    )
    opened = ev.FindingOpened(
        model_id=model.id,
        version_id=version_id or "",
        version_number=version_number or 0,
        source=source,
        source_id=source_id,
        title=title,
        severity=severity,
        owner_team=model.team,
        boards=list(boards),
        due_at=due_at.isoformat(),
    )
    return Reaction(StreamRef(finding_id, ev.FINDING), NO_STREAM, (opened,), effects)


@subscriber("governance.BiasAuditCompleted")
def open_finding_when_an_audit_fails(event: RecordedEvent) -> Iterator[Reaction]:
    data = event.data
    if data["verdict"] != "fail":
        return
    model = load_model(data["model_id"])
    failing = [s["name"] for s in data["result"]["slices"] if s["verdict"] == "fail"]
    tier = data["tier"]
    yield finding_opened(
        model=model,
        version_id=data["version_id"],
        version_number=data["version_number"],
        source="bias_audit",
        source_id=str(event.stream_id),
        title=(
            f"bias audit of {model.name} version {data['version_number']} failed:"
            f" {', '.join(failing) or 'a slice'}"
        ),
        severity=tier,
        boards=AUDIT_FINDING_BOARDS,
        due_at=clock.now() + timedelta(days=AUDIT_FINDING_DUE_DAYS[tier]),
    )


@subscriber("governance.IncidentReportOverdue")
def open_finding_when_a_report_is_overdue(event: RecordedEvent) -> Iterator[Reaction]:
    incident = load_incident(event.stream_id)
    model = load_model(incident.model_id)
    deadline = datetime.fromisoformat(event.data["deadline_at"])
    yield finding_opened(
        model=model,
        version_id=incident.version_id,
        version_number=incident.version_number,
        source="incident",
        source_id=incident.id,
        title=(
            f"the Art. 73 report of incident {incident.title!r} on {model.name} was due"
            f" {deadline.isoformat(timespec='minutes')} and is overdue"
        ),
        severity=incident.tier,
        boards=INCIDENT_BOARDS,
        due_at=event.occurred_at + OVERDUE_FINDING_DUE,
    )


@subscriber(APPROVAL_VOIDED)
def open_finding_when_a_deployment_loses_its_approval(event: RecordedEvent) -> Iterator[Reaction]:
    """A deployed version cannot go back into review: its voided production approval opens a
    finding for the owners and the request's boards (approve again, or take it down). One per
    void: its id is derived from the request and the evidence version that voided it."""
    if event.data["previous_status"] != "approved":
        return
    opening = store.opening_event(event.stream_id)
    if opening is None or opening.data["target"] != "production":
        return
    request = opening.data
    version = load_version(request["version_id"])
    if version.status != "deployed":
        return
    model = load_model(version.model_id)
    voided_at = event.data["evidence_version"]
    yield finding_opened(
        model=model,
        version_id=version.id,
        version_number=version.number,
        source="approval_voided",
        source_id=str(uuid.uuid5(event.stream_id, f"voided at {voided_at}")),
        title=(
            f"version {version.number} of {model.name} is deployed, but its production approval"
            " was voided when its evidence changed"
        ),
        severity=request["tier"],
        boards=sorted(request["boards"]),
        due_at=clock.now() + VOIDED_DEPLOYMENT_FINDING_DUE,
    )


def _tamper_finding(
    event: RecordedEvent, model_id: str, version_id: str, source: str, what: str
) -> Reaction:
    """One finding per detection: its id is derived from the detecting event."""
    model = load_model(model_id)
    version = load_version(version_id)
    return finding_opened(
        model=model,
        version_id=version.id,
        version_number=version.number,
        source=source,
        source_id=str(uuid.uuid5(event.stream_id, f"tamper detected at {event.version}")),
        title=(
            f"the store was tampered with: the stored {what} of {model.name} version"
            f" {version.number} is not the one recorded (sha256 {event.data['recorded_sha256']})"
        ),
        severity=load_risk(model.id).tier or "high",
        boards=TAMPER_FINDING_BOARDS,
        due_at=clock.now() + TAMPER_FINDING_DUE,
    )


@subscriber(ARTIFACT_TAMPER_DETECTED)
def open_finding_when_an_artifact_was_tampered_with(event: RecordedEvent) -> Iterator[Reaction]:
    version = load_version(str(event.stream_id))
    yield _tamper_finding(event, version.model_id, version.id, "artifact_tampered", "artifact")


@subscriber("governance.EvidenceTamperDetected")
def open_finding_when_evidence_was_tampered_with(event: RecordedEvent) -> Iterator[Reaction]:
    data = event.data
    yield _tamper_finding(
        event, data["model_id"], data["version_id"], "evidence_tampered", data["kind"]
    )
