"""Bias audits: run an audit of a version's evaluation data (attached evidence or posted rows)
with the fairness thresholds of the policy in force and record the result; a failing audit
opens a finding for the model's owners and the ethics board (governance/policies.py).
Scheduled audits run on each tier's bias-audit cadence from the periodic scan; where the
tier's policy says so, every new version is audited as soon as its evaluation data is
attached. Load -> decide -> append."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError

from boards import queries as board_queries
from core import clock
from core.actors import Actor
from core.errors import DomainError, InvalidInput
from eventstore import store
from eventstore.canonical import CanonicalizationError, canonical_json
from eventstore.metadata import command_metadata
from eventstore.types import NO_STREAM, ConcurrencyConflict, StreamRef
from governance import evaluation_data, fairness, rules
from governance import events as ev
from governance.commands.common import already_detected
from governance.errors import NoEvaluationData, NotAuditor, RiskTierMissing
from governance.models import BiasAudit, Evidence, ModelRisk
from governance.queries import current_policy, last_granted_at
from governance.rules import EVALUATION_DATA as EVALUATION_DATA
from governance.rules import MAX_ROWS as MAX_ROWS
from governance.rules import new_version_audit_key as new_version_audit_key
from governance.streams import audit_stream_id, evidence_stream_id, finding_stream_id, load_risk
from registry import permissions
from registry.models import ModelVersion
from registry.streams import load_model, load_version, load_version_by_number

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditOutcome:
    audit: BiasAudit
    finding_id: str | None


def _require_auditor(actor: Actor, model: Any) -> None:
    user = actor.account
    if actor.is_system:
        return
    if user is None:
        raise NotAuditor("run bias audits as the model's owners or a board member")
    if user.is_superuser or permissions.is_member(user, model.team):
        return
    if board_queries.is_member(user):
        return
    raise NotAuditor("only the model's owners and board members run bias audits")


def evaluation_evidence(version_id: str) -> Evidence | None:
    return Evidence.objects.filter(
        version_id=version_id, kind=EVALUATION_DATA, waived=False
    ).first()


def run_bias_audit(
    *,
    actor: Actor,
    model_id: str,
    number: int,
    spec: Any,
    rows: Any = None,
    use_evidence: bool = False,
    trigger: str = ev.ON_DEMAND,
    audit_key: str | None = None,
    evidence_sha256: str | None = None,
    idempotency_key: str | None = None,
) -> AuditOutcome:
    """Audit the version's evaluation data (attached evidence, or `rows`) against the
    fairness thresholds of the policy in force for the model's tier; a failing audit opens a
    finding in the same transaction. With `evidence_sha256`, only that evidence document is
    audited (NoEvaluationData once another replaced it)."""
    model = load_model(model_id)
    _require_auditor(actor, model)
    rules.require_version_number(number, model.versions, model.name)
    version = load_version_by_number(model.id, number)
    rules.check_audit_source(rows, use_evidence)
    tier = load_risk(model.id).tier
    if not tier:
        raise RiskTierMissing(f"model {model.name!r} needs a confirmed risk tier first")
    policy_in_force = current_policy()
    audit_spec = fairness.spec_with_thresholds(
        spec, policy_in_force.document[tier]["fairness_thresholds"]
    )
    sha = ""
    if use_evidence:
        evidence = evaluation_evidence(version.id)
        if evidence is None:
            raise NoEvaluationData(f"version {number} has no evaluation data attached")
        if evidence_sha256 is not None and evidence.sha256 != evidence_sha256:
            raise NoEvaluationData(
                f"the evaluation data {evidence_sha256} of version {number} was replaced"
            )
        result = _audit_attached(actor, version, evidence, audit_spec)
        sha = evidence.sha256
    else:
        rules.check_rows(rows)
        result = evaluation_data.audit_rows(rows, spec=audit_spec)
    fingerprint = None
    if idempotency_key is not None:
        request = {"version": version.id, "spec": spec, "rows": rows, "evidence": sha}
        try:
            fingerprint = hashlib.sha256(canonical_json(request)).digest()
        except CanonicalizationError as exc:
            raise InvalidInput(f"the request cannot be recorded: {exc}") from exc
    audit_id = audit_stream_id(version.id, audit_key or str(uuid.uuid4()))
    completed = ev.BiasAuditCompleted(
        model_id=model.id,
        version_id=version.id,
        version_number=version.number,
        trigger=trigger,
        source="evidence" if use_evidence else "rows",
        evidence_sha256=sha,
        tier=tier,
        policy_version=policy_in_force.number,
        verdict=result.verdict,
        rows=result.rows,
        result=result.as_dict(),
    )
    appended = store.append(
        StreamRef(audit_id, ev.BIAS_AUDIT),
        NO_STREAM,
        [completed],
        command_metadata(actor, idempotency_key),
        request_fingerprint=fingerprint,
    )
    # A failing audit has opened its finding in the same transaction (governance/policies.py).
    return _recorded_outcome(appended.stream_id)


def _audit_attached(actor: Actor, version: Any, evidence: Evidence, spec: Any) -> Any:
    """The audit of the attached document's bytes, re-hashed as they are read: other bytes in
    the store record governance.EvidenceTamperDetected (a finding opens), committed before
    the refusal."""
    try:
        return evaluation_data.audit_artifact(
            evidence.artifact_key, spec=spec, sha256=evidence.sha256, size=evidence.size
        )
    except evaluation_data.EvaluationDataTampered as refused:
        stream = evidence_stream_id(version.id)
        found = refused.extra["found_sha256"]
        if already_detected(stream, evidence.sha256, found):
            raise  # the same bytes found again (a scheduled scan): one detection, one finding
        detected = ev.EvidenceTamperDetected(
            model_id=version.model_id,
            version_id=version.id,
            version_number=version.number,
            kind=EVALUATION_DATA,
            key=evidence.artifact_key,
            recorded_sha256=evidence.sha256,
            found_sha256=found,
            found_size=refused.extra["found_size"],
        )
        store.append(
            StreamRef(stream, ev.EVIDENCE),
            None,
            [detected],
            command_metadata(actor),
        )
        raise


def _recorded_outcome(audit_id: uuid.UUID) -> AuditOutcome:
    found = finding_stream_id(audit_id)
    finding_id = str(found) if store.stream_version(found) else None
    return AuditOutcome(BiasAudit.objects.get(id=audit_id), finding_id)


# -- scheduled audits --------------------------------------------------------------------


@dataclass(frozen=True)
class AuditScanReport:
    ran: int
    skipped: int


def _last_audit_or_anchor(version: ModelVersion, evidence: Evidence) -> datetime:
    last = (
        BiasAudit.objects.filter(version_id=version.id)
        .order_by("-recorded_at")
        .values_list("recorded_at", flat=True)
        .first()
    )
    if last is not None:
        return last
    return last_granted_at(version.id) or evidence.recorded_at


def scan_bias_audits(*, actor: Actor, now: datetime | None = None) -> AuditScanReport:
    """Audit every deployed or approved version whose tier's bias-audit cadence has elapsed
    since its last audit, with its latest evaluation data and the audit specification kept in
    that evidence's summary (`audit_spec`). A scheduled audit's id is derived from the period
    it covers, so a second scan of the same period records nothing."""
    now = now or clock.now()
    spec_of = current_policy().document
    ran = skipped = 0
    tiers = dict(ModelRisk.objects.exclude(tier="").values_list("model_id", "tier"))
    versions = ModelVersion.objects.filter(
        status__in=("approved", "deployed"), model_id__in=list(tiers)
    ).order_by("model_id", "number")
    for version in versions:
        cadence_days = spec_of[tiers[version.model_id]]["bias_audit_cadence_days"]
        evidence = evaluation_evidence(str(version.id))
        if cadence_days is None or evidence is None or "audit_spec" not in evidence.summary:
            continue
        due = rules.audit_due(_last_audit_or_anchor(version, evidence), cadence_days)
        if now < due:
            continue
        try:
            run_bias_audit(
                actor=actor,
                model_id=str(version.model_id),
                number=version.number,
                spec=evidence.summary["audit_spec"],
                use_evidence=True,
                trigger=ev.SCHEDULED,
                audit_key=rules.scheduled_audit_key(due),
            )
            ran += 1
        except (ConcurrencyConflict, IntegrityError):
            skipped += 1
        except DomainError as error:
            # Evaluation data the audit refuses stays refused until it changes; say so and go on.
            log.warning("scheduled bias audit of version %s refused: %s", version.id, error)
            skipped += 1
    return AuditScanReport(ran, skipped)


# -- audits of every new version ---------------------------------------------------------


def audit_new_version(
    *, actor: Actor, version_id: str, evidence_sha256: str
) -> AuditOutcome | None:
    """The audit queued when evaluation data with an `audit_spec` was attached to a version of
    a tier whose policy sets `bias_audit_on_new_version` (commands.evidence.attach_evidence).
    Its id is derived from the document's sha256, so a task delivered twice records nothing
    the second time; a document replaced before its audit ran is left to its successor, which
    queued its own. Evaluation data the audit refuses is logged, not retried: a retry would
    meet the same data. None when nothing was audited."""
    version = load_version(version_id)
    audit_id = audit_stream_id(version.id, new_version_audit_key(evidence_sha256))
    if store.stream_version(audit_id):
        return _recorded_outcome(audit_id)
    evidence = evaluation_evidence(version.id)
    if evidence is None or evidence.sha256 != evidence_sha256:
        log.info("evaluation data %s of version %s was replaced", evidence_sha256, version.id)
        return None
    if "audit_spec" not in evidence.summary:
        return None
    try:
        return run_bias_audit(
            actor=actor,
            model_id=version.model_id,
            number=version.number,
            spec=evidence.summary["audit_spec"],
            use_evidence=True,
            trigger=ev.NEW_VERSION,
            audit_key=new_version_audit_key(evidence_sha256),
            evidence_sha256=evidence_sha256,
        )
    except (ConcurrencyConflict, IntegrityError):
        # Another delivery of the same task recorded it first.
        return _recorded_outcome(audit_id)
    except NoEvaluationData:
        log.info("evaluation data %s of version %s was replaced", evidence_sha256, version.id)
        return None
    except DomainError as error:
        log.warning("bias audit of new version %s refused: %s", version.id, error)
        return None
