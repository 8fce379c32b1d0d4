"""Reactions across apps run as subscribers: each reaction names its cause, a reaction is never
recorded twice for one cause, and the registry's gate is closed until approvals registers."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from approvals import commands as approvals
from approvals import gate
from approvals import streams as approval_streams
from approvals.models import ApprovalRequest
from eventstore import store
from eventstore.models import Event
from eventstore.types import NO_STREAM, StreamRef
from governance.commands import audits
from governance.events import VersionMarkedNonCompliant
from governance.models import ApprovalStanding, Finding
from registry import promotion
from registry.promotion import GateNotConfigured
from tests.approvals.conftest import (
    actor_of,
    approve,
    approve_high,
    governed_version,
    request_for,
    revise_model_card,
)
from tests.governance.helpers import SPEC, approved_version, rows


def _since(position: int) -> list[Event]:
    return list(Event.objects.filter(position__gt=position).order_by("position"))


def test_each_reaction_names_the_event_that_caused_it_when_evidence_voids_an_approval(
    cast, evidence_store
):
    model, version = governed_version(cast, evidence_store, "high", "caused")
    request = request_for(cast, model)
    approve_high(cast, request.id)
    before = Event.objects.order_by("-position").values_list("position", flat=True).first()
    revise_model_card(cast, evidence_store, version, b"a second model card", "caused")

    attached, voided, moved = _since(before)
    assert (attached.type, voided.type, moved.type) == (
        "governance.EvidenceAttached",
        "approvals.ApprovalVoided",
        "registry.ModelVersionStatusChanged",
    )
    # The owner's command recorded the evidence; the rest are reactions in its transaction,
    # each naming its own cause and carrying the owner as actor.
    assert "causation_id" not in attached.metadata
    assert voided.metadata["causation_id"] == f"{attached.stream_id}@{attached.version}"
    assert moved.metadata["causation_id"] == f"{voided.stream_id}@{voided.version}"
    assert {e.metadata["actor"] for e in (attached, voided, moved)} == {f"user:{cast.owner.pk}"}
    assert voided.metadata["idempotency_key"] != moved.metadata["idempotency_key"]


def test_reacting_again_to_a_failed_audit_opens_no_second_finding(cast, evidence_store):
    model, _, _ = approved_version(cast, evidence_store, "high")
    outcome = audits.run_bias_audit(
        actor=actor_of(cast.owner), model_id=model.id, number=1, spec=SPEC, rows=rows(0.8, 0.3)
    )
    (cause,) = store.read_stream(outcome.audit.id)
    count = Event.objects.count()

    with transaction.atomic():
        again = store.react([cause])

    # The finding, and the audit's link on the version's stream: both replays.
    assert all(result.replayed for result in again)
    assert {str(result.stream_id) for result in again} == {
        outcome.finding_id,
        str(outcome.audit.version_id),
    }
    assert Event.objects.count() == count
    assert Finding.objects.filter(source_id=str(outcome.audit.id)).count() == 1


def test_the_registry_refuses_promotion_when_no_gate_check_is_registered(
    cast, evidence_store, monkeypatch
):
    model, _ = governed_version(cast, evidence_store, "high", "ungated")
    approve_high(cast, request_for(cast, model).id)
    gate.require_promotion(model_id=model.id, number=1)
    monkeypatch.setattr(promotion, "_checks", [])
    with pytest.raises(GateNotConfigured):
        promotion.require_promotion(model_id=model.id, number=1)


def test_approvals_registers_its_gate_check_with_the_registry_at_start_up():
    assert gate.require_promotion in promotion._checks


def _standing(request_id) -> tuple:
    row = ApprovalStanding.objects.get(id=request_id)
    return (str(row.version_id), row.target, row.status, row.granted_at, row.suspended)


def _request_row(request_id) -> tuple:
    row = ApprovalRequest.objects.get(id=request_id)
    return (str(row.version_id), row.target, row.status, row.granted_at, row.suspended)


def test_governance_sees_each_approval_as_approvals_records_it_through_every_step(
    cast, evidence_store
):
    """Governance keeps its own view of approval standing (it may not read approvals' tables);
    at every step of a request's life it agrees with approvals' own read table."""
    model, version = governed_version(cast, evidence_store, "high", "standing")
    request = request_for(cast, model)
    officer = actor_of(cast.officer)
    steps = [
        lambda: None,
        lambda: approve_high(cast, request.id),
        lambda: approvals.suspend_approval(actor=officer, request_id=request.id, reason="look"),
        lambda: approvals.reinstate_approval(
            actor=actor_of(cast.reviewer("model-risk", 2)), request_id=request.id, reason="ok"
        ),
        lambda: revise_model_card(cast, evidence_store, version, b"a new card", "standing"),
        lambda: approve(cast, request.id, "legal", decision="request_changes"),
        lambda: approvals.withdraw_request(
            actor=actor_of(cast.owner), request_id=request.id, reason="start again"
        ),
    ]
    seen = set()
    for step in steps:
        step()
        assert _standing(request.id) == _request_row(request.id)
        seen.add(_request_row(request.id)[2:])
    assert {status for status, _, _ in seen} >= {"open", "approved", "changes_requested"}
    assert any(suspended for _, _, suspended in seen)


def test_a_non_compliance_naming_another_versions_approval_suspends_nothing(
    cast, evidence_store, meta
):
    model, _ = governed_version(cast, evidence_store, "high", "named")
    request = request_for(cast, model)
    approve_high(cast, request.id)
    other, other_version = governed_version(cast, evidence_store, "high", "other")
    # A review of the other version that names this version's approval.
    store.append(
        StreamRef(uuid.uuid4(), "governance.Review"),
        NO_STREAM,
        [
            VersionMarkedNonCompliant(
                model_id=other.id,
                version_id=other_version.id,
                version_number=1,
                reason="overdue",
                suspended_request_id=request.id,
            )
        ],
        meta,
    )
    assert not approval_streams.load_request(request.id).suspended
    gate.require_promotion(model_id=model.id, number=1)
