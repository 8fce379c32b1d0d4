"""Waivers for missing evidence: granted by the model-risk board's chair, never a requester,
an owner or an author of the version; each expires, and is recorded as evidence. Load ->
decide -> append."""

from __future__ import annotations

from datetime import datetime

from boards.permissions import require_independent, require_review_board
from boards.rules import REVIEW_BOARD
from core import clock
from core.actors import Actor
from core.text import shaped_text
from eventstore import store
from eventstore.metadata import command_metadata
from eventstore.types import StreamRef
from governance import events as ev
from governance import rules
from governance.permissions import version_parties
from governance.state import EvidenceState
from governance.streams import evidence_stream_id, load_evidence
from registry.streams import load_model, load_version_by_number


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
    """A waiver for missing evidence: granted by the model-risk board's chair, who must be
    independent of the version (not a requester of its approval, an owner or an author); it
    expires, and it is itself recorded as evidence (so, like new evidence, it voids decisions
    given before it: approvals' subscriber)."""
    model = load_model(model_id)
    rules.require_version_number(number, model.versions, model.name)
    version = load_version_by_number(model.id, number)
    rules.check_kind(kind)
    reason = shaped_text(reason, "reason", rules.REASON)
    rules.check_waiver_expiry(expires_at, clock.now())
    require_review_board(actor, chair=True)
    require_independent(
        actor.account,
        version_parties(model.id, version.id),
        "the version's requesters, the model's owners and the version's authors cannot waive"
        " its evidence",
    )
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
