"""Governance commands: load -> decide -> append. The only writers of governance state.

Policies are versioned data: the defaults are seeded once (idempotently) and every change
records a whole new policy version. A model's tier is proposed by its intake answers and
confirmed or overridden by a model-risk officer. Evidence is a document in artifact storage,
checked against its declared size and sha256, plus a structured summary."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
from django.conf import settings
from django.db import IntegrityError, transaction

from boards.errors import SeparationOfDuties
from boards.permissions import require_review_board
from boards.queries import author_ids, owner_ids
from boards.rules import REVIEW_BOARD, separation_of_duties
from core import clock
from core.actors import Actor
from core.errors import InvalidInput
from core.text import clean_text
from eventstore import store
from eventstore.canonical import CanonicalizationError, check_json_value
from eventstore.metadata import command_metadata
from eventstore.types import NO_STREAM, ConcurrencyConflict, SideEffect, StreamRef
from governance import events as ev
from governance import policy
from governance.errors import (
    AlreadySuspended,
    IncompleteModelCard,
    IntakeMissing,
    InvalidWaiver,
    NotPolicyAdmin,
    NotRiskOfficer,
    NotSuspended,
    OverrideNeedsReason,
    RiskSeparationOfDuties,
)
from governance.fairness import Thresholds, spec_with_thresholds
from governance.models import PolicyVersion
from governance.queries import current_policy
from governance.state import EvidenceState, RiskState
from governance.streams import evidence_stream_id, load_evidence, load_risk, risk_stream_id
from registry import artifacts, permissions
from registry.errors import ModelVersionNotFound
from registry.state import VersionState
from registry.streams import load_model, load_version_by_number

DEFAULT_REASON = "defaults shipped with Model Ledger (GOVERNANCE.md)"
AUDIT_NEW_VERSION_TASK = "governance.audit_new_version"


def repeated(stream_id: uuid.UUID, event_type: str, actor: Actor, key: str | None) -> bool:
    """The stream's last event is of `event_type` and was this very request, sent again by the
    same actor with its Idempotency-Key: the command returns the state instead of refusing a
    step already taken."""
    if key is None:
        return False
    last = store.read_stream(stream_id)[-1]
    return (
        last.type == event_type
        and last.metadata.get("idempotency_key") == key
        and last.metadata.get("actor") == actor.ref
    )


# -- policy ------------------------------------------------------------------------------


def ensure_default_policy() -> PolicyVersion:
    """Seed policy version 1 from the shipped defaults unless a policy exists (the migrations and
    `manage.py seed_governance` call this; nothing else does). Idempotent and safe under races:
    the projection's primary key on the number lets only one seed win."""
    current = PolicyVersion.objects.order_by("-number").first()
    if current is not None:
        return current
    try:
        with transaction.atomic():
            store.append(
                StreamRef(uuid.uuid4(), ev.POLICY),
                NO_STREAM,
                [
                    ev.PolicyVersionRecorded(
                        number=1, tiers=policy.default_tiers(), reason=DEFAULT_REASON
                    )
                ],
                command_metadata(Actor.system("governance.seed")),
            )
    except (IntegrityError, psycopg.errors.UniqueViolation):
        pass
    return PolicyVersion.objects.order_by("-number").first()


def record_policy_version(
    *,
    actor: Actor,
    changes: dict[str, Any],
    reason: str,
    expected_number: int | None = None,
    idempotency_key: str | None = None,
) -> PolicyVersion:
    """A new policy version: the current one with `changes` applied, checked whole."""
    user = actor.account
    if user is None or not (user.is_superuser or user.has_perm("governance.record_policy")):
        raise NotPolicyAdmin("recording a policy version needs governance.record_policy")
    reason = clean_text(reason, "reason", required=True)
    current = current_policy()
    if expected_number is not None and expected_number != current.number:
        raise ConcurrencyConflict(current.stream_id, expected_number, current.number)
    tiers = policy.merge_tiers(current.document, changes)
    try:
        with transaction.atomic():
            result = store.append(
                StreamRef(current.stream_id, ev.POLICY),
                current.number,
                [ev.PolicyVersionRecorded(number=current.number + 1, tiers=tiers, reason=reason)],
                command_metadata(actor, idempotency_key),
            )
    except (IntegrityError, psycopg.errors.UniqueViolation):
        raise ConcurrencyConflict(current.stream_id, current.number, None) from None
    return PolicyVersion.objects.get(number=result.last_version)


# -- risk tier ---------------------------------------------------------------------------


def _expected(state_version: int, expected: int | None, stream_id: uuid.UUID) -> int:
    if expected is not None and expected != state_version:
        raise ConcurrencyConflict(stream_id, expected, state_version)
    return state_version


def record_intake(
    *,
    actor: Actor,
    model_id: str,
    answers: dict[str, Any],
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> RiskState:
    """The owners' answers to the intake questionnaire; they propose a tier, nothing more."""
    model = load_model(model_id)
    permissions.require_change_model(actor.account, model.id)
    answers = policy.check_answers(answers)
    state = load_risk(model.id)
    stream = risk_stream_id(model.id)
    version = _expected(state.stream_version, expected_version, stream)
    store.append(
        StreamRef(stream, ev.MODEL_RISK),
        version,
        [
            ev.IntakeRecorded(
                model_id=model.id,
                answers=answers,
                proposed_tier=policy.propose_tier(answers),
                policy_version=current_policy().number,
            )
        ],
        command_metadata(actor, idempotency_key),
    )
    return load_risk(model.id)


def _require_risk_officer(actor: Actor, model_team: str) -> None:
    user = actor.account
    if user is None or not (user.is_superuser or user.has_perm("governance.assign_risk_tier")):
        raise NotRiskOfficer("this needs a model-risk officer (governance.assign_risk_tier)")
    if permissions.is_member(user, model_team):
        raise RiskSeparationOfDuties("the model's owners cannot decide on its risk")


def assign_risk_tier(
    *,
    actor: Actor,
    model_id: str,
    tier: str | None = None,
    reason: str = "",
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> RiskState:
    """A model-risk officer confirms the proposed tier, or overrides it with a reason."""
    model = load_model(model_id)
    if tier is not None and tier not in policy.TIERS:
        raise InvalidInput(f"tier is one of {', '.join(policy.TIERS)}")
    reason = clean_text(reason, "reason")
    _require_risk_officer(actor, model.team)
    state = load_risk(model.id)
    if not state.proposed_tier:
        raise IntakeMissing(f"model {model.name!r} has no intake answers to confirm")
    chosen = tier or state.proposed_tier
    overridden = chosen != state.proposed_tier
    if overridden and not reason.strip():
        raise OverrideNeedsReason("overriding the proposed tier needs a reason")
    stream = risk_stream_id(model.id)
    version = _expected(state.stream_version, expected_version, stream)
    store.append(
        StreamRef(stream, ev.MODEL_RISK),
        version,
        [
            ev.RiskTierAssigned(
                model_id=model.id,
                tier=chosen,
                previous_tier=state.tier,
                proposed_tier=state.proposed_tier,
                overridden=overridden,
                reason=reason,
                policy_version=current_policy().number,
            )
        ],
        command_metadata(actor, idempotency_key),
    )
    return load_risk(model.id)


def suspend_model(
    *, actor: Actor, model_id: str, reason: str, idempotency_key: str | None = None
) -> RiskState:
    """Stop a model's use at once: the promotion gate refuses it until it is reinstated."""
    model = load_model(model_id)
    reason = clean_text(reason, "reason", required=True)
    _require_risk_officer(actor, model.team)
    state = load_risk(model.id)
    if state.suspended:
        raise AlreadySuspended(f"model {model.name!r} is already suspended")
    store.append(
        StreamRef(risk_stream_id(model.id), ev.MODEL_RISK),
        state.stream_version,
        [ev.ModelSuspended(model_id=model.id, reason=reason)],
        command_metadata(actor, idempotency_key),
    )
    return load_risk(model.id)


def reinstate_model(
    *, actor: Actor, model_id: str, reason: str, idempotency_key: str | None = None
) -> RiskState:
    model = load_model(model_id)
    reason = clean_text(reason, "reason", required=True)
    _require_risk_officer(actor, model.team)
    state = load_risk(model.id)
    if not state.suspended:
        raise NotSuspended(f"model {model.name!r} is not suspended")
    store.append(
        StreamRef(risk_stream_id(model.id), ev.MODEL_RISK),
        state.stream_version,
        [ev.ModelReinstated(model_id=model.id, reason=reason)],
        command_metadata(actor, idempotency_key),
    )
    return load_risk(model.id)


# -- evidence ----------------------------------------------------------------------------


def _owned_version(actor: Actor, model_id: str, number: int) -> VersionState:
    model = load_model(model_id)
    permissions.require_change_model(actor.account, model.id)
    if isinstance(number, bool) or not isinstance(number, int) or number not in model.versions:
        raise ModelVersionNotFound(f"model {model.name!r} has no version {number}")
    return load_version_by_number(model.id, number)


def _kind(kind: Any) -> str:
    if kind not in policy.EVIDENCE_KINDS:
        raise InvalidInput(f"kind is one of {', '.join(policy.EVIDENCE_KINDS)}")
    return kind


MAX_FILENAME = 150


def evidence_key(version: VersionState, kind: str, filename: str) -> str:
    """`evidence/<model id>/<number>/<kind>.<filename>`."""
    if not isinstance(filename, str) or len(filename) > MAX_FILENAME:
        raise InvalidInput(f"an evidence file name is at most {MAX_FILENAME} characters")
    return artifacts.artifact_key(
        kind="evidence",
        owner_id=uuid.UUID(version.model_id),
        number=version.number,
        filename=f"{kind}.{artifacts.check_filename(filename)}",
    )


def evidence_upload(
    *, actor: Actor, model_id: str, number: int, kind: str, filename: str, size: int
) -> tuple[str, artifacts.PresignedUpload]:
    """Where the owners upload an evidence document before attaching it."""
    version = _owned_version(actor, model_id, number)
    key = evidence_key(version, _kind(kind), filename)
    upload = artifacts.get_store().presigned_upload(
        key, size=size, expires_seconds=settings.ARTIFACT_UPLOAD_URL_SECONDS
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
    key = evidence_key(version, _kind(kind), filename)
    if summary is None:
        summary = {}
    if not isinstance(summary, dict):
        raise InvalidInput("summary must be a JSON object")
    try:
        check_json_value(summary)
    except CanonicalizationError as exc:
        raise InvalidInput(f"summary: {exc}") from exc
    missing = policy.missing_model_card_fields(summary) if kind == "model_card" else []
    if missing:
        raise IncompleteModelCard(f"the model card misses: {', '.join(missing)}")
    if kind == "evaluation_data" and "audit_spec" in summary:
        _check_audit_spec(summary["audit_spec"])
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


def _check_audit_spec(spec: Any) -> None:
    """The audit specification given with evaluation data is checked when it is attached, not
    when the audit runs later in a worker (the thresholds there come from the tier's policy)."""
    try:
        spec_with_thresholds(spec, Thresholds().as_dict())
    except InvalidInput as exc:
        raise type(exc)(f"summary.audit_spec: {exc.detail}", **exc.extra) from exc


def _new_version_audit(
    version: VersionState, kind: str, sha256: str, summary: dict[str, Any]
) -> list[SideEffect]:
    """The audit of a new version that GOVERNANCE.md asks of the critical tier (of every tier
    whose policy in force sets `bias_audit_on_new_version`): queued with the evaluation data
    that carries an `audit_spec`, whatever the version's status, so it runs before review."""
    if kind != "evaluation_data" or "audit_spec" not in summary:
        return []
    tier = load_risk(version.model_id).tier
    if not tier or not current_policy().document[tier]["bias_audit_on_new_version"]:
        return []
    return [
        SideEffect(AUDIT_NEW_VERSION_TASK, {"version_id": version.id, "evidence_sha256": sha256})
    ]


def grant_waiver(
    *,
    actor: Actor,
    model_id: str,
    number: int,
    kind: str,
    reason: str,
    expires_at: datetime,
    idempotency_key: str | None = None,
) -> EvidenceState:
    """A waiver for missing evidence: granted by the model-risk board's chair, who must not be
    an owner or author; it expires, and it is itself recorded as evidence (so, like new
    evidence, it voids decisions given before it: approvals' subscriber)."""
    model = load_model(model_id)
    if isinstance(number, bool) or not isinstance(number, int) or number not in model.versions:
        raise ModelVersionNotFound(f"model {model.name!r} has no version {number}")
    version = load_version_by_number(model.id, number)
    _kind(kind)
    reason = clean_text(reason, "reason", required=True)
    now = clock.now()
    if expires_at is None or expires_at <= now:
        raise InvalidWaiver("a waiver expires in the future")
    if expires_at > now + timedelta(days=366):
        raise InvalidWaiver("a waiver lasts at most a year")
    require_review_board(actor, chair=True)
    violated = separation_of_duties(
        actor.account.pk,
        requester_id=-1,
        owner_ids=owner_ids(model.team),
        author_ids=author_ids(version),
    )
    if violated is not None:
        raise SeparationOfDuties(violated, "the model's owners and authors cannot waive evidence")
    evidence = load_evidence(version.id)
    store.append(
        StreamRef(evidence_stream_id(version.id), ev.EVIDENCE),
        evidence.stream_version,
        [
            ev.EvidenceWaived(
                model_id=version.model_id,
                version_id=version.id,
                version_number=version.number,
                kind=kind,
                reason=reason,
                expires_at=expires_at.isoformat(),
                board=REVIEW_BOARD,
            )
        ],
        command_metadata(actor, idempotency_key),
    )
    return load_evidence(version.id)
