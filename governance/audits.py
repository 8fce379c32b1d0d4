"""Bias audits and findings: run an audit of a version's evaluation data (attached evidence
or posted rows) with the fairness thresholds of the policy in force, record the result, and
open a finding for the model's owners and the ethics board when it fails. Scheduled audits
run on each tier's bias-audit cadence from the periodic scan; where the tier's policy says so,
every new version is audited as soon as its evaluation data is attached. Load -> decide ->
append."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError

from boards import queries as board_queries
from boards import rules as board_rules
from boards.errors import NotBoardMember, SeparationOfDuties
from core import clock
from core.actors import Actor
from core.errors import DomainError, InvalidInput
from core.text import clean_text
from eventstore import store
from eventstore.canonical import CanonicalizationError, canonical_json
from eventstore.metadata import command_metadata
from eventstore.types import NO_STREAM, ConcurrencyConflict, StreamRef
from governance import evaluation_data, fairness
from governance import events as ev
from governance.errors import FindingClosed, NoEvaluationData, NotAuditor, RiskTierMissing
from governance.models import BiasAudit, Evidence, ModelRisk
from governance.queries import current_policy, last_granted_at
from governance.state import FindingState
from governance.streams import audit_stream_id, finding_stream_id, load_finding, load_risk
from registry import permissions
from registry.errors import ModelVersionNotFound
from registry.models import ModelVersion
from registry.streams import load_model, load_version, load_version_by_number

log = logging.getLogger(__name__)

EVALUATION_DATA = "evaluation_data"
MAX_ROWS = 100_000


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
    if isinstance(number, bool) or not isinstance(number, int) or number not in model.versions:
        raise ModelVersionNotFound(f"model {model.name!r} has no version {number}")
    version = load_version_by_number(model.id, number)
    if (rows is None) == (not use_evidence):
        raise InvalidInput("audit either posted rows or the attached evaluation data")
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
        result = evaluation_data.audit_artifact(evidence.artifact_key, spec=audit_spec)
        sha = evidence.sha256
    else:
        if not isinstance(rows, list) or len(rows) > MAX_ROWS:
            raise InvalidInput(f"rows are a list of at most {MAX_ROWS} objects")
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
        due = _last_audit_or_anchor(version, evidence) + timedelta(days=cadence_days)
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
                audit_key=f"scheduled:{due.isoformat()}",
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


def new_version_audit_key(evidence_sha256: str) -> str:
    """One audit per evaluation data document of a version, whatever delivers the task."""
    return f"{ev.NEW_VERSION}:{evidence_sha256}"


def audit_new_version(
    *, actor: Actor, version_id: str, evidence_sha256: str
) -> AuditOutcome | None:
    """The audit queued when evaluation data with an `audit_spec` was attached to a version of
    a tier whose policy sets `bias_audit_on_new_version` (governance.commands.attach_evidence).
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


# -- findings ----------------------------------------------------------------------------


def require_independent(user: Any, owner_team: str, version_id: str | None, detail: str) -> None:
    """Separation of duties for whoever checks a model's own conduct: not one of its owners,
    nor an author of the version concerned (if any)."""
    authors = board_queries.author_ids(load_version(version_id)) if version_id else []
    violated = board_rules.separation_of_duties(
        user.pk,
        requester_id=-1,
        owner_ids=board_queries.owner_ids(owner_team),
        author_ids=authors,
    )
    if violated is not None:
        raise SeparationOfDuties(violated, detail)


def close_finding(
    *,
    actor: Actor,
    finding_id: str,
    resolution: str,
    evidence: str,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> FindingState:
    """A member of the finding's boards closes it, with the evidence of the fix; the model's
    owners and the version's authors cannot close their own finding."""
    resolution = clean_text(resolution, "resolution", 5000, required=True)
    evidence = clean_text(evidence, "evidence", 2000, required=True)
    state = load_finding(finding_id)
    if state.status != "open":
        raise FindingClosed(f"finding {state.id} is already closed")
    user = actor.account
    if user is None or not board_queries.is_member(user, state.boards):
        raise NotBoardMember(f"only members of {', '.join(state.boards)} close this finding")
    require_independent(
        user, state.owner_team, state.version_id, "the model's owners and authors cannot close it"
    )
    if expected_version is not None and expected_version != state.stream_version:
        raise ConcurrencyConflict(uuid.UUID(state.id), expected_version, state.stream_version)
    store.append(
        StreamRef(uuid.UUID(state.id), ev.FINDING),
        state.stream_version,
        [ev.FindingClosed(reviewer_id=user.pk, resolution=resolution, evidence=evidence)],
        command_metadata(actor, idempotency_key),
    )
    return load_finding(state.id)
