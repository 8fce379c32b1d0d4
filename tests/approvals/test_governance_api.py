"""Governance and approval rules over the API: conditions, policy versions, waivers,
withdrawal, suspension, the review queue filter and refusals that change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import Group

from approvals import commands as approvals
from approvals import streams as approval_streams
from core import clock
from eventstore.models import Event
from governance import queries as governance_queries
from governance import streams as governance_streams
from tests.approvals.conftest import (
    actor_of,
    api,
    governed_version,
    model_card,
    problem,
    revise_model_card,
    upload,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def last_position() -> int:
    return Event.objects.order_by("-position").values_list("position", flat=True).first() or 0


def appended_since(position: int) -> list[str]:
    return list(
        Event.objects.filter(position__gt=position)
        .order_by("position")
        .values_list("type", flat=True)
    )


def requested(cast, store, tier: str, name: str, **kwargs):
    model, version = governed_version(cast, store, tier, name, **kwargs)
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    return model, version, request


def decide(user, request_id: str, board: str, decision: str = "approve", **extra):
    return api(user).post(
        f"/api/v1/approvals/{request_id}/decisions/",
        {"board": board, "decision": decision, "rationale": "evidence reviewed", **extra},
        format="json",
    )


def test_conditions_given_with_an_approval_reach_the_grant_when_the_quorum_is_met(
    cast, evidence_store
):
    _, _, request = requested(cast, evidence_store, "low", "conditional")
    conditions = ["monitor drift weekly", "re-audit after 10k decisions"]
    raj = cast.reviewer("model-risk", 1)
    response = decide(raj, request.id, "model-risk", conditions=conditions)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "approved"
    assert sorted(body["conditions"]) == sorted(conditions)
    assert body["decisions"][-1]["conditions"] == conditions
    granted = Event.objects.get(stream_id=request.id, type="approvals.ApprovalGranted")
    assert sorted(granted.data["conditions"]) == sorted(conditions)
    shown = api(cast.owner).get(f"/api/v1/approvals/{request.id}/").json()
    assert sorted(shown["conditions"]) == sorted(conditions)


def test_conditions_are_refused_when_the_decision_is_not_an_approval(cast, evidence_store):
    _, _, request = requested(cast, evidence_store, "low", "unconditional")
    before = last_position()
    for decision in ("reject", "request_changes"):
        problem(
            decide(
                cast.reviewer("model-risk", 1),
                request.id,
                "model-risk",
                decision,
                conditions=["only if"],
            ),
            422,
            "unprocessable",
        )
    assert appended_since(before) == []
    assert approval_streams.load_request(request.id).status == "open"


def test_policy_version_is_recorded_only_when_a_policy_admin_posts_it(cast):
    current = governance_queries.current_policy()
    change = {"changes": {"high": {"boards": {"model-risk": 3}}}, "reason": "stricter review"}
    before = last_position()
    for user in (cast.owner, cast.officer, cast.reviewer("legal")):
        problem(api(user).post("/api/v1/policies/", change, format="json"), 403, "not_policy_admin")
    assert appended_since(before) == []
    created = api(cast.admin).post("/api/v1/policies/", change, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["number"] == current.number + 1
    assert created.json()["tiers"]["high"]["boards"]["model-risk"] == 3
    assert appended_since(before) == ["governance.PolicyVersionRecorded"]
    assert governance_queries.current_policy().number == current.number + 1


def test_new_version_audits_are_a_policy_field_set_over_the_api_when_a_boolean(cast):
    admin = api(cast.admin)
    before = last_position()
    wrong = {"changes": {"high": {"bias_audit_on_new_version": "yes"}}, "reason": "audit all"}
    problem(admin.post("/api/v1/policies/", wrong, format="json"), 400, "invalid_input")
    assert appended_since(before) == []
    right = {"changes": {"high": {"bias_audit_on_new_version": True}}, "reason": "audit all"}
    created = admin.post("/api/v1/policies/", right, format="json")
    assert created.status_code == 201, created.content
    tiers = created.json()["tiers"]
    assert tiers["high"]["bias_audit_on_new_version"] is True
    assert tiers["critical"]["bias_audit_on_new_version"] is True
    assert tiers["medium"]["bias_audit_on_new_version"] is False


def test_waiver_is_granted_only_by_the_model_risk_chair_and_lapses_when_it_expires(
    cast, evidence_store
):
    with clock.frozen(T0) as frozen:
        model, _ = governed_version(
            cast, evidence_store, "medium", "waiver-api", skip=("bias_audit",)
        )
        url = "/api/v1/models/waiver-api/versions/1/waivers/"
        body = {
            "kind": "bias_audit",
            "reason": "audit data arrives next month",
            "expires_at": (T0 + timedelta(days=30)).isoformat(),
        }
        before = last_position()
        problem(api(cast.owner).post(url, body, format="json"), 403, "not_board_chair")
        problem(
            api(cast.reviewer("model-risk", 1)).post(url, body, format="json"),
            403,
            "not_board_chair",
        )
        past = {**body, "expires_at": (T0 - timedelta(days=1)).isoformat()}
        problem(api(cast.officer).post(url, past, format="json"), 422, "invalid_waiver")
        assert appended_since(before) == []
        granted = api(cast.officer).post(url, body, format="json")
        assert granted.status_code == 201, granted.content
        assert appended_since(before) == ["governance.EvidenceWaived"]

        request = approvals.request_approval(
            actor=actor_of(cast.owner), model_id=model.id, number=1
        )
        assert decide(cast.reviewer("model-risk", 1), request.id, "model-risk").status_code == 201
        gate = "/api/v1/models/waiver-api/versions/1/promotion/"
        assert api(cast.owner).get(gate).json()["allowed"] is True
        frozen.advance(timedelta(days=30))
        lapsed = api(cast.owner).get(gate).json()
        assert lapsed["allowed"] is False
        assert lapsed["missing_evidence"] == ["bias_audit"]


def test_waiver_is_refused_when_the_chair_owns_the_model(cast, evidence_store):
    governed_version(cast, evidence_store, "medium", "chair-owned", skip=("bias_audit",))
    cast.officer.groups.add(Group.objects.get(name="fraud-ml"))
    before = last_position()
    problem(
        api(cast.officer).post(
            "/api/v1/models/chair-owned/versions/1/waivers/",
            {
                "kind": "bias_audit",
                "reason": "my own model",
                "expires_at": (clock.now() + timedelta(days=30)).isoformat(),
            },
            format="json",
        ),
        403,
        "sod_owner",
    )
    assert appended_since(before) == []


def test_withdrawal_over_the_api_closes_the_request_when_the_requester_asks(cast, evidence_store):
    _, _, request = requested(cast, evidence_store, "low", "withdrawn-api")
    url = f"/api/v1/approvals/{request.id}/withdraw/"
    problem(
        api(cast.reviewer("model-risk", 1)).post(url, {"reason": "not mine"}, format="json"),
        403,
        "not_requester",
    )
    done = api(cast.owner).post(url, {"reason": "retraining first"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "withdrawn"
    assert api(cast.owner).get("/api/v1/models/withdrawn-api/versions/1/").json()["status"] == (
        "draft"
    )
    problem(decide(cast.reviewer("model-risk", 1), request.id, "model-risk"), 409, "request_closed")
    problem(api(cast.owner).post(url, {"reason": "again"}, format="json"), 409, "request_closed")


def test_suspension_over_the_api_blocks_the_gate_until_reinstated(cast, evidence_store):
    _, _, request = requested(cast, evidence_store, "low", "suspended-api")
    assert decide(cast.reviewer("model-risk", 1), request.id, "model-risk").status_code == 201
    gate = "/api/v1/models/suspended-api/versions/1/promotion/"
    owner = api(cast.owner)
    assert owner.get(gate).json()["allowed"] is True
    suspension = f"/api/v1/approvals/{request.id}/suspension/"
    reinstatement = f"/api/v1/approvals/{request.id}/reinstatement/"
    problem(
        api(cast.reviewer("legal")).post(suspension, {"reason": "incident"}, format="json"),
        404,
        "approval_request_not_found",
    )
    problem(owner.post(suspension, {"reason": "incident"}, format="json"), 403, "not_board_member")
    problem(
        owner.post(reinstatement, {"reason": "nothing to lift"}, format="json"),
        403,
        "not_board_member",
    )
    risk = api(cast.reviewer("model-risk", 2))
    problem(risk.post(reinstatement, {"reason": "x"}, format="json"), 409, "not_suspended")
    done = risk.post(suspension, {"reason": "incident under investigation"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["suspended"] is True
    blocked = owner.get(gate).json()
    assert blocked["allowed"] is False
    assert blocked["suspended"] == ["approval"]
    production = "/api/v1/models/suspended-api/aliases/production/"
    body = problem(
        owner.put(production, {"version": 1}, format="json"),
        409,
        "promotion_blocked",
    )
    assert body["suspended"] == ["approval"]
    problem(risk.post(suspension, {"reason": "again"}, format="json"), 409, "already_suspended")
    problem(
        risk.post(reinstatement, {"reason": "my own call"}, format="json"), 403, "sod_suspender"
    )
    lifted = api(cast.reviewer("model-risk", 0)).post(
        reinstatement, {"reason": "incident closed"}, format="json"
    )
    assert lifted.status_code == 200, lifted.content
    assert lifted.json()["suspended"] is False
    assert owner.get(gate).json()["allowed"] is True
    moved = owner.put(production, {"version": 1}, format="json")
    assert moved.status_code == 200, moved.content


def test_mine_pending_lists_only_requests_waiting_for_my_decision(cast, evidence_store):
    _, _, low = requested(cast, evidence_store, "low", "queue-low")
    _, _, high = requested(cast, evidence_store, "high", "queue-high")
    raj, lena = cast.reviewer("model-risk", 1), cast.reviewer("legal")

    def pending(user) -> set[str]:
        response = api(user).get("/api/v1/approvals/?mine=pending")
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert pending(raj) == {low.id, high.id}
    assert pending(lena) == {high.id}
    assert pending(cast.owner) == set()
    assert decide(raj, low.id, "model-risk").status_code == 201
    assert pending(raj) == {high.id}
    assert pending(cast.reviewer("model-risk", 2)) == {high.id}
    problem(api(raj).get("/api/v1/approvals/?mine=everything"), 400, "validation_error")


def test_a_voided_approval_sends_the_version_back_to_review_and_deploying_is_refused(
    cast, evidence_store
):
    _, version, request = requested(cast, evidence_store, "low", "unapproved")
    url = "/api/v1/models/unapproved/versions/1/"
    assert decide(cast.reviewer("model-risk", 1), request.id, "model-risk").status_code == 201
    assert api(cast.owner).get(url).json()["status"] == "approved"
    revise_model_card(cast, evidence_store, version, b"a changed card", "unapproved")
    assert api(cast.owner).get(url).json()["status"] == "in_review"
    history = api(cast.owner).get(url + "history/").json()["results"]
    assert history[-1]["type"] == "registry.ModelVersionStatusChanged"
    assert (history[-1]["data"]["from_status"], history[-1]["data"]["to_status"]) == (
        "approved",
        "in_review",
    )
    before = last_position()
    problem(
        api(cast.owner).patch(url, {"status": "deployed"}, format="json"),
        409,
        "invalid_transition",
    )
    # Nor can a client put the approval back by hand.
    problem(
        api(cast.owner).patch(url, {"status": "approved"}, format="json"),
        403,
        "sod_violation",
    )
    assert appended_since(before) == []
    # Approved again on the changed evidence, the version is approved and may be deployed.
    assert decide(cast.reviewer("model-risk", 1), request.id, "model-risk").status_code == 201
    assert api(cast.owner).get(url).json()["status"] == "approved"
    assert api(cast.owner).patch(url, {"status": "deployed"}, format="json").status_code == 200


def test_deployed_status_is_refused_when_the_version_was_never_reviewed(cast, evidence_store):
    governed_version(cast, evidence_store, "low", "unreviewed")
    before = last_position()
    problem(
        api(cast.owner).patch(
            "/api/v1/models/unreviewed/versions/1/", {"status": "deployed"}, format="json"
        ),
        409,
        "invalid_transition",
    )
    assert appended_since(before) == []


def test_model_card_is_refused_when_a_required_field_is_missing(cast, evidence_store):
    _, version = governed_version(cast, evidence_store, "low", "thin-card", skip=("model_card",))
    document = upload(evidence_store, version, "model_card", b"thin card")
    card = model_card("thin-card", 1)
    del card["intended_use"]
    before = last_position()
    body = problem(
        api(cast.owner).post(
            "/api/v1/models/thin-card/versions/1/evidence/",
            {"kind": "model_card", **document, "summary": card},
            format="json",
        ),
        422,
        "incomplete_model_card",
    )
    assert "intended_use" in body["detail"]
    assert appended_since(before) == []
    assert governance_streams.load_evidence(version.id).items == {}


def test_deployed_status_is_blocked_when_the_approval_has_expired(cast, evidence_store):
    _, _, request = requested(cast, evidence_store, "low", "expired-api")
    assert decide(cast.reviewer("model-risk", 1), request.id, "model-risk").status_code == 201
    url = "/api/v1/models/expired-api/versions/1/"
    assert api(cast.owner).get(url).json()["status"] == "approved"
    expires_at = approval_streams.load_request(request.id).expires_at
    with clock.frozen(expires_at + timedelta(seconds=1)):
        before = last_position()
        body = problem(
            api(cast.owner).patch(url, {"status": "deployed"}, format="json"),
            409,
            "promotion_blocked",
        )
        assert body["expired"] is True
        assert appended_since(before) == []
    assert api(cast.owner).get(url).json()["status"] == "approved"
