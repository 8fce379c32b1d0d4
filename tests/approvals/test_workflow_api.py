"""The whole governance workflow over the API for every tier: intake, tier confirmation,
evidence, an approval request, the boards' decisions, and the promotion gate."""

from __future__ import annotations

from hashlib import sha256

import pytest

from eventstore.models import Event
from registry import queries as registry_queries
from tests.approvals.conftest import (
    AUDIT_SPEC,
    INTAKE,
    api,
    evaluation_csv,
    model_card,
    problem,
    upload,
)

REQUIRED = {
    "low": ["model_card"],
    "medium": ["model_card", "bias_audit"],
    "high": [
        "model_card",
        "bias_audit",
        "explainability_report",
        "validation_report",
        "dpia",
    ],
    "critical": [
        "model_card",
        "bias_audit",
        "explainability_report",
        "validation_report",
        "human_oversight_plan",
        "monitoring_plan",
        "regulatory_signoff",
        "dpia",
    ],
}
BOARDS = {
    "low": {"model-risk": 1},
    "medium": {"model-risk": 1},
    "high": {"model-risk": 2, "legal": 1, "ethics": 1},
    "critical": {"model-risk": 2, "legal": 1, "ethics": 2, "security": 1},
}


def prepare(cast, store, tier: str, name: str) -> dict:
    """Register, answer the intake, confirm the tier and attach the evidence the tier needs."""
    owner = api(cast.owner)
    assert (
        owner.post("/api/v1/models/", {"name": name, "team": "fraud-ml"}, format="json").status_code
        == 201
    )
    assert owner.post(f"/api/v1/models/{name}/versions/", {}, format="json").status_code == 201
    weights = f"weights of {name}".encode()
    stored = owner.put(
        f"/api/v1/models/{name}/versions/1/artifact/content/model.bin"
        f"?sha256={sha256(weights).hexdigest()}",
        data=weights,
        content_type="application/octet-stream",
    )
    assert stored.status_code in (200, 201), stored.content
    intake = owner.post(
        f"/api/v1/models/{name}/risk-tier/intake/", {"answers": INTAKE[tier]}, format="json"
    )
    assert intake.status_code == 200, intake.content
    assert intake.json()["proposed_tier"] == tier
    confirmed = api(cast.officer).post(
        f"/api/v1/models/{name}/risk-tier/decision/", {}, format="json"
    )
    assert confirmed.status_code == 200, confirmed.content
    assert owner.get(f"/api/v1/models/{name}/").json()["risk_tier"] == tier
    listed = owner.get("/api/v1/models/?page_size=200").json()["results"]
    assert {m["name"]: m["risk_tier"] for m in listed}[name] == tier
    version = registry_queries.get_version(name, 1)
    for required in REQUIRED[tier]:
        # A bias audit is the ledger's own, computed on the evaluation data attached.
        kind = "evaluation_data" if required == "bias_audit" else required
        body = evaluation_csv() if required == "bias_audit" else f"{kind}-{tier}".encode()[:10]
        body = body.ljust(10, b".")
        filename = "eval.csv" if kind == "evaluation_data" else "doc.pdf"
        ticket = owner.post(
            f"/api/v1/models/{name}/versions/1/evidence/uploads/",
            {
                "kind": kind,
                "filename": filename,
                "size": len(body),
                "sha256": sha256(body).hexdigest(),
            },
            format="json",
        )
        assert ticket.status_code == 201, ticket.content
        document = upload(store, version, kind, body, filename)
        summary = model_card(name, 1) if kind == "model_card" else {}
        attached = owner.post(
            f"/api/v1/models/{name}/versions/1/evidence/",
            {"kind": kind, **document, "summary": summary},
            format="json",
        )
        assert attached.status_code == 201, attached.content
        assert attached.json()["sha256"] == document["sha256"]
        if required == "bias_audit":
            audited = owner.post(
                f"/api/v1/models/{name}/versions/1/bias-audits/",
                {"spec": AUDIT_SPEC, "evidence": "evaluation_data"},
                format="json",
            )
            assert audited.status_code == 201, audited.content
            assert (audited.json()["verdict"], audited.json()["counts_for_gate"]) == ("pass", True)
    return owner


def approve_all(cast, request_id: str, tier: str) -> dict:
    body = {}
    for board, quorum in BOARDS[tier].items():
        for index in range(quorum):
            response = api(cast.reviewer(board, index)).post(
                f"/api/v1/approvals/{request_id}/decisions/",
                {"board": board, "decision": "approve", "rationale": "evidence reviewed"},
                format="json",
            )
            assert response.status_code == 201, response.content
            body = response.json()
    return body


@pytest.mark.parametrize("tier", ["low", "medium", "high", "critical"])
def test_version_reaches_production_when_every_board_of_its_tier_approves(
    cast, evidence_store, tier
):
    name = f"{tier}-model"
    owner = prepare(cast, evidence_store, tier, name)
    requested = owner.post("/api/v1/approvals/", {"model": name, "version": 1}, format="json")
    assert requested.status_code == 201, requested.content
    request = requested.json()
    assert request["tier"] == tier
    assert request["boards"] == BOARDS[tier]
    assert sorted(request["required_evidence"]) == sorted(REQUIRED[tier])
    assert owner.get(f"/api/v1/models/{name}/versions/1/").json()["status"] == "in_review"

    blocked = problem(
        owner.put(f"/api/v1/models/{name}/aliases/production/", {"version": 1}, format="json"),
        409,
        "promotion_blocked",
    )
    assert blocked["missing_evidence"] == []
    assert blocked["boards"] == [
        {"board": b, "needed": n, "have": 0} for b, n in BOARDS[tier].items()
    ]
    assert blocked["quorum"] == {"needed": sum(BOARDS[tier].values()), "have": 0}

    final = approve_all(cast, request["id"], tier)
    assert final["status"] == "approved"
    assert final["expires_at"] is not None
    assert owner.get(f"/api/v1/models/{name}/versions/1/").json()["status"] == "approved"
    gate = owner.get(f"/api/v1/models/{name}/versions/1/promotion/").json()
    assert gate["allowed"] is True, gate

    moved = owner.put(f"/api/v1/models/{name}/aliases/production/", {"version": 1}, format="json")
    assert moved.status_code == 200, moved.content
    deployed = owner.patch(
        f"/api/v1/models/{name}/versions/1/", {"status": "deployed"}, format="json"
    )
    assert deployed.status_code == 200, deployed.content
    assert deployed.json()["status"] == "deployed"


def test_high_tier_journey_records_every_step_as_events(cast, evidence_store, capsys):
    before = Event.objects.order_by("-position").values_list("position", flat=True).first() or 0
    owner = prepare(cast, evidence_store, "high", "credit-scorer")
    request = owner.post(
        "/api/v1/approvals/", {"model": "credit-scorer", "version": 1}, format="json"
    ).json()
    approve_all(cast, request["id"], "high")
    assert (
        owner.put(
            "/api/v1/models/credit-scorer/aliases/production/", {"version": 1}, format="json"
        ).status_code
        == 200
    )
    owner.patch("/api/v1/models/credit-scorer/versions/1/", {"status": "deployed"}, format="json")
    # The boards and the policy may be seeded on first use; they are not part of the journey.
    journey = list(
        Event.objects.filter(position__gt=before)
        .exclude(stream_type__in=("approvals.Board", "governance.Policy"))
        .order_by("position")
        .values_list("type", "data")
    )
    types = [t for t, _ in journey]
    with capsys.disabled():
        print("\nhigh-tier journey events:")
        for kind, data in journey:
            detail = {
                "governance.EvidenceAttached": lambda d: d["kind"],
                "governance.RiskTierAssigned": lambda d: d["tier"],
                "approvals.ReviewDecisionRecorded": lambda d: f"{d['board']}: {d['decision']}",
                "registry.ModelVersionStatusChanged": lambda d: (
                    f"{d['from_status']} -> {d['to_status']}"
                ),
                "registry.AliasAssigned": lambda d: d.get("alias", ""),
            }.get(kind, lambda d: "")(data)
            print(f"  {kind:<40} {detail}".rstrip())
    assert types == [
        "registry.ModelRegistered",
        "registry.ModelVersionNumbered",
        "registry.ModelVersionCreated",
        "registry.ArtifactUploadAuthorized",
        "registry.ArtifactVerified",
        "governance.IntakeRecorded",
        "registry.StreamLinked",  # the risk record, on the model's stream
        "governance.RiskTierAssigned",
        "governance.EvidenceAttached",
        "registry.StreamLinked",  # the version's evidence, on its stream
        "governance.EvidenceAttached",  # the evaluation data
        "governance.BiasAuditCompleted",  # the ledger's audit of it
        "registry.StreamLinked",  # the audit, on the version's stream
        *["governance.EvidenceAttached"] * 3,
        "approvals.ApprovalRequested",
        "registry.ModelVersionStatusChanged",
        "registry.StreamLinked",  # the approval request, on the version's stream
        *["approvals.ReviewDecisionRecorded"] * 4,
        "approvals.ApprovalGranted",
        "registry.ModelVersionStatusChanged",
        "registry.AliasAssigned",
        "registry.ModelVersionStatusChanged",
    ]
    moves = [
        (d["from_status"], d["to_status"])
        for t, d in journey
        if t == "registry.ModelVersionStatusChanged"
    ]
    assert moves == [("draft", "in_review"), ("in_review", "approved"), ("approved", "deployed")]
    assert [d["kind"] for t, d in journey if t == "governance.EvidenceAttached"] == [
        "evaluation_data" if kind == "bias_audit" else kind for kind in REQUIRED["high"]
    ]
    decisions = [
        (d["board"], d["decision"]) for t, d in journey if t == "approvals.ReviewDecisionRecorded"
    ]
    assert decisions == [
        ("model-risk", "approve"),
        ("model-risk", "approve"),
        ("legal", "approve"),
        ("ethics", "approve"),
    ]


def test_gate_lists_exactly_what_is_missing_when_evidence_and_approvals_are_partial(
    cast, evidence_store
):
    owner = api(cast.owner)
    owner.post("/api/v1/models/", {"name": "bare", "team": "fraud-ml"}, format="json")
    owner.post("/api/v1/models/bare/versions/", {}, format="json")
    owner.put(
        f"/api/v1/models/bare/versions/1/artifact/content/model.bin?sha256={sha256(b'w').hexdigest()}",
        data=b"w",
        content_type="application/octet-stream",
    )
    owner.post("/api/v1/models/bare/risk-tier/intake/", {"answers": INTAKE["high"]}, format="json")
    api(cast.officer).post("/api/v1/models/bare/risk-tier/decision/", {}, format="json")
    version = registry_queries.get_version("bare", 1)
    card = upload(evidence_store, version, "model_card", b"card")
    owner.post(
        "/api/v1/models/bare/versions/1/evidence/",
        {"kind": "model_card", **card, "summary": model_card("bare", 1)},
        format="json",
    )
    request = owner.post("/api/v1/approvals/", {"model": "bare", "version": 1}, format="json")
    api(cast.reviewer("model-risk")).post(
        f"/api/v1/approvals/{request.json()['id']}/decisions/",
        {"board": "model-risk", "decision": "approve", "rationale": "ok so far"},
        format="json",
    )
    before = Event.objects.count()
    body = problem(
        owner.put("/api/v1/models/bare/aliases/production/", {"version": 1}, format="json"),
        409,
        "promotion_blocked",
    )
    assert Event.objects.count() == before
    assert body["missing_evidence"] == [
        "bias_audit",
        "explainability_report",
        "validation_report",
        "dpia",
    ]
    assert body["boards"] == [
        {"board": "model-risk", "needed": 2, "have": 1},
        {"board": "legal", "needed": 1, "have": 0},
        {"board": "ethics", "needed": 1, "have": 0},
    ]
    assert body["quorum"] == {"needed": 4, "have": 1}
    assert body["expired"] is False
    assert body["suspended"] == []
    assert body["request_status"] == "open"
    assert set(body["reasons"]) == {
        "request_open",
        "evidence_missing",
        "bias_audit_missing",
        "quorum_not_met",
    }


def test_approval_request_reads_as_it_was_when_as_of_is_given(cast, evidence_store):
    owner = prepare(cast, evidence_store, "low", "time-travel")
    request = owner.post(
        "/api/v1/approvals/", {"model": "time-travel", "version": 1}, format="json"
    ).json()
    requested_at = Event.objects.filter(type="approvals.ApprovalRequested").latest("position")
    approve_all(cast, request["id"], "low")
    now = owner.get(f"/api/v1/approvals/{request['id']}/")
    assert now.json()["status"] == "approved"
    assert now["ETag"] == '"3"'
    then = owner.get(f"/api/v1/approvals/{request['id']}/?as_of={requested_at.position}").json()
    assert then["status"] == "open"
    assert then["decisions"] == []
    history = owner.get(f"/api/v1/approvals/{request['id']}/history/").json()["results"]
    assert [e["type"] for e in history] == [
        "approvals.ApprovalRequested",
        "approvals.ReviewDecisionRecorded",
        "approvals.ApprovalGranted",
    ]


def test_outsiders_do_not_see_requests_and_stale_if_match_is_refused(
    cast, evidence_store, outsider
):
    owner = prepare(cast, evidence_store, "low", "private")
    request = owner.post("/api/v1/approvals/", {"model": "private", "version": 1}, format="json")
    request_id = request.json()["id"]
    problem(
        api(outsider).get(f"/api/v1/approvals/{request_id}/"), 404, "approval_request_not_found"
    )
    assert api(outsider).get("/api/v1/approvals/").json()["results"] == []
    stale = api(cast.reviewer("model-risk", 1)).post(
        f"/api/v1/approvals/{request_id}/decisions/",
        {"board": "model-risk", "decision": "approve", "rationale": "ok"},
        format="json",
        HTTP_IF_MATCH='"7"',
    )
    assert stale.status_code == 412
