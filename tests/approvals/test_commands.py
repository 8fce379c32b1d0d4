"""Approval commands against the real event store: separation of duties, distinct quorum,
expiry and voiding on the clock, policy versions kept by requests, waivers, suspensions."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from approvals import commands as approvals
from approvals import gate
from approvals import streams as approval_streams
from approvals.errors import PromotionBlocked, RequestClosed
from boards import commands as board_commands
from boards.errors import NotBoardChair, NotBoardMember, SeparationOfDuties
from core import clock
from eventstore.models import Event
from governance import commands as governance
from governance import queries as governance_queries
from governance import streams as governance_streams
from governance.errors import OverrideNeedsReason
from registry import commands as registry
from registry import streams as registry_streams
from registry.commands import VersionInput
from tests.api.conftest import client_for
from tests.approvals.conftest import (
    actor_of,
    approve,
    approve_high,
    governed_version,
    request_for,
    revise_model_card,
    with_artifact,
)
from tests.conftest import make_user

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_each_separation_of_duties_violation_is_refused_with_its_code_and_appends_nothing(
    cast, evidence_store, team
):
    admin = actor_of(cast.admin)
    author = make_user("ari-author", superuser=True)
    requester = make_user("rex-requester", superuser=True)
    insider = make_user("ian-insider", team)
    model, _ = governed_version(cast, evidence_store, "low", "sod-model")
    second = registry.create_model_version(
        actor=actor_of(author), model_id=model.id, data=VersionInput()
    )
    with_artifact(author, second, b"weights of the second version")
    request = approvals.request_approval(
        actor=actor_of(requester), model_id=model.id, number=second.number
    )
    for person in (author, requester, insider):
        board_commands.add_board_member(actor=admin, board="model-risk", user_id=person.pk)
    cases = {"sod_author": author, "sod_requester": requester, "sod_owner": insider}
    for code, person in cases.items():
        before = Event.objects.count()
        response = client_for(person).post(
            f"/api/v1/approvals/{request.id}/decisions/",
            {"board": "model-risk", "decision": "approve", "rationale": "looks fine"},
            format="json",
        )
        assert response.status_code == 403, response.content
        assert response["Content-Type"].startswith("application/problem+json")
        assert response.json()["code"] == code
        assert Event.objects.count() == before
        with pytest.raises(SeparationOfDuties) as refused:
            approvals.record_decision(
                actor=actor_of(person),
                request_id=request.id,
                board="model-risk",
                decision="reject",
                rationale="no",
            )
        assert refused.value.code == code
        assert Event.objects.count() == before


def test_non_member_cannot_decide_and_nothing_is_appended(cast, evidence_store, outsider):
    model, _ = governed_version(cast, evidence_store, "low", "members-only")
    request = request_for(cast, model)
    before = Event.objects.count()
    with pytest.raises(NotBoardMember):
        approvals.record_decision(
            actor=actor_of(outsider),
            request_id=request.id,
            board="model-risk",
            decision="approve",
            rationale="yes",
        )
    assert Event.objects.count() == before


def test_quorum_counts_distinct_people_when_one_sits_on_two_boards(cast, evidence_store):
    dual = cast.reviewer("model-risk", 1)
    board_commands.add_board_member(actor=actor_of(cast.admin), board="legal", user_id=dual.pk)
    model, _ = governed_version(cast, evidence_store, "high", "distinct")
    request = request_for(cast, model)
    approve(cast, request.id, "model-risk", 1)
    state = approvals.record_decision(
        actor=actor_of(dual),
        request_id=request.id,
        board="legal",
        decision="approve",
        rationale="also legal",
    )
    approve(cast, request.id, "model-risk", 0)
    state = approve(cast, request.id, "ethics", 0)
    assert state.status == "open"
    found = gate.assess_promotion(model_id=model.id, number=1)
    assert {c.board: c.have for c in found.boards} == {"model-risk": 2, "legal": 0, "ethics": 1}
    assert (found.quorum_needed, found.quorum_have) == (4, 3)
    state = approve(cast, request.id, "legal", 0)
    assert state.status == "approved"


def test_approval_expires_after_the_policy_validity_when_the_clock_moves(cast, evidence_store):
    with clock.frozen(T0) as frozen:
        model, _ = governed_version(cast, evidence_store, "high", "expiring")
        request = request_for(cast, model)
        state = approve_high(cast, request.id)
        assert state.expires_at == T0 + timedelta(days=91)
        gate.require_promotion(model_id=model.id, number=1)
        frozen.advance(timedelta(days=91))
        with pytest.raises(PromotionBlocked) as blocked:
            registry.assign_alias(
                actor=actor_of(cast.owner), model_id=model.id, alias="production", version=1
            )
        assert blocked.value.extra["expired"] is True
        assert blocked.value.extra["reasons"] == ["approval_expired"]


def test_approval_is_void_when_evidence_changes_after_it_and_counts_again_when_reapproved(
    cast, evidence_store
):
    from approvals import queries
    from eventstore.models import OutboxMessage

    model, version = governed_version(cast, evidence_store, "high", "voided")
    request = request_for(cast, model)
    approve_high(cast, request.id)
    gate.require_promotion(model_id=model.id, number=1)
    reviewers = [cast.reviewer(b, i) for b, i in (("model-risk", 0), ("legal", 0))]
    assert all(not queries.pending_for(r).filter(id=request.id).exists() for r in reviewers)
    assert registry_streams.load_version(version.id).status == "approved"
    before_version = registry_streams.load_version(version.id).stream_version
    before = Event.objects.order_by("-position").values_list("position", flat=True).first()
    revise_model_card(cast, evidence_store, version, b"a revised model card", "voided")
    appended = list(
        Event.objects.filter(position__gt=before).order_by("position").values_list("type", "data")
    )
    assert [t for t, _ in appended] == [
        "governance.EvidenceAttached",
        "approvals.ApprovalVoided",
        "registry.ModelVersionStatusChanged",
    ]
    voided = appended[1][1]
    assert voided["previous_status"] == "approved"
    assert voided["voided_decisions"] == 4
    assert voided["evidence_version"] == governance_streams.load_evidence(version.id).stream_version
    # The version is back in review: it no longer shows an approval that stopped counting.
    moved = appended[2][1]
    assert (moved["from_status"], moved["to_status"]) == ("approved", "in_review")
    assert "voided" in moved["reason"]
    assert registry_streams.load_version(version.id).status == "in_review"
    assert registry_streams.load_version(version.id).stream_version == before_version + 1
    state = approval_streams.load_request(request.id)
    assert state.status == "open"
    assert state.expires_at is None and state.conditions == ()
    assert all(queries.pending_for(r).filter(id=request.id).exists() for r in reviewers)
    notice = OutboxMessage.objects.filter(task="approvals.notify").order_by("-created_at").first()
    assert notice.kwargs["event"] == "voided"
    assert notice.kwargs["request_id"] == request.id
    everyone = {u.pk for board in ("model-risk", "legal", "ethics") for u in cast.members[board]}
    assert set(notice.kwargs["user_ids"]) == everyone

    found = gate.assess_promotion(model_id=model.id, number=1)
    assert found.reasons == ["request_open", "quorum_not_met"]
    assert found.quorum_have == 0
    with pytest.raises(PromotionBlocked):
        gate.require_promotion(model_id=model.id, number=1)

    state = approve_high(cast, request.id)
    assert state.status == "approved"
    assert registry_streams.load_version(version.id).status == "approved"
    assert not any(queries.pending_for(r).filter(id=request.id).exists() for r in reviewers)
    gate.require_promotion(model_id=model.id, number=1)


def test_changes_requested_request_opens_again_when_the_owner_changes_the_evidence(
    cast, evidence_store
):
    from approvals import queries

    model, version = governed_version(cast, evidence_store, "low", "revised")
    request = request_for(cast, model)
    reviewer = cast.reviewer("model-risk", 1)
    approve(cast, request.id, "model-risk", 1, decision="request_changes", rationale="more")
    assert approval_streams.load_request(request.id).status == "changes_requested"
    assert not queries.pending_for(reviewer).filter(id=request.id).exists()
    revise_model_card(cast, evidence_store, version, b"the card, revised", "revised")
    assert approval_streams.load_request(request.id).status == "open"
    assert queries.pending_for(reviewer).filter(id=request.id).exists()
    # A second change with no decision since voids no decision, and the request takes a new
    # snapshot of the evidence all the same.
    revise_model_card(cast, evidence_store, version, b"the card, revised twice", "revised")
    voids = Event.objects.filter(stream_id=request.id, type="approvals.ApprovalVoided")
    assert [v.data["voided_decisions"] for v in voids.order_by("position")] == [1, 0]
    assert approval_streams.load_request(request.id).evidence["model_card"] == (
        hashlib.sha256(b"the card, revised twice").hexdigest()
    )
    assert approve(cast, request.id, "model-risk", 1).status == "approved"


def test_open_request_keeps_its_policy_when_the_policy_changes(cast, evidence_store):
    model, _ = governed_version(cast, evidence_store, "high", "kept-policy")
    request = request_for(cast, model)
    before = governance_queries.current_policy()
    changed = governance.record_policy_version(
        actor=actor_of(cast.admin),
        changes={"high": {"boards": {"model-risk": 3, "legal": 1, "ethics": 1}}},
        reason="three model-risk reviewers for high tier",
    )
    assert changed.number == before.number + 1
    assert changed.tiers["high"]["boards"]["model-risk"] == 3
    assert approval_streams.load_request(request.id).boards["model-risk"] == 2
    assert approve_high(cast, request.id).status == "approved"
    other, _ = governed_version(cast, evidence_store, "high", "new-policy")
    later = request_for(cast, other)
    assert later.boards["model-risk"] == 3
    assert later.policy_version == changed.number


def test_reject_closes_the_request_and_rejects_the_version(cast, evidence_store):
    model, version = governed_version(cast, evidence_store, "low", "rejected")
    request = request_for(cast, model)
    state = approve(cast, request.id, "model-risk", 1, decision="reject", rationale="leaky")
    assert state.status == "rejected"
    assert registry_streams.load_version(version.id).status == "rejected"
    with pytest.raises(RequestClosed):
        approve(cast, request.id, "model-risk", 0)
    again = request_for(cast, model)
    assert again.status == "open"
    assert registry_streams.load_version(version.id).status == "in_review"


def test_withdrawn_request_takes_no_decisions_and_returns_the_version_to_draft(
    cast, evidence_store
):
    model, version = governed_version(cast, evidence_store, "low", "withdrawn")
    request = request_for(cast, model)
    state = approvals.withdraw_request(
        actor=actor_of(cast.owner), request_id=request.id, reason="not ready"
    )
    assert state.status == "withdrawn"
    assert registry_streams.load_version(version.id).status == "draft"
    with pytest.raises(RequestClosed):
        approve(cast, request.id, "model-risk", 1)


def test_waiver_stands_in_for_missing_evidence_until_it_expires(cast, evidence_store):
    with clock.frozen(T0) as frozen:
        model, _ = governed_version(cast, evidence_store, "medium", "waived", skip=("bias_audit",))
        with pytest.raises(NotBoardChair):
            governance.grant_waiver(
                actor=actor_of(cast.reviewer("model-risk", 1)),
                model_id=model.id,
                number=1,
                kind="bias_audit",
                reason="audit data arrives next month",
                expires_at=T0 + timedelta(days=30),
            )
        evidence = governance.grant_waiver(
            actor=actor_of(cast.officer),
            model_id=model.id,
            number=1,
            kind="bias_audit",
            reason="audit data arrives next month",
            expires_at=T0 + timedelta(days=30),
        )
        assert evidence.satisfied("bias_audit", clock.now())
        request = request_for(cast, model)
        assert approve(cast, request.id, "model-risk", 1).status == "approved"
        gate.require_promotion(model_id=model.id, number=1)
        frozen.advance(timedelta(days=30))
        found = gate.assess_promotion(model_id=model.id, number=1)
        assert found.missing_evidence == ["bias_audit"]


def test_suspension_blocks_the_gate_at_once_and_reinstatement_lifts_it(cast, evidence_store):
    model, _ = governed_version(cast, evidence_store, "low", "suspended")
    request = request_for(cast, model)
    approve(cast, request.id, "model-risk", 1)
    gate.require_promotion(model_id=model.id, number=1)
    officer = actor_of(cast.officer)
    governance.suspend_model(actor=officer, model_id=model.id, reason="incident 42")
    with pytest.raises(PromotionBlocked) as blocked:
        registry.assign_alias(
            actor=actor_of(cast.owner), model_id=model.id, alias="production", version=1
        )
    assert blocked.value.extra["suspended"] == ["model"]
    # A suspension is lifted by someone other than the one who suspended.
    second = actor_of(make_user("omar-officer", perms=("governance.assign_risk_tier",)))
    governance.reinstate_model(actor=second, model_id=model.id, reason="fixed")
    approvals.suspend_approval(actor=officer, request_id=request.id, reason="review overdue")
    assert gate.assess_promotion(model_id=model.id, number=1).suspended == ["approval"]
    approvals.reinstate_approval(
        actor=actor_of(cast.reviewer("model-risk", 2)), request_id=request.id, reason="reviewed"
    )
    gate.require_promotion(model_id=model.id, number=1)


def test_tier_override_needs_a_reason_and_owners_cannot_set_the_tier(cast, evidence_store, team):
    model, _ = governed_version(cast, evidence_store, "low", "tiered")
    with pytest.raises(OverrideNeedsReason):
        governance.assign_risk_tier(actor=actor_of(cast.officer), model_id=model.id, tier="high")
    state = governance.assign_risk_tier(
        actor=actor_of(cast.officer), model_id=model.id, tier="high", reason="customer facing"
    )
    assert (state.tier, state.proposed_tier, state.overridden) == ("high", "low", True)
    insider = make_user("ivy-insider", team, perms=("governance.assign_risk_tier",))
    with pytest.raises(SeparationOfDuties) as refused:
        governance.assign_risk_tier(actor=actor_of(insider), model_id=model.id)
    assert refused.value.code == "sod_owner"


def test_a_deployed_version_whose_approval_is_voided_stays_deployed_and_opens_a_finding(
    cast, evidence_store
):
    from governance.models import Finding

    model, version = governed_version(cast, evidence_store, "high", "deployed-voided")
    request = request_for(cast, model)
    approve_high(cast, request.id)
    registry.transition_model_version(
        actor=actor_of(cast.owner),
        version_id=version.id,
        expected_version=None,
        to_status="deployed",
    )
    revise_model_card(cast, evidence_store, version, b"revised in production", "deployed-voided")
    # No legal move takes a running deployment back into review: it stays deployed, and the
    # boards and owners get a finding to resolve (re-approve, or take the version down).
    assert registry_streams.load_version(version.id).status == "deployed"
    assert approval_streams.load_request(request.id).status == "open"
    (finding,) = Finding.objects.filter(version_id=version.id, source="approval_voided")
    assert finding.severity == "high" and finding.status == "open"
    assert finding.owner_team == model.team
    assert sorted(finding.boards) == ["ethics", "legal", "model-risk"]
    assert "deployed" in finding.title and "voided" in finding.title
    # A second change with no decision since voids nothing more and opens nothing more.
    revise_model_card(cast, evidence_store, version, b"revised again", "deployed-voided")
    assert Finding.objects.filter(version_id=version.id, source="approval_voided").count() == 1
    # Approved again and changed again: that void opens a finding of its own.
    approve_high(cast, request.id)
    revise_model_card(cast, evidence_store, version, b"revised a third time", "deployed-voided")
    assert Finding.objects.filter(version_id=version.id, source="approval_voided").count() == 2


def test_decision_is_refused_and_nothing_appended_when_the_evidence_moved_since_it_was_seen(
    cast, evidence_store
):
    from eventstore.types import ConcurrencyConflict

    model, version = governed_version(cast, evidence_store, "low", "seen-evidence")
    request = request_for(cast, model)
    evidence = governance_streams.evidence_stream_id(version.id)
    seen = {
        request.id: request.stream_version,
        evidence: governance_streams.load_evidence(version.id).stream_version,
        version.id: registry.load_version(version.id).stream_version,
    }
    revise_model_card(cast, evidence_store, version, b"a card the reviewer never saw", "seen")
    # The request took a new snapshot of the evidence (its stream moved by that alone).
    assert approvals.load_request(request.id).stream_version == seen[request.id] + 1
    seen[request.id] += 1
    before = Event.objects.count()
    with pytest.raises(ConcurrencyConflict) as caught:
        approve(cast, request.id, "model-risk", 1, expected_versions=seen)
    assert caught.value.stream_id == evidence
    assert (caught.value.expected, caught.value.actual) == (seen[evidence], seen[evidence] + 1)
    assert Event.objects.count() == before

    seen[evidence] += 1
    state = approve(cast, request.id, "model-risk", 1, expected_versions=seen)
    assert state.decisions[-1].evidence_version == seen[evidence]
