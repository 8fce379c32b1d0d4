"""The ledger's own audit counts, tried from the attacker's side. Where the policy requires a
bias audit, only an audit the ledger computed on the evaluation data attached to the version
(re-hashed as it is read), with the policy's thresholds, meets the requirement: a `bias_audit`
document the team attached, whatever it says, never does, nor an audit of rows a client
posted (labelled as such in the API and on the approval page). A failing computed audit blocks
the gate until its finding is closed by an independent board member or the model-risk chair
grants a waiver, which the model's owners cannot grant.

The gate's refusal is a 409 promotion_blocked problem whose reasons name bias_audit_missing or
bias_audit_failed, whichever door the promotion comes through (alias or status)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from boards import commands as board_commands
from core import clock
from core.actors import Actor
from governance import commands as governance
from governance.models import BiasAudit, Finding
from governance.tasks import scan_reviews
from tests.approvals.conftest import (
    AUDIT_SPEC,
    actor_of,
    api,
    audit_attached_data,
    evaluation_csv,
    governed_version,
    problem,
    unique_name,
    upload,
)
from tests.governance.helpers import rows
from tests.helpers.admin import staff_client

pytestmark = pytest.mark.django_db

# Group b is selected at a fifth of group a's rate: the computed audit fails.
FAILING = evaluation_csv(0.5, 0.1)
ROWS_LABEL = "computed on rows a client posted: never counts toward the promotion gate"


def unaudited_version(cast, store):
    """A medium-tier model (a bias audit required) with its model card and no computed audit."""
    model, version = governed_version(
        cast, store, "medium", unique_name("claims"), skip=("bias_audit",)
    )
    return model, version


def claim_a_pass(cast, store, model, version) -> None:
    """The attack: the team attaches a bias-audit document that says it passed."""
    body = b'{"verdict": "pass"}'
    document = upload(store, version, "bias_audit", body, "audit.json")
    governance.attach_evidence(
        actor=actor_of(cast.owner),
        model_id=model.id,
        number=1,
        kind="bias_audit",
        summary={"verdict": "pass"},
        **document,
    )


def approved_request(cast, model) -> str:
    """The owner asks for production approval through the API and model-risk approves it."""
    requested = api(cast.owner).post(
        "/api/v1/approvals/", {"model": model.name, "version": 1}, format="json"
    )
    assert requested.status_code == 201, requested.content
    request_id = requested.json()["id"]
    approve(cast, request_id)
    return request_id


def approve(cast, request_id: str) -> None:
    decided = api(cast.reviewer("model-risk", 1)).post(
        f"/api/v1/approvals/{request_id}/decisions/",
        {"board": "model-risk", "decision": "approve", "rationale": "evidence reviewed"},
        format="json",
    )
    assert decided.status_code == 201, decided.content
    assert decided.json()["status"] == "approved"


def refused(cast, model, code: str) -> None:
    """Every promotion door answers 409 promotion_blocked naming `code`; the promotion view
    says the same."""
    owner = api(cast.owner)
    url = f"/api/v1/models/{model.name}/versions/1/"
    for attempt in (
        owner.put(
            f"/api/v1/models/{model.name}/aliases/production/", {"version": 1}, format="json"
        ),
        owner.patch(url, {"status": "deployed"}, format="json"),
    ):
        body = problem(attempt, 409, "promotion_blocked")
        assert code in body["reasons"], body
        assert "bias_audit" in body["missing_evidence"], body
    gate = owner.get(f"{url}promotion/").json()
    assert gate["allowed"] is False and code in gate["reasons"], gate


def promoted(cast, model) -> None:
    moved = api(cast.owner).put(
        f"/api/v1/models/{model.name}/aliases/production/", {"version": 1}, format="json"
    )
    assert moved.status_code == 200, moved.content


def test_a_bias_audit_document_saying_pass_never_meets_the_requirement(cast, evidence_store):
    model, version = unaudited_version(cast, evidence_store)
    claim_a_pass(cast, evidence_store, model, version)
    request_id = approved_request(cast, model)
    refused(cast, model, "bias_audit_missing")

    # The ledger's own audit of the attached evaluation data is what meets it (new evaluation
    # data is new evidence: the reviewers approve again on it).
    outcome = audit_attached_data(cast, evidence_store, model, version)
    assert outcome.audit.verdict == "pass" and outcome.audit.source == "evidence"
    approve(cast, request_id)
    promoted(cast, model)


def test_an_audit_of_posted_rows_is_labelled_and_never_counts(cast, evidence_store):
    model, version = unaudited_version(cast, evidence_store)
    claim_a_pass(cast, evidence_store, model, version)
    # The same passing rows as attached evaluation data would give, but posted by the client.
    posted = api(cast.owner).post(
        f"/api/v1/models/{model.name}/versions/1/bias-audits/",
        {"spec": AUDIT_SPEC, "rows": rows(0.5, 0.5)},
        format="json",
    )
    assert posted.status_code == 201, posted.content
    audit = posted.json()
    assert audit["verdict"] == "pass"
    assert audit["source"] == "rows"
    assert audit["counts_for_gate"] is False
    assert audit["source_label"] == ROWS_LABEL
    read = api(cast.owner).get(f"/api/v1/bias-audits/{audit['id']}/").json()
    assert (read["source"], read["counts_for_gate"], read["source_label"]) == (
        "rows",
        False,
        ROWS_LABEL,
    )
    listed = api(cast.owner).get(f"/api/v1/models/{model.name}/versions/1/bias-audits/")
    listed = listed.json()["results"]
    assert [(a["id"], a["counts_for_gate"]) for a in listed] == [(audit["id"], False)]

    request_id = approved_request(cast, model)
    refused(cast, model, "bias_audit_missing")

    # The approval page says so beside the audit, and the audit's own page too.
    reviewer = staff_client(cast.reviewer("model-risk", 1))
    page = reviewer.get(f"/admin/approvals/approvalrequest/{request_id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert ROWS_LABEL in html
    assert "it never meets the bias-audit requirement" in html
    detail = staff_client(cast.admin).get(f"/admin/governance/biasaudit/{audit['id']}/change/")
    assert ROWS_LABEL in detail.content.decode()


def test_a_failing_computed_audit_blocks_the_gate_until_its_finding_is_closed(cast, evidence_store):
    model, version = unaudited_version(cast, evidence_store)
    # The team computes the audit on its evaluation data, which fails, and claims a pass.
    document = upload(evidence_store, version, "evaluation_data", FAILING, "eval.csv")
    governance.attach_evidence(
        actor=actor_of(cast.owner),
        model_id=model.id,
        number=1,
        kind="evaluation_data",
        summary={},
        **document,
    )
    ran = api(cast.owner).post(
        f"/api/v1/models/{model.name}/versions/1/bias-audits/",
        {"spec": AUDIT_SPEC, "evidence": "evaluation_data"},
        format="json",
    )
    assert ran.status_code == 201, ran.content
    audit = ran.json()
    assert (audit["verdict"], audit["source"], audit["counts_for_gate"]) == (
        "fail",
        "evidence",
        True,
    )
    claim_a_pass(cast, evidence_store, model, version)
    approved_request(cast, model)
    refused(cast, model, "bias_audit_failed")

    # The owner cannot close the finding of their own model's audit.
    closure = f"/api/v1/findings/{audit['finding_id']}/closure/"
    fix = {"resolution": "the document says it passed", "evidence": "audit.json"}
    problem(api(cast.owner).post(closure, fix, format="json"), 403, "not_board_member")
    refused(cast, model, "bias_audit_failed")

    # An independent member of the finding's board closes it with the evidence of the fix.
    closed = api(cast.reviewer("ethics", 0)).post(
        closure,
        {"resolution": "thresholds met after reweighing", "evidence": "reweighing report"},
        format="json",
    )
    assert closed.status_code == 200, closed.content
    promoted(cast, model)


def test_a_chair_waiver_lifts_a_failing_audit_and_an_owner_chair_cannot_grant_it(
    cast, evidence_store
):
    model, version = unaudited_version(cast, evidence_store)
    outcome = audit_attached_data(cast, evidence_store, model, version, FAILING)
    assert outcome.audit.verdict == "fail" and outcome.finding_id
    claim_a_pass(cast, evidence_store, model, version)
    request_id = approved_request(cast, model)
    refused(cast, model, "bias_audit_failed")

    # The owner sits on model-risk and chairs it: still not independent of their own model.
    admin = Actor.user(cast.admin, auth_method="session")
    board_commands.add_board_member(actor=admin, board="model-risk", user_id=cast.owner.pk)
    board_commands.appoint_chair(actor=admin, board="model-risk", user_id=cast.owner.pk)
    waiver = {
        "kind": "bias_audit",
        "reason": "the audit is wrong",
        "expires_at": (clock.now() + timedelta(days=30)).isoformat(),
    }
    url = f"/api/v1/models/{model.name}/versions/1/waivers/"
    problem(api(cast.owner).post(url, waiver, format="json"), 403, "sod_requester")
    refused(cast, model, "bias_audit_failed")

    # The independent chair's waiver stands in for the failing audit (and, being evidence,
    # is reviewed before it counts).
    board_commands.appoint_chair(actor=admin, board="model-risk", user_id=cast.officer.pk)
    waiver["reason"] = "remediation scheduled with the ethics board"
    granted = api(cast.officer).post(url, waiver, format="json")
    assert granted.status_code == 201, granted.content
    approve(cast, request_id)
    promoted(cast, model)
    assert Finding.objects.get(id=outcome.finding_id).status == "open"


def test_a_scheduled_audit_that_fails_blocks_the_approved_version(cast, evidence_store):
    """The scan task audits with the specification kept with the evaluation data; the team's
    own on-demand audit of the same bytes on a harmless attribute passed."""
    model, version = unaudited_version(cast, evidence_store)
    lines = ["sex,region,label,prediction"]
    for group, rate in (("a", 0.5), ("b", 0.1)):
        lines += [f"{group},r{(i // 2) % 2},{i % 2},{1 if i < rate * 40 else 0}" for i in range(40)]
    document = upload(
        evidence_store, version, "evaluation_data", "\n".join(lines).encode(), "eval.csv"
    )
    governance.attach_evidence(
        actor=actor_of(cast.owner),
        model_id=model.id,
        number=1,
        kind="evaluation_data",
        summary={"audit_spec": AUDIT_SPEC},
        **document,
    )
    harmless = governance.run_bias_audit(
        actor=actor_of(cast.owner),
        model_id=model.id,
        number=1,
        spec={**AUDIT_SPEC, "attributes": ["region"]},
        use_evidence=True,
    )
    assert harmless.audit.verdict == "pass"
    claim_a_pass(cast, evidence_store, model, version)
    approved_request(cast, model)
    gate = api(cast.owner).get(f"/api/v1/models/{model.name}/versions/1/promotion/").json()
    assert gate["allowed"] is True, gate

    with clock.frozen(clock.now() + timedelta(days=92)):
        report = scan_reviews.apply().get()
        assert report["audits"] == 1
        scheduled = BiasAudit.objects.get(version_id=version.id, trigger="scheduled")
        assert (scheduled.verdict, scheduled.source) == ("fail", "evidence")
        refused(cast, model, "bias_audit_failed")
