"""What an approval binds, tried from the attacker's side. A request opens only on the version's
verified artifact and snapshots the reviewed facts (the artifact's sha256, each evidence
document's sha256, the confirmed tier and the intake answers it was confirmed on, the policy
version); the gate allows promotion only while the current facts equal that snapshot, and names
what differs. New intake answers after the tier was confirmed put the tier back to proposed; a
tier confirmed other than a request's voids it, or suspends it in production."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from django.contrib.auth.models import Group

from approvals import commands as approvals
from approvals import events as approval_events
from approvals import streams as approval_streams
from approvals.errors import ArtifactNotVerified, RequestClosed
from core.actors import Actor
from eventstore import store as event_store
from eventstore.metadata import command_metadata
from eventstore.types import NO_STREAM, StreamRef
from governance import commands as governance
from governance.errors import RiskTierMissing
from registry import commands as registry
from registry.commands import VersionInput
from registry.streams import load_version
from tests.approvals.conftest import (
    INTAKE,
    actor_of,
    api,
    approve,
    governed_version,
    model_card,
    problem,
    revise_model_card,
    unique_name,
    upload,
    with_artifact,
)
from tests.governance.helpers import approved_version
from tests.helpers.admin import staff_client

pytestmark = pytest.mark.django_db


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def gate(user, name: str, number: int = 1) -> dict:
    response = api(user).get(f"/api/v1/models/{name}/versions/{number}/promotion/")
    assert response.status_code == 200, response.content
    return response.json()


def to_production(user, name: str, number: int = 1):
    return api(user).put(
        f"/api/v1/models/{name}/aliases/production/", {"version": number}, format="json"
    )


def deploy(user, name: str, number: int = 1):
    return api(user).patch(
        f"/api/v1/models/{name}/versions/{number}/", {"status": "deployed"}, format="json"
    )


def bare_version(cast, evidence_store, tier: str = "low"):
    """A governed model whose version 2 has its evidence but no artifact."""
    model, _ = governed_version(cast, evidence_store, tier, unique_name("bare"))
    owner = actor_of(cast.owner)
    version = registry.create_model_version(actor=owner, model_id=model.id, data=VersionInput())
    document = upload(evidence_store, version, "model_card", b"model card of v2")
    governance.attach_evidence(
        actor=owner,
        model_id=model.id,
        number=version.number,
        kind="model_card",
        summary=model_card(model.name, version.number),
        **document,
    )
    return model, version


# -- a request binds the artifact -------------------------------------------------------------


def test_a_version_without_an_artifact_cannot_be_put_up_for_approval(cast, evidence_store):
    model, version = bare_version(cast, evidence_store)
    owner = api(cast.owner)
    refused = owner.post(
        "/api/v1/approvals/", {"model": model.name, "version": version.number}, format="json"
    )
    body = problem(refused, 409, "artifact_not_verified")
    assert "artifact" in body["detail"]
    with pytest.raises(ArtifactNotVerified):
        approvals.request_approval(
            actor=actor_of(cast.owner), model_id=model.id, number=version.number
        )
    # The upload authorised but never verified does not count either.
    body_bytes = b"weights never verified"
    registry.authorize_artifact_upload(
        actor=actor_of(cast.owner),
        version_id=version.id,
        filename="model.bin",
        size=len(body_bytes),
        sha256=sha(body_bytes),
    )
    problem(
        owner.post(
            "/api/v1/approvals/", {"model": model.name, "version": version.number}, format="json"
        ),
        409,
        "artifact_not_verified",
    )


def _legacy_approval(cast, model, version) -> str:
    """An approval granted the way it was before requests bound the artifact: no snapshot."""
    request_id = uuid.uuid4()
    actor = Actor.user(cast.admin, auth_method="session")
    event_store.append(
        StreamRef(request_id, approval_events.REQUEST),
        NO_STREAM,
        [
            approval_events.ApprovalRequested(
                model_id=model.id,
                version_id=version.id,
                version_number=version.number,
                target="production",
                requester_id=cast.owner.pk,
                tier="low",
                policy_version=1,
                required_evidence=["model_card"],
                boards={"model-risk": 1},
                validity_days=365,
                notes="",
            ),
            approval_events.ApprovalGranted(
                expires_at="2999-01-01T00:00:00+00:00", conditions=[], evidence_version=1
            ),
        ],
        command_metadata(actor),
    )
    return str(request_id)


def test_the_gate_refuses_a_version_without_an_artifact_and_one_added_after_approval(
    cast, evidence_store
):
    model, version = bare_version(cast, evidence_store)
    _legacy_approval(cast, model, version)
    seen = gate(cast.owner, model.name, version.number)
    assert seen["allowed"] is False
    assert "artifact_missing" in seen["reasons"]
    problem(deploy(cast.owner, model.name, version.number), 409, "promotion_blocked")
    problem(to_production(cast.owner, model.name, version.number), 409, "promotion_blocked")

    # Any artifact added afterwards is not what was approved.
    with_artifact(cast.owner, version, b"weights added after the approval")
    seen = gate(cast.owner, model.name, version.number)
    assert seen["allowed"] is False
    assert "reviewed_facts_changed" in seen["reasons"]
    assert "artifact" in seen["changed"]
    body = problem(to_production(cast.owner, model.name, version.number), 409, "promotion_blocked")
    assert "artifact" in body["changed"]
    problem(deploy(cast.owner, model.name, version.number), 409, "promotion_blocked")


# -- the snapshot -----------------------------------------------------------------------------


def test_the_request_shows_the_reviewed_facts_it_binds(cast, evidence_store):
    _, version, request = approved_version(cast, evidence_store, "low")
    detail = api(cast.reviewer("model-risk")).get(f"/api/v1/approvals/{request.id}/")
    assert detail.status_code == 200, detail.content
    reviewed = detail.json()["reviewed"]
    stored = approval_streams.load_request(request.id)
    assert reviewed["artifact_sha256"] == stored.artifact_sha256 != ""
    assert reviewed["artifact_sha256"] == load_version(version.id).artifact_sha256
    assert set(reviewed["evidence"]) == {"model_card"}
    assert len(reviewed["evidence"]["model_card"]) == 64
    assert reviewed["tier"] == "low"
    assert reviewed["answers"] == INTAKE["low"]
    assert reviewed["policy_version"] >= 1


def test_a_changed_model_card_voids_the_approval_naming_it_and_takes_a_new_snapshot(
    cast, evidence_store
):
    model, version, request = approved_version(cast, evidence_store, "low")
    assert gate(cast.owner, model.name)["allowed"] is True
    before = approval_streams.load_request(request.id).evidence["model_card"]
    revise_model_card(cast, evidence_store, version, b"a card nobody reviewed", model.name)
    after = approval_streams.load_request(request.id)
    assert after.status == "open"
    assert "model_card" in after.void_reason
    assert after.evidence["model_card"] == sha(b"a card nobody reviewed") != before
    detail = api(cast.owner).get(f"/api/v1/approvals/{request.id}/").json()
    assert "model_card" in detail["void_reason"]
    assert detail["reviewed"]["evidence"]["model_card"] == sha(b"a card nobody reviewed")
    problem(to_production(cast.owner, model.name), 409, "promotion_blocked")
    # Reviewers decide again, on the new snapshot, and the gate opens.
    approve(cast, request.id, "model-risk", 1)
    assert gate(cast.owner, model.name)["allowed"] is True


# -- the tier cannot be talked down -----------------------------------------------------------


def test_answering_personal_data_false_after_confirmation_does_not_drop_the_dpia(
    cast, evidence_store
):
    model, _ = governed_version(cast, evidence_store, "high", unique_name("dpia"))
    owner = api(cast.owner)
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    assert "dpia" in request.required_evidence
    talked_down = {**INTAKE["high"], "personal_data": False}
    answered = owner.post(
        f"/api/v1/models/{model.name}/risk-tier/intake/", {"answers": talked_down}, format="json"
    )
    assert answered.status_code in (200, 201), answered.content
    # The tier is proposed again: nothing is requested or promoted on the old confirmation.
    risk = owner.get(f"/api/v1/models/{model.name}/risk-tier/").json()
    assert risk["tier"] in ("", None)
    seen = gate(cast.owner, model.name)
    assert seen["allowed"] is False and "tier" in seen["changed"]
    # The open request keeps the evidence it was made with.
    assert "dpia" in approval_streams.load_request(request.id).required_evidence
    approvals.withdraw_request(actor=actor_of(cast.owner), request_id=request.id, reason="redo")
    with pytest.raises(RiskTierMissing):
        approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    problem(
        owner.post("/api/v1/approvals/", {"model": model.name, "version": 1}, format="json"),
        409,
        "risk_tier_missing",
    )
    # The officer confirms again, on the new answers, and the request records them.
    governance.assign_risk_tier(actor=actor_of(cast.officer), model_id=model.id)
    again = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    assert again.answers == talked_down  # the officer confirmed on these answers


def test_a_model_retiered_to_critical_is_not_redeployed_on_its_low_tier_approval(
    cast, evidence_store
):
    model, _, request = approved_version(cast, evidence_store, "low")
    problem_free = deploy(cast.owner, model.name)
    assert problem_free.status_code == 200, problem_free.content
    governance.record_intake(
        actor=actor_of(cast.owner), model_id=model.id, answers=INTAKE["critical"]
    )
    assert gate(cast.owner, model.name)["allowed"] is False
    governance.assign_risk_tier(actor=actor_of(cast.officer), model_id=model.id)
    lapsed = approval_streams.load_request(request.id)
    assert lapsed.suspended and "critical" in lapsed.suspension_reason
    seen = gate(cast.owner, model.name)
    assert seen["allowed"] is False and "tier" in seen["changed"]
    # Another reviewer lifts the suspension: the low-tier approval still does not count.
    approvals.reinstate_approval(
        actor=actor_of(cast.reviewer("model-risk", 2)), request_id=request.id, reason="lifted"
    )
    seen = gate(cast.owner, model.name)
    assert seen["allowed"] is False and "tier" in seen["changed"]
    withdrawn = api(cast.owner).patch(
        f"/api/v1/models/{model.name}/versions/1/", {"status": "deprecated"}, format="json"
    )
    assert withdrawn.status_code == 200, withdrawn.content
    body = problem(deploy(cast.owner, model.name), 409, "promotion_blocked")
    assert body["changed"] == ["tier"]
    problem(to_production(cast.owner, model.name), 409, "promotion_blocked")


def test_an_officer_override_to_a_higher_tier_voids_an_open_or_granted_request(
    cast, evidence_store
):
    model, _, request = approved_version(cast, evidence_store, "low")
    governance.assign_risk_tier(
        actor=actor_of(cast.officer),
        model_id=model.id,
        tier="high",
        reason="the use widened to credit decisions",
    )
    voided = approval_streams.load_request(request.id)
    assert voided.status == "voided" and "high" in voided.void_reason
    detail = api(cast.owner).get(f"/api/v1/approvals/{request.id}/").json()
    assert detail["status"] == "voided"
    problem(to_production(cast.owner, model.name), 409, "promotion_blocked")
    problem(deploy(cast.owner, model.name), 409, "promotion_blocked")
    # A decision on the voided request is refused; a new request is made under the new tier.
    with pytest.raises(RequestClosed):
        approve(cast, request.id, "model-risk", 1)
    fresh = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    assert fresh.tier == "high"


def _second_team(*members) -> Group:
    """Another team the owner also belongs to, with `members` in it as well."""
    group = Group.objects.create(name=unique_name("payments-ml"))
    for user in members:
        user.groups.add(group)
    return group


def move_model(user, name: str, team: str):
    return api(user).patch(f"/api/v1/models/{name}/", {"team": team}, format="json")


def test_moving_the_model_to_another_team_mid_review_voids_the_open_request(cast, evidence_store):
    model, _ = governed_version(cast, evidence_store, "high", unique_name("moved"))
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    approve(cast, request.id, "model-risk", 1)
    other = _second_team(cast.owner)
    moved = move_model(cast.owner, model.name, other.name)
    assert moved.status_code == 200, moved.content
    voided = approval_streams.load_request(request.id)
    assert voided.status == "voided"
    assert "owning team" in voided.void_reason and other.name in voided.void_reason
    # The reviewers read why, in the API and on the admin's approval page.
    reviewer = cast.reviewer("model-risk", 1)
    detail = api(reviewer).get(f"/api/v1/approvals/{request.id}/")
    assert detail.status_code == 200, detail.content
    assert detail.json()["status"] == "voided"
    assert detail.json()["void_reason"] == voided.void_reason
    page = staff_client(reviewer).get(f"/admin/approvals/approvalrequest/{request.id}/change/")
    assert page.status_code == 200
    assert "owning team" in page.content.decode()
    assert "decision=approve" not in page.content.decode()  # no buttons on a closed request
    # No further decision lands on it, and the gate refuses the version.
    with pytest.raises(RequestClosed):
        approve(cast, request.id, "model-risk", 2)
    assert gate(cast.owner, model.name)["allowed"] is False
    problem(to_production(cast.owner, model.name), 409, "promotion_blocked")
    # A new request is made for the new owners, and judged against them.
    fresh = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    assert fresh.status == "open"


def test_a_move_voids_only_the_open_requests_of_the_models_versions(cast, evidence_store):
    moved, _ = governed_version(cast, evidence_store, "high", unique_name("moved"))
    kept, _ = governed_version(cast, evidence_store, "high", unique_name("kept"))
    open_request = approvals.request_approval(
        actor=actor_of(cast.owner), model_id=moved.id, number=1
    )
    untouched = approvals.request_approval(actor=actor_of(cast.owner), model_id=kept.id, number=1)
    other = _second_team(cast.owner)
    assert move_model(cast.owner, moved.name, other.name).status_code == 200
    assert approval_streams.load_request(open_request.id).status == "voided"
    assert approval_streams.load_request(untouched.id).status == "open"
    # Moving it again with no open request voids nothing more.
    before = len(event_store.read_stream(open_request.id))
    assert move_model(cast.owner, moved.name, "fraud-ml").status_code == 200
    assert len(event_store.read_stream(open_request.id)) == before
