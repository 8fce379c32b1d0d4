"""Approval commands: load -> decide -> append. The only writers of approval requests.

A request stores the policy version in force when it was made (tier, required evidence,
boards and quorums, validity), so later policy changes never move an open request. Every
decision is checked against separation of duties; the decision that completes the quorum on
complete evidence grants the approval in the same append. The model version's status follows
through the registry's subscriber (registry/policies.py), in the same transaction."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import psycopg
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from guardian.shortcuts import assign_perm

from approvals import events as ev
from approvals import rules
from approvals.errors import (
    AlreadyDecided,
    AlreadySuspended,
    ArtifactNotVerified,
    NotRequester,
    NotSuspended,
    RequestAlreadyOpen,
    RequestClosed,
    ReviewedFactsChanged,
)
from approvals.gate import current_facts, evidence_digests, request_parties, still_counts
from approvals.models import ApprovalRequest
from approvals.notices import notify
from approvals.state import ACTIVE, CLOSED, DECISIONS, TARGETS, Decision, RequestState
from approvals.streams import load_request
from boards.errors import NotBoardMember, SeparationOfDuties
from boards.permissions import require_lift, require_review_board
from boards.queries import (
    board_by_name,
    board_group_name,
    board_members,
    last_actor,
    owner_ids,
)
from core import clock
from core.actors import Actor
from core.errors import InvalidInput, Unprocessable
from core.text import clean_text
from eventstore import store
from eventstore.canonical import canonical_json
from eventstore.metadata import command_metadata
from eventstore.types import NO_STREAM, ConcurrencyConflict, StreamRef
from governance import policy
from governance.errors import RiskTierMissing
from governance.queries import current_policy
from governance.rules import BIAS_AUDIT
from governance.streams import load_evidence, load_risk
from registry import permissions
from registry.errors import InvalidTransition, ModelVersionNotFound
from registry.streams import load_model, load_version, load_version_by_number

REQUEST_VIEW_PERM = "approvals.view_approvalrequest"
# What a reviewer refused by separation of duties is told, by the rule's code.
SOD_REVIEW_DETAILS = {
    "sod_requester": "the requester cannot review their own request",
    "sod_owner": "the model's owners cannot review it",
    "sod_author": "the version's authors cannot review it",
}
MAX_CONDITIONS = 20
TEXT_LIMIT = 5000  # notes, rationales and reasons


def _expected(state_version: int, expected: int | None, stream_id: Any) -> int:
    if expected is not None and expected != state_version:
        raise ConcurrencyConflict(uuid.UUID(str(stream_id)), expected, state_version)
    return state_version


# -- requests ----------------------------------------------------------------------------


def request_approval(
    *,
    actor: Actor,
    model_id: str,
    number: int,
    target: str = "production",
    notes: str = "",
    idempotency_key: str | None = None,
) -> RequestState:
    """Ask the boards the model's tier requires to approve a version for a target."""
    model = load_model(model_id)
    permissions.require_change_model(actor.account, model.id)
    if target not in TARGETS:
        raise InvalidInput(f"target is one of {', '.join(TARGETS)}")
    notes = clean_text(notes, "notes", TEXT_LIMIT)
    if isinstance(number, bool) or not isinstance(number, int) or number not in model.versions:
        raise ModelVersionNotFound(f"model {model.name!r} has no version {number}")
    version = load_version_by_number(model.id, number)
    if version.status in ("deprecated", "retired"):
        raise InvalidTransition(f"a {version.status} version cannot be put up for approval")
    if not version.artifact_verified or version.artifact_tampered:
        raise ArtifactNotVerified(
            f"version {number} has no verified artifact; upload and verify it before asking"
            " for approval"
        )
    risk = load_risk(model.id)
    if not risk.tier:
        raise RiskTierMissing(f"model {model.name!r} needs a confirmed risk tier first")
    current = current_policy()
    spec = current.tiers[risk.tier]
    required = policy.required_evidence(
        spec, personal_data=bool(risk.tier_answers.get("personal_data", False))
    )
    if (
        idempotency_key is None
        and ApprovalRequest.objects.filter(
            version_id=version.id, target=target, status__in=ACTIVE
        ).exists()
    ):
        raise RequestAlreadyOpen(f"version {number} already has an open {target} request")
    request_id = uuid.uuid4()
    event = ev.ApprovalRequested(
        model_id=model.id,
        version_id=version.id,
        version_number=number,
        target=target,
        requester_id=actor.account.pk,
        tier=risk.tier,
        policy_version=current.number,
        required_evidence=required,
        boards=dict(spec["boards"]),
        validity_days=spec["approval_validity_days"],
        notes=notes,
        artifact_sha256=version.artifact_sha256 or "",
        evidence=evidence_digests(load_evidence(version.id)),
        answers=dict(risk.tier_answers),
    )
    fingerprint = hashlib.sha256(
        canonical_json({"version": version.id, "target": target, "notes": notes})
    ).digest()
    try:
        with transaction.atomic():
            result = store.append(
                StreamRef(request_id, ev.REQUEST),
                NO_STREAM,
                [event],
                command_metadata(actor, idempotency_key),
                side_effects=notify("requested", str(request_id), board_members(spec["boards"])),
                request_fingerprint=fingerprint,
            )
            if result.replayed:
                return load_request(result.stream_id)
            row = ApprovalRequest(id=request_id)
            for board in spec["boards"]:
                group, _ = Group.objects.get_or_create(name=board_group_name(board))
                assign_perm(REQUEST_VIEW_PERM, group, row)
                assign_perm("approvals.decide_approvalrequest", group, row)
    except (IntegrityError, psycopg.errors.UniqueViolation) as exc:
        if "approvals_one_active_request" in str(exc):
            raise RequestAlreadyOpen(
                f"version {number} already has an open {target} request"
            ) from exc
        raise
    return load_request(request_id)


def _check_conditions(conditions: Any) -> list[str]:
    if conditions is None:
        return []
    if not isinstance(conditions, list | tuple) or len(conditions) > MAX_CONDITIONS:
        raise InvalidInput(f"conditions are a list of at most {MAX_CONDITIONS} texts")
    return [clean_text(c, "condition", 1000, required=True) for c in conditions]


def record_decision(
    *,
    actor: Actor,
    request_id: str,
    board: str,
    decision: str,
    rationale: str,
    conditions: list[str] | None = None,
    expected_version: int | None = None,
    expected_versions: Mapping[uuid.UUID | str, int] | None = None,
    idempotency_key: str | None = None,
) -> RequestState:
    """A board member's decision: approve, reject or request_changes, with a rationale.
    `expected_versions` (stream id -> version) are the streams the reviewer was shown, such as
    the version's evidence: the decision is refused if any of them moved since."""
    if decision not in DECISIONS:
        raise InvalidInput(f"decision is one of {', '.join(DECISIONS)}")
    rationale = clean_text(rationale, "rationale", TEXT_LIMIT, required=True)
    conditions = _check_conditions(conditions)
    if conditions and decision != "approve":
        raise Unprocessable("only an approval carries conditions")
    state = load_request(request_id)
    if state.status in CLOSED:
        raise RequestClosed(f"the request is {state.status}")
    if board not in state.boards:
        raise Unprocessable(
            f"this request needs the boards {', '.join(state.boards)}, not {board!r}"
        )
    user = actor.account
    members = board_by_name(board).members
    if user is None or user.pk not in members:
        raise NotBoardMember(f"only members of the {board} board decide for it")
    parties = request_parties(state)
    violated = parties.violation(user.pk)
    if violated is not None:
        raise SeparationOfDuties(violated, SOD_REVIEW_DETAILS[violated])
    evidence = load_evidence(state.version_id)
    changed = rules.snapshot_changes(
        state,
        current_facts(load_version(state.version_id), evidence),
        load_risk(state.model_id).tier,
    )
    if changed:
        raise ReviewedFactsChanged(
            f"the request was made on other facts than the version's now ({', '.join(changed)});"
            " a new request is needed",
            changed=changed,
        )
    previous = rules.latest_decisions(state.decisions).get((board, user.pk))
    if (
        previous is not None
        and previous.decision == decision
        and previous.evidence_version == evidence.stream_version
    ):
        raise AlreadyDecided(f"you already decided {decision} for {board} on this evidence")
    stream_version = _expected(state.stream_version, expected_version, state.id)
    store.require_versions(expected_versions)
    now = clock.now()
    recorded = ev.ReviewDecisionRecorded(
        board=board,
        reviewer_id=user.pk,
        decision=decision,
        rationale=rationale,
        conditions=conditions,
        evidence_version=evidence.stream_version,
    )
    events: list[Any] = [recorded]
    effects = notify(decision, state.id, [state.requester_id])
    if decision == "reject":
        events.append(ev.ApprovalRejected(board=board, reviewer_id=user.pk))
    elif decision == "request_changes":
        events.append(ev.ChangesRequested(board=board, reviewer_id=user.pk))
    else:
        decided = (
            *state.decisions,
            _pending_decision(recorded, seq=stream_version + 1, now=now),
        )
        counts = still_counts(state, parties)
        have = rules.tally(decided, state.boards, evidence.stream_version, counts)
        # The bias audit is the ledger's own computation, which the gate checks as of the
        # promotion (approvals.gate); an attached document neither meets nor stands in for it.
        complete = all(
            evidence.satisfied(k, now) for k in state.required_evidence if k != BIAS_AUDIT
        )
        regrant = (
            state.status != "approved" or state.granted_evidence_version != evidence.stream_version
        )
        if rules.quorum_met(have, state.boards) and complete and regrant:
            approving = [
                d
                for d in rules.latest_decisions(decided).values()
                if d.decision == "approve"
                and d.evidence_version == evidence.stream_version
                and counts(d.board, d.reviewer_id)
            ]
            granted_conditions = sorted({c for d in approving for c in d.conditions})
            events.append(
                ev.ApprovalGranted(
                    expires_at=(now + timedelta(days=state.validity_days)).isoformat(),
                    conditions=granted_conditions,
                    evidence_version=evidence.stream_version,
                )
            )
            effects += notify("approved", state.id, [state.requester_id])
    store.append(
        StreamRef(uuid.UUID(state.id), ev.REQUEST),
        stream_version,
        events,
        command_metadata(actor, idempotency_key),
        side_effects=effects,
    )
    return load_request(state.id)


def _pending_decision(event: ev.ReviewDecisionRecorded, *, seq: int, now: datetime) -> Decision:
    """The decision about to be appended, as the fold will see it."""
    return Decision(
        seq=seq,
        board=event.board,
        reviewer_id=event.reviewer_id,
        decision=event.decision,
        rationale=event.rationale,
        conditions=tuple(event.conditions),
        evidence_version=event.evidence_version,
        recorded_at=now,
    )


def withdraw_request(
    *,
    actor: Actor,
    request_id: str,
    reason: str,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> RequestState:
    """The requester (or the model's owners) take the request back."""
    reason = clean_text(reason, "reason", TEXT_LIMIT, required=True)
    state = load_request(request_id)
    model = load_model(state.model_id)
    user = actor.account
    if user is None or not (user.pk == state.requester_id or user.pk in owner_ids(model.id)):
        raise NotRequester("only the requester or the model's owners can withdraw it")
    if state.status in CLOSED:
        raise RequestClosed(f"the request is {state.status}")
    stream_version = _expected(state.stream_version, expected_version, state.id)
    store.append(
        StreamRef(uuid.UUID(state.id), ev.REQUEST),
        stream_version,
        [ev.ApprovalWithdrawn(reason=reason)],
        command_metadata(actor, idempotency_key),
    )
    return load_request(state.id)


def suspend_approval(
    *, actor: Actor, request_id: str, reason: str, idempotency_key: str | None = None
) -> RequestState:
    """Suspend a production approval at once; the gate refuses it until reinstated."""
    reason = clean_text(reason, "reason", TEXT_LIMIT, required=True)
    require_review_board(actor)
    state = load_request(request_id)
    if state.suspended:
        raise AlreadySuspended("the approval is already suspended")
    store.append(
        StreamRef(uuid.UUID(state.id), ev.REQUEST),
        state.stream_version,
        [ev.ApprovalSuspended(reason=reason)],
        command_metadata(actor, idempotency_key),
        side_effects=notify("suspended", state.id, [state.requester_id]),
    )
    return load_request(state.id)


def reinstate_approval(
    *, actor: Actor, request_id: str, reason: str, idempotency_key: str | None = None
) -> RequestState:
    """Lift a suspension: a member of the model-risk board who is independent of the model
    (not a requester, an owner or an author of the version) and is not the one who suspended
    it (separation of duties, 403 sod_*)."""
    reason = clean_text(reason, "reason", TEXT_LIMIT, required=True)
    require_review_board(actor)
    state = load_request(request_id)
    if not state.suspended:
        raise NotSuspended("the approval is not suspended")
    require_lift(
        actor.account,
        request_parties(state),
        last_actor(state.id, ev.ApprovalSuspended.event_type),
    )
    store.append(
        StreamRef(uuid.UUID(state.id), ev.REQUEST),
        state.stream_version,
        [ev.ApprovalReinstated(reason=reason)],
        command_metadata(actor, idempotency_key),
    )
    return load_request(state.id)
