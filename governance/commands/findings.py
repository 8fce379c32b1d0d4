"""Findings: a member of the finding's boards closes it with the evidence of the fix, never one
of the model's owners or the version's authors. Load -> decide -> append. Findings are opened
by governance's reactions (governance/policies.py), not by a command."""

from __future__ import annotations

import uuid
from typing import Any

from boards import queries as board_queries
from boards.errors import NotBoardMember
from boards.permissions import require_independent as require_independent_of
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
    if state.status != "open":
        raise FindingClosed(f"finding {state.id} is already closed")
    user = actor.account
    if user is None or not board_queries.is_member(user, state.boards):
        raise NotBoardMember(f"only members of {', '.join(state.boards)} close this finding")
    require_independent(
        user, state.model_id, state.version_id, "the model's owners and authors cannot close it"
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
