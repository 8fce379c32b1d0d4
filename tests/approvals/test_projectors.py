"""The approvals read tables against the fold: after a realistic run through the commands, every
row of a snapshot table (ApprovalRequest) is the folded state of its stream, and the
ReviewDecision rows are the fold's decisions. Every approvals event class projects somewhere."""

from __future__ import annotations

import inspect
import uuid
from typing import Any

import pytest

from approvals import commands as approvals
from approvals import events as ev
from approvals.models import ApprovalRequest, ReviewDecision
from approvals.state import evolve_request
from eventstore import store
from eventstore.catalog import DomainEvent
from eventstore.projection import projectors_for
from eventstore.snapshots import registered_snapshots
from governance import commands as governance
from tests.approvals.conftest import actor_of, approve, governed_version, revise_model_card

pytestmark = pytest.mark.django_db

# Event classes of approvals/events.py that deliberately project nothing (none so far).
NOT_PROJECTED: frozenset[type[DomainEvent]] = frozenset()


def plain(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def scenario(cast, evidence_store) -> list[str]:
    """Requests through every event of approvals: granted, suspended, reinstated, voided and
    approved again; changes requested then voided; withdrawn; rejected."""
    owner, officer = actor_of(cast.owner), actor_of(cast.officer)
    ids = []
    model, version = governed_version(cast, evidence_store, "high", "snap-high")
    request = approvals.request_approval(actor=owner, model_id=model.id, number=1, notes="go")
    for board, index in (("model-risk", 0), ("model-risk", 1), ("legal", 0), ("ethics", 0)):
        approve(cast, request.id, board, index, conditions=[f"watch {board}"])
    approvals.suspend_approval(actor=officer, request_id=request.id, reason="incident 7")
    approvals.reinstate_approval(
        actor=actor_of(cast.reviewer("model-risk", 2)), request_id=request.id, reason="resolved"
    )
    revise_model_card(cast, evidence_store, version, b"a revised card", "snap-high")
    approve(cast, request.id, "model-risk", 0)
    ids.append(request.id)

    model, version = governed_version(cast, evidence_store, "low", "snap-changes")
    request = approvals.request_approval(actor=owner, model_id=model.id, number=1)
    approve(cast, request.id, "model-risk", 1, decision="request_changes", rationale="more")
    revise_model_card(cast, evidence_store, version, b"the card, revised", "snap-changes")
    approve(cast, request.id, "model-risk", 1)
    ids.append(request.id)

    model, _ = governed_version(cast, evidence_store, "low", "snap-withdrawn")
    request = approvals.request_approval(actor=owner, model_id=model.id, number=1)
    approvals.withdraw_request(actor=owner, request_id=request.id, reason="not ready")
    ids.append(request.id)

    model, _ = governed_version(cast, evidence_store, "low", "snap-rejected")
    request = approvals.request_approval(actor=owner, model_id=model.id, number=1)
    approve(cast, request.id, "model-risk", 1, decision="reject", rationale="leaky")
    ids.append(request.id)

    model, _ = governed_version(cast, evidence_store, "low", "snap-retiered")
    request = approvals.request_approval(actor=owner, model_id=model.id, number=1)
    approve(cast, request.id, "model-risk", 1)
    governance.assign_risk_tier(actor=officer, model_id=model.id, tier="high", reason="widened")
    ids.append(request.id)

    return ids


def test_every_snapshot_row_of_approvals_is_the_fold_of_its_stream(cast, evidence_store):
    ids = scenario(cast, evidence_store)
    # The scenario went through every approvals event.
    seen = {e.type for i in ids for e in store.read_stream(uuid.UUID(i))}
    assert seen == {cls.event_type for cls in declared_events()}
    snapshots = [s for s in registered_snapshots() if s.model._meta.app_label == "approvals"]
    assert [s.model for s in snapshots] == [ApprovalRequest]
    for snap in snapshots:
        columns = sorted(snap.columns)
        assert {"id", "status", "created_at", "updated_at", "stream_version"} <= set(columns)
        rows = list(snap.model.objects.values(*columns))
        assert {str(row["id"]) for row in rows} >= set(ids)
        for row in rows:
            state = snap.fold.run(store.read_stream(row["id"]))
            assert {k: plain(v) for k, v in row.items()} == snap.row_of(state), row["id"]


def test_review_decision_rows_are_the_decisions_of_the_fold(cast, evidence_store):
    ids = scenario(cast, evidence_store)
    fields = (
        "seq",
        "board",
        "reviewer_id",
        "decision",
        "rationale",
        "conditions",
        "evidence_version",
        "recorded_at",
    )
    seen = 0
    for request_id in ApprovalRequest.objects.values_list("id", flat=True):
        state = evolve_request.run(store.read_stream(request_id))
        rows = list(ReviewDecision.objects.filter(request_id=request_id).order_by("seq"))
        expected = [
            {**{f: getattr(d, f) for f in fields}, "conditions": list(d.conditions)}
            for d in state.decisions
        ]
        assert [{f: getattr(r, f) for f in fields} for r in rows] == expected
        assert all(r.id == uuid.uuid5(request_id, str(r.seq)) for r in rows)
        seen += len(rows)
    assert seen >= 8
    assert {str(i) for i in ReviewDecision.objects.values_list("request_id", flat=True)} >= {
        ids[0],
        ids[1],
        ids[3],
    }


def declared_events() -> set[type[DomainEvent]]:
    return {
        cls
        for _, cls in inspect.getmembers(ev, inspect.isclass)
        if issubclass(cls, DomainEvent) and cls.__module__ == ev.__name__
    }


def test_every_approvals_event_class_is_folded_or_projected():
    """A new event class must be written by a projector (the snapshot's or its own) or be
    listed in NOT_PROJECTED: it cannot silently project nothing."""
    declared = declared_events()
    assert declared
    everywhere = set(projectors_for("tests.NoSuchEvent"))  # the projectors of every event
    for cls in declared - NOT_PROJECTED:
        own = set(projectors_for(cls.event_type)) - everywhere
        assert own, f"{cls.event_type} writes no read table"
