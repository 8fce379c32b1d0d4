"""Findings: the model's owners record what they did about one; a member of the finding's boards
accepts its risk until a date, or closes it with the evidence of the fix, never one of the
model's owners or the version's authors. Load ->
decide -> append. Findings are opened by governance's reactions (governance/policies.py), not
by a command."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from boards import queries as board_queries
from boards.errors import NotBoardMember
from boards.permissions import require_independent as require_independent_of
from core import clock
from core.actors import Actor
from core.text import shaped_text
from eventstore import store
from eventstore.metadata import command_metadata
from eventstore.types import ConcurrencyConflict, StreamRef
from governance import events as ev
from governance import rules
from governance.errors import FindingClosed
from governance.permissions import model_parties, version_parties
from governance.state import FindingState
from governance.streams import load_finding
from registry import permissions
from registry.streams import load_model


def require_independent(user: Any, model_id: str, version_id: str | None, detail: str) -> None:
    """Separation of duties for whoever checks a model's own conduct: not one of its owners
    (as of now, by the group holding its change grant), nor a requester or an author of the
    version concerned, or of any of the model's versions when none is named."""
    if version_id:
        parties = version_parties(model_id, version_id)
    else:
        parties = model_parties(model_id, load_model(model_id).versions.values())
    require_independent_of(user, parties, detail)


def _require_reviewer(actor: Actor, state: FindingState, doing: str) -> Any:
    """A member of the finding's boards, independent of the model (of the version, where the
    finding names one); returns the user."""
    user = actor.account
    if user is None or not board_queries.is_member(user, state.boards):
        raise NotBoardMember(f"only members of {', '.join(state.boards)} {doing} this finding")
    require_independent(
        user, state.model_id, state.version_id, f"the model's owners and authors cannot {doing} it"
    )
    return user


def record_remediation(
    *,
    actor: Actor,
    finding_id: str,
    note: str,
    evidence: str,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> FindingState:
    """The model's owning team says what it did about the finding and where it can be checked;
    the finding stays to be closed (or its risk accepted) by a reviewer independent of them."""
    note = shaped_text(note, "note", rules.REMEDIATION)
    evidence = shaped_text(evidence, "evidence", rules.FIX_EVIDENCE)
    state = load_finding(finding_id)
    if state.status == "closed":
        raise FindingClosed(f"finding {state.id} is already closed")
    permissions.require_change_model(actor.account, state.model_id)
    if expected_version is not None and expected_version != state.stream_version:
        raise ConcurrencyConflict(uuid.UUID(state.id), expected_version, state.stream_version)
    store.append(
        StreamRef(uuid.UUID(state.id), ev.FINDING),
        state.stream_version,
        [ev.FindingRemediated(note=note, evidence=evidence)],
        command_metadata(actor, idempotency_key),
    )
    return load_finding(state.id)


def accept_finding_risk(
    *,
    actor: Actor,
    finding_id: str,
    reason: str,
    expires_at: datetime,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> FindingState:
    """A member of the finding's boards, independent of the model, accepts its risk with a
    reason until `expires_at` (at most a year on), when the finding is due again; it stays
    to be closed with the evidence of a fix, and may be accepted again."""
    reason = shaped_text(reason, "reason", rules.REASON)
    rules.check_acceptance_expiry(expires_at, clock.now())
    state = load_finding(finding_id)
    if state.status == "closed":
        raise FindingClosed(f"finding {state.id} is already closed")
    user = _require_reviewer(actor, state, "accept the risk of")
    if expected_version is not None and expected_version != state.stream_version:
        raise ConcurrencyConflict(uuid.UUID(state.id), expected_version, state.stream_version)
    store.append(
        StreamRef(uuid.UUID(state.id), ev.FINDING),
        state.stream_version,
        [
            ev.FindingRiskAccepted(
                reviewer_id=user.pk, reason=reason, expires_at=expires_at.isoformat()
            )
        ],
        command_metadata(actor, idempotency_key),
    )
    return load_finding(state.id)


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
    resolution = shaped_text(resolution, "resolution", rules.FINDING_RESOLUTION)
    evidence = shaped_text(evidence, "evidence", rules.FIX_EVIDENCE)
    state = load_finding(finding_id)
    if state.status == "closed":
        raise FindingClosed(f"finding {state.id} is already closed")
    user = _require_reviewer(actor, state, "close")
    if expected_version is not None and expected_version != state.stream_version:
        raise ConcurrencyConflict(uuid.UUID(state.id), expected_version, state.stream_version)
    store.append(
        StreamRef(uuid.UUID(state.id), ev.FINDING),
        state.stream_version,
        [ev.FindingClosed(reviewer_id=user.pk, resolution=resolution, evidence=evidence)],
        command_metadata(actor, idempotency_key),
    )
    return load_finding(state.id)
