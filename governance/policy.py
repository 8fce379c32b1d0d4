"""Risk-tier policy as data, and the pure rules over it: the shipped defaults (GOVERNANCE.md),
validation of a policy document, the tier an intake questionnaire proposes, and the evidence a
tier requires. Nothing here imports Django."""

from __future__ import annotations

import copy
from typing import Any

from core.errors import InvalidInput

TIERS = ("low", "medium", "high", "critical")
BOARDS = ("model-risk", "legal", "ethics", "security")
EVIDENCE_KINDS = (
    "model_card",
    "bias_audit",
    "explainability_report",
    "dpia",
    "validation_report",
    "human_oversight_plan",
    "monitoring_plan",
    "regulatory_signoff",
)
# The minimum model card (GOVERNANCE.md): every field present in its structured summary.
MODEL_CARD_FIELDS = (
    "name",
    "version",
    "owners",
    "contact",
    "intended_use",
    "out_of_scope_uses",
    "users_and_affected_people",
    "training_data",
    "evaluation_data",
    "metrics",
    "fairness_analysis",
    "limitations",
    "ethical_considerations",
    "human_oversight",
    "monitoring_plan",
    "change_log",
)

_HIGH_EVIDENCE = ["model_card", "bias_audit", "explainability_report", "validation_report"]
DEFAULT_TIERS: dict[str, dict[str, Any]] = {
    "low": {
        "evidence": ["model_card"],
        "evidence_if_personal_data": [],
        "boards": {"model-risk": 1},
        "approval_validity_days": 365,
        "review_cadence_days": 365,
        "bias_audit_cadence_days": None,
        "retention_years": 5,
    },
    "medium": {
        "evidence": ["model_card", "bias_audit"],
        "evidence_if_personal_data": [],
        "boards": {"model-risk": 1},
        "approval_validity_days": 182,
        "review_cadence_days": 91,
        "bias_audit_cadence_days": 91,
        "retention_years": 7,
    },
    "high": {
        "evidence": list(_HIGH_EVIDENCE),
        "evidence_if_personal_data": ["dpia"],
        "boards": {"model-risk": 2, "legal": 1, "ethics": 1},
        "approval_validity_days": 91,
        "review_cadence_days": 30,
        "bias_audit_cadence_days": 30,
        "retention_years": 10,
    },
    "critical": {
        "evidence": [
            *_HIGH_EVIDENCE,
            "human_oversight_plan",
            "monitoring_plan",
            "regulatory_signoff",
        ],
        "evidence_if_personal_data": ["dpia"],
        "boards": {"model-risk": 2, "legal": 1, "ethics": 2, "security": 1},
        "approval_validity_days": 91,
        "review_cadence_days": 30,
        "bias_audit_cadence_days": 30,
        "retention_years": 10,
    },
}


def default_tiers() -> dict[str, dict[str, Any]]:
    return copy.deepcopy(DEFAULT_TIERS)


def _positive_int(value: Any, what: str, *, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 36_500:
        raise InvalidInput(f"{what} must be a whole number from 1 to 36500")


def check_tiers(tiers: Any) -> dict[str, dict[str, Any]]:
    """A complete, valid policy document: every tier, known evidence kinds and boards."""
    if not isinstance(tiers, dict) or set(tiers) != set(TIERS):
        raise InvalidInput(f"a policy defines exactly the tiers {', '.join(TIERS)}")
    checked: dict[str, dict[str, Any]] = {}
    for tier in TIERS:
        spec = tiers[tier]
        if not isinstance(spec, dict) or set(spec) != set(DEFAULT_TIERS[tier]):
            raise InvalidInput(
                f"tier {tier} needs exactly the fields {', '.join(sorted(DEFAULT_TIERS[tier]))}"
            )
        for field in ("evidence", "evidence_if_personal_data"):
            kinds = spec[field]
            if not isinstance(kinds, list) or any(k not in EVIDENCE_KINDS for k in kinds):
                raise InvalidInput(
                    f"{tier}.{field} lists evidence kinds from {', '.join(EVIDENCE_KINDS)}"
                )
            if len(set(kinds)) != len(kinds):
                raise InvalidInput(f"{tier}.{field} lists a kind twice")
        boards = spec["boards"]
        if not isinstance(boards, dict) or not boards or any(b not in BOARDS for b in boards):
            raise InvalidInput(f"{tier}.boards maps boards from {', '.join(BOARDS)} to quorums")
        for board, quorum in boards.items():
            if isinstance(quorum, bool) or not isinstance(quorum, int) or not 1 <= quorum <= 20:
                raise InvalidInput(f"{tier}.boards.{board} is a quorum from 1 to 20")
        _positive_int(spec["approval_validity_days"], f"{tier}.approval_validity_days")
        _positive_int(spec["review_cadence_days"], f"{tier}.review_cadence_days")
        _positive_int(
            spec["bias_audit_cadence_days"], f"{tier}.bias_audit_cadence_days", nullable=True
        )
        _positive_int(spec["retention_years"], f"{tier}.retention_years")
        checked[tier] = copy.deepcopy(spec)
    return checked


def merge_tiers(current: dict[str, Any], changes: Any) -> dict[str, dict[str, Any]]:
    """The current policy with some tiers' fields replaced; the result is checked whole."""
    if not isinstance(changes, dict) or not changes:
        raise InvalidInput("changes name at least one tier")
    merged = copy.deepcopy(current)
    for tier, fields in changes.items():
        if tier not in TIERS or not isinstance(fields, dict):
            raise InvalidInput(f"changes are per tier ({', '.join(TIERS)}), each an object")
        unknown = set(fields) - set(DEFAULT_TIERS[tier])
        if unknown:
            raise InvalidInput(f"unknown policy fields: {', '.join(sorted(unknown))}")
        merged[tier].update(copy.deepcopy(fields))
    return check_tiers(merged)


def required_evidence(spec: dict[str, Any], *, personal_data: bool) -> list[str]:
    kinds = list(spec["evidence"])
    if personal_data:
        kinds += [k for k in spec["evidence_if_personal_data"] if k not in kinds]
    return kinds


# -- intake ------------------------------------------------------------------------------

AFFECTED = ("internal", "business_customers", "consumers", "public", "vulnerable_groups")
DOMAINS = (
    "none",
    "marketing",
    "pricing",
    "credit",
    "insurance",
    "employment",
    "education",
    "essential_services",
    "healthcare",
    "law_enforcement",
    "criminal_justice",
    "critical_infrastructure",
)
INTAKE_QUESTIONS: dict[str, Any] = {
    "use_case": str,
    "affected_people": AFFECTED,
    "automated_decisions": bool,
    "significant_effects": bool,
    "personal_data": bool,
    "special_category_data": bool,
    "regulated_domain": DOMAINS,
    "safety_component": bool,
}
_HIGH_DOMAINS = frozenset({"credit", "insurance", "employment", "education", "essential_services"})
_CRITICAL_DOMAINS = frozenset(
    {"healthcare", "law_enforcement", "criminal_justice", "critical_infrastructure"}
)


def check_answers(answers: Any) -> dict[str, Any]:
    if not isinstance(answers, dict) or set(answers) != set(INTAKE_QUESTIONS):
        raise InvalidInput(f"the intake answers exactly: {', '.join(INTAKE_QUESTIONS)}")
    for question, expected in INTAKE_QUESTIONS.items():
        value = answers[question]
        if expected is bool and not isinstance(value, bool):
            raise InvalidInput(f"{question} is true or false")
        if expected is str and (not isinstance(value, str) or not 1 <= len(value) <= 2000):
            raise InvalidInput(f"{question} is text of 1 to 2000 characters")
        if isinstance(expected, tuple) and value not in expected:
            raise InvalidInput(f"{question} is one of {', '.join(expected)}")
    return dict(answers)


def propose_tier(answers: dict[str, Any]) -> str:
    """The tier the answers point to; the model-risk officer confirms or overrides it."""
    domain = answers["regulated_domain"]
    automated = answers["automated_decisions"]
    if answers["safety_component"] or (domain in _CRITICAL_DOMAINS and automated):
        return "critical"
    if (
        domain in _HIGH_DOMAINS | _CRITICAL_DOMAINS
        or (automated and answers["significant_effects"])
        or answers["special_category_data"]
        or answers["affected_people"] == "vulnerable_groups"
    ):
        return "high"
    if answers["personal_data"] or answers["affected_people"] in ("consumers", "public"):
        return "medium"
    return "low"


def missing_model_card_fields(summary: dict[str, Any]) -> list[str]:
    return [f for f in MODEL_CARD_FIELDS if summary.get(f) in (None, "", [], {})]
