"""The promotion gate: a version reaches production (status deployed, or the `production`
alias) only with a complete, unexpired, unsuspended approval. The registry calls
require_promotion; the API and the admin show assess_promotion.

An approval counts only while its reviewer sits on the board and is independent of the model
(not a requester, an owner or an author), judged against memberships as of now: a reviewer
who left the board, or joined the owning team in the admin (no event), no longer counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from approvals import rules
from approvals.errors import PromotionBlocked
from approvals.models import ApprovalRequest
from approvals.state import RequestState
from approvals.streams import load_request
from boards.queries import members_by_board
from boards.rules import Parties
from core import clock
from governance import policy
from governance.permissions import version_parties
from governance.queries import bias_audit_shortfall, current_policy
from governance.rules import BIAS_AUDIT, EVALUATION_DATA
from governance.state import EvidenceState
from governance.streams import load_evidence, load_risk
from registry.state import VersionState
from registry.streams import load_version_by_number


def request_parties(request: RequestState) -> Parties:
    """Who is not independent of the request's version, as of now."""
    return version_parties(request.model_id, request.version_id, requesters=(request.requester_id,))


def still_counts(request: RequestState, parties: Parties | None = None) -> rules.Eligible:
    """Whether an approval given on the request still counts, as of now: its reviewer sits on
    the board and is independent of the model and the version (`parties`, when known)."""
    parties = parties or request_parties(request)
    members = members_by_board(request.boards)
    return lambda board, reviewer: (
        reviewer in members.get(board, frozenset()) and parties.independent(reviewer)
    )


def evidence_digests(evidence: EvidenceState) -> dict[str, str]:
    """Each attached evidence document's sha256 by kind (the model card included)."""
    return {kind: item.sha256 for kind, item in sorted(evidence.items.items())}


def current_facts(version: VersionState, evidence: EvidenceState) -> rules.Facts:
    verified = version.artifact_verified and not version.artifact_tampered
    return rules.Facts(
        artifact_sha256=(version.artifact_sha256 or "") if verified else "",
        evidence=evidence_digests(evidence),
    )


def computed_audit_shortfall(
    request: RequestState | None,
    required: list[str],
    version_id: str,
    facts: rules.Facts,
    evidence: EvidenceState,
    now: datetime,
) -> str:
    """Why the bias audit the policy requires is not met ("" when it is, or none is
    required): only an audit the ledger computed on the evaluation data the request's reviewers
    were shown (the current one without a request) counts, never a `bias_audit` document."""
    if BIAS_AUDIT not in (request.required_evidence if request is not None else required):
        return ""
    bound = request.evidence if request is not None else facts.evidence
    return bias_audit_shortfall(version_id, bound.get(EVALUATION_DATA, ""), evidence, now)


def assess_promotion(*, model_id: str, number: int, target: str = "production") -> rules.Assessment:
    version = load_version_by_number(model_id, number)
    risk = load_risk(model_id)
    latest = (
        ApprovalRequest.objects.filter(version_id=version.id, target=target)
        .order_by("-created_at")
        .values_list("id", flat=True)
        .first()
    )
    request = load_request(latest) if latest else None
    evidence = load_evidence(version.id)
    now = clock.now()
    required: list[str] = []
    boards: dict[str, int] = {}
    if risk.tier:
        spec = current_policy().tiers[risk.tier]
        required = policy.required_evidence(
            spec, personal_data=bool(risk.tier_answers.get("personal_data", False))
        )
        boards = dict(spec["boards"])
    facts = current_facts(version, evidence)
    assessment = rules.assess(
        request,
        target=target,
        tier=risk.tier,
        required_evidence=required,
        boards=boards,
        evidence_satisfied=lambda kind: evidence.satisfied(kind, now),
        evidence_version=evidence.stream_version,
        now=now,
        model_suspended=risk.suspended,
        eligible=still_counts(request) if request is not None else None,
        facts=facts,
        bias_audit=computed_audit_shortfall(request, required, version.id, facts, evidence, now),
    )
    if not risk.tier and request is None:
        assessment.reasons.insert(0, "risk_tier_missing")
    return assessment


def describe(assessment: rules.Assessment) -> dict[str, Any]:
    """The assessment as structured fields (the 409 body and the API's promotion view)."""
    return {
        "target": assessment.target,
        "allowed": assessment.allowed,
        "tier": assessment.tier,
        "request_id": assessment.request_id,
        "request_status": assessment.status,
        "reasons": list(assessment.reasons),
        "missing_evidence": list(assessment.missing_evidence),
        "boards": [
            {"board": c.board, "needed": c.needed, "have": c.have} for c in assessment.boards
        ],
        "quorum": {"needed": assessment.quorum_needed, "have": assessment.quorum_have},
        "expired": assessment.expired,
        "expires_at": assessment.expires_at.isoformat() if assessment.expires_at else None,
        "suspended": list(assessment.suspended),
        "changed": list(assessment.changed),
    }


def require_promotion(*, model_id: str, number: int, target: str = "production") -> None:
    assessment = assess_promotion(model_id=model_id, number=number, target=target)
    if not assessment.allowed:
        body = describe(assessment)
        body.pop("allowed")
        raise PromotionBlocked(
            f"version {number} cannot go to {target}: {', '.join(assessment.reasons)}", **body
        )
