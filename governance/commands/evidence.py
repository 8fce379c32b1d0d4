"""Evidence: where the owners upload a document, and attaching it once the store confirms its
size and sha256, with its structured summary. Attaching evaluation data with an audit
specification queues the audit of a new version where the tier's policy asks for one.
Load -> decide -> append."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings

from core.actors import Actor
from eventstore import store
from eventstore.metadata import command_metadata
from eventstore.types import SideEffect, StreamRef
from governance import documents, rules
from governance import events as ev
from governance.commands.common import already_detected
from governance.errors import EvidenceNotFound
from governance.models import Evidence
from governance.queries import current_policy
from governance.rules import MAX_FILENAME as MAX_FILENAME
from governance.state import EvidenceState
from governance.streams import evidence_stream_id, load_evidence, load_risk
from registry import artifacts, permissions
from registry.state import VersionState
from registry.streams import load_model, load_version_by_number

AUDIT_NEW_VERSION_TASK = "governance.audit_new_version"


def _owned_version(actor: Actor, model_id: str, number: int) -> VersionState:
    model = load_model(model_id)
    permissions.require_change_model(actor.account, model.id)
    rules.require_version_number(number, model.versions, model.name)
    return load_version_by_number(model.id, number)


def evidence_key(version: VersionState, kind: str, filename: str, sha256: str) -> str:
    """`evidence/<model id>/<number>/<sha256>/<kind>.<filename>`: content addressed, so a
    stored document is never replaced and another document is another object."""
    rules.check_filename_length(filename)
    return artifacts.artifact_key(
        kind="evidence",
        owner_id=uuid.UUID(version.model_id),
        number=version.number,
        sha256=sha256,
        filename=f"{kind}.{artifacts.check_filename(filename)}",
    )


def evidence_upload(
    *, actor: Actor, model_id: str, number: int, kind: str, filename: str, size: int, sha256: str
) -> tuple[str, artifacts.PresignedUpload]:
    """Where the owners upload an evidence document before attaching it: one upload of
    exactly the declared bytes (size and sha256), never again once stored."""
    version = _owned_version(actor, model_id, number)
    key = evidence_key(version, rules.check_kind(kind), filename, sha256)
    upload = artifacts.get_store().presigned_upload(
        key, size=size, sha256=sha256, expires_seconds=settings.ARTIFACT_UPLOAD_URL_SECONDS
    )
    return key, upload


def attach_evidence(
    *,
    actor: Actor,
    model_id: str,
    number: int,
    kind: str,
    filename: str,
    size: int,
    sha256: str,
    summary: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> EvidenceState:
    """Record an uploaded evidence document, once the store confirms its size and sha256.
    Attaching a different document of a kind changes the evidence, which voids approvals
    given before it."""
    version = _owned_version(actor, model_id, number)
    key = evidence_key(version, rules.check_kind(kind), filename, sha256)
    summary = rules.check_summary(kind, summary)
    stored = artifacts.get_store().verify(key, size=size, sha256=sha256)
    state = load_evidence(version.id)
    existing = state.items.get(kind)
    if existing is not None and existing.sha256 == stored.sha256 and existing.summary == summary:
        return state
    # Approvals given on the old evidence are voided by approvals' subscriber, in this append.
    store.append(
        StreamRef(evidence_stream_id(version.id), ev.EVIDENCE),
        state.stream_version,
        [
            ev.EvidenceAttached(
                model_id=version.model_id,
                version_id=version.id,
                version_number=version.number,
                kind=kind,
                key=key,
                uri=stored.uri,
                sha256=stored.sha256,
                size=stored.size,
                summary=dict(summary),
            )
        ],
        command_metadata(actor, idempotency_key),
        side_effects=_new_version_audit(version, kind, stored.sha256, summary),
    )
    return load_evidence(version.id)


def _new_version_audit(
    version: VersionState, kind: str, sha256: str, summary: dict[str, Any]
) -> list[SideEffect]:
    """The audit of a new version that docs/governance-policy.md asks of the critical tier (of
    every tier whose policy in force sets `bias_audit_on_new_version`): queued with the
    evaluation data that carries an `audit_spec`, whatever the version's status, so it runs
    before review."""
    if not rules.carries_audit_spec(kind, summary):
        return []
    tier = load_risk(version.model_id).tier
    if not tier or not current_policy().document[tier]["bias_audit_on_new_version"]:
        return []
    return [
        SideEffect(AUDIT_NEW_VERSION_TASK, {"version_id": version.id, "evidence_sha256": sha256})
    ]


def record_evidence_tamper(*, actor: Actor, evidence_id: str) -> bool:
    """A reviewer found an evidence document flagged: the server re-hashes the stored bytes
    itself and, where they are not the recorded ones, records governance.EvidenceTamperDetected
    (a finding opens for the model-risk and security boards, governance/policies.py). True when
    a detection was recorded; False when the bytes match, or these bytes were reported before
    (one detection, one finding). The caller checks that the actor may read the document."""
    evidence = Evidence.objects.filter(id=evidence_id, waived=False).first()
    if evidence is None:
        raise EvidenceNotFound("no such evidence document")
    try:
        documents.read_verified(evidence).close()
    except documents.DocumentMismatch as mismatch:
        found, size = mismatch.found_sha256, mismatch.found_size or 0
    else:
        return False
    stream = evidence_stream_id(evidence.version_id)
    if already_detected(stream, evidence.sha256, found):
        return False
    store.append(
        StreamRef(stream, ev.EVIDENCE),
        None,  # a fact about the store, whatever else the evidence recorded meanwhile
        [
            ev.EvidenceTamperDetected(
                model_id=str(evidence.model_id),
                version_id=str(evidence.version_id),
                version_number=evidence.version_number,
                kind=evidence.kind,
                key=evidence.artifact_key,
                recorded_sha256=evidence.sha256,
                found_sha256=found,
                found_size=size,
            )
        ],
        command_metadata(actor),
    )
    return True
