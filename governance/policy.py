"""Risk-tier policy as data, and the pure rules over it: the shipped defaults (rendered as
docs/governance-policy.md), validation of a policy document, the tier an intake questionnaire
proposes, and the evidence a tier requires. Nothing here imports Django."""

from __future__ import annotations

import copy
from typing import Any

from boards.rules import BOARDS
from core.errors import InvalidInput
from governance.fairness import Thresholds

TIERS = ("low", "medium", "high", "critical")
EVIDENCE_KINDS = (
    "model_card",
    "bias_audit",
    "explainability_report",
    "dpia",
    "validation_report",
    "human_oversight_plan",
    "monitoring_plan",
    "regulatory_signoff",
    "evaluation_data",
)
# The minimum model card (docs/model-card.md): every field present in its structured summary.
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

OVERDUE_ACTIONS = ("flag", "non_compliant")
# docs/governance-policy.md, "Fairness thresholds"; the names of governance.fairness.Thresholds.
FAIRNESS_THRESHOLDS: dict[str, Any] = {
    "min_disparate_impact_ratio": 0.8,
    "min_statistical_parity_difference": -0.1,
    "max_equalized_odds_difference": 0.1,
    "min_group_size": 30,
    "significance_level": 0.05,
}

# docs/governance-policy.md, "Findings and serious incidents": reminders ahead of each EU AI Act
# Art. 73 reporting deadline, at these fractions of the reporting window and these hours
# before its end (governance.art73 merges them).
INCIDENT_REMINDER_FRACTIONS = [0.5]
INCIDENT_REMINDER_HOURS_BEFORE = [24]

_HIGH_EVIDENCE = ["model_card", "bias_audit", "explainability_report", "validation_report"]
DEFAULT_TIERS: dict[str, dict[str, Any]] = {
    "low": {
        "evidence": ["model_card"],
        "evidence_if_personal_data": [],
        "boards": {"model-risk": 1},
        "approval_validity_days": 365,
        "review_cadence_days": 365,
        "bias_audit_cadence_days": None,
        "bias_audit_on_new_version": False,
        "retention_years": 5,
        "review_reminder_days": 14,
        "review_escalation_days": 0,
        "review_grace_days": 30,
        "overdue_action": "flag",
        "suspend_approval_when_non_compliant": False,
        "fairness_thresholds": dict(FAIRNESS_THRESHOLDS),
        "incident_reporting_clock": False,
        "incident_reminder_fractions": list(INCIDENT_REMINDER_FRACTIONS),
        "incident_reminder_hours_before": list(INCIDENT_REMINDER_HOURS_BEFORE),
    },
    "medium": {
        "evidence": ["model_card", "bias_audit"],
        "evidence_if_personal_data": [],
        "boards": {"model-risk": 1},
        "approval_validity_days": 182,
        "review_cadence_days": 91,
        "bias_audit_cadence_days": 91,
        "bias_audit_on_new_version": False,
        "retention_years": 7,
        "review_reminder_days": 7,
        "review_escalation_days": 0,
        "review_grace_days": 14,
        "overdue_action": "flag",
        "suspend_approval_when_non_compliant": False,
        "fairness_thresholds": dict(FAIRNESS_THRESHOLDS),
        "incident_reporting_clock": False,
        "incident_reminder_fractions": list(INCIDENT_REMINDER_FRACTIONS),
        "incident_reminder_hours_before": list(INCIDENT_REMINDER_HOURS_BEFORE),
    },
    "high": {
        "evidence": list(_HIGH_EVIDENCE),
        "evidence_if_personal_data": ["dpia"],
        "boards": {"model-risk": 2, "legal": 1, "ethics": 1},
        "approval_validity_days": 91,
        "review_cadence_days": 30,
        "bias_audit_cadence_days": 30,
        "bias_audit_on_new_version": False,
        "retention_years": 10,
        "review_reminder_days": 7,
        "review_escalation_days": 0,
        "review_grace_days": 7,
        "overdue_action": "non_compliant",
        "suspend_approval_when_non_compliant": True,
        "fairness_thresholds": dict(FAIRNESS_THRESHOLDS),
        "incident_reporting_clock": True,
        "incident_reminder_fractions": list(INCIDENT_REMINDER_FRACTIONS),
        "incident_reminder_hours_before": list(INCIDENT_REMINDER_HOURS_BEFORE),
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
        "bias_audit_on_new_version": True,
        "retention_years": 10,
        "review_reminder_days": 3,
        "review_escalation_days": 0,
        "review_grace_days": 3,
        "overdue_action": "non_compliant",
        "suspend_approval_when_non_compliant": True,
        "fairness_thresholds": dict(FAIRNESS_THRESHOLDS),
        "incident_reporting_clock": True,
        "incident_reminder_fractions": list(INCIDENT_REMINDER_FRACTIONS),
        "incident_reminder_hours_before": list(INCIDENT_REMINDER_HOURS_BEFORE),
    },
}


def default_tiers() -> dict[str, dict[str, Any]]:
    return copy.deepcopy(DEFAULT_TIERS)


# Fields added after policy documents were first stored; older documents are read with the
# shipped defaults for them (an upcaster and every reader do this, the log is never rewritten).
CADENCE_FIELDS = (
    "review_reminder_days",
    "review_escalation_days",
    "review_grace_days",
    "overdue_action",
    "suspend_approval_when_non_compliant",
    "fairness_thresholds",
)
# Added later still (policy schema version 3): the policy's "and on every new version" for
# the critical tier, an audit of each version as soon as its evaluation data is attached.
NEW_VERSION_AUDIT_FIELDS = ("bias_audit_on_new_version",)
# Added in policy schema version 4: which tiers start the EU AI Act Art. 73 reporting clock
# for a serious incident, and when reminders run ahead of its deadline.
INCIDENT_FIELDS = (
    "incident_reporting_clock",
    "incident_reminder_fractions",
    "incident_reminder_hours_before",
)
LATER_FIELDS = (*CADENCE_FIELDS, *NEW_VERSION_AUDIT_FIELDS, *INCIDENT_FIELDS)


def upgrade_tiers(tiers: Any) -> Any:
    """A stored policy document with the fields it predates filled from the defaults."""
    if not isinstance(tiers, dict):
        return tiers
    upgraded = copy.deepcopy(tiers)
    for tier, spec in upgraded.items():
        if tier in DEFAULT_TIERS and isinstance(spec, dict):
            for name in LATER_FIELDS:
                spec.setdefault(name, copy.deepcopy(DEFAULT_TIERS[tier][name]))
    return upgraded


def _days(value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
        raise InvalidInput(f"{what} must be a whole number of days from 0 to 3650")


def _fairness(value: Any, what: str) -> None:
    if not isinstance(value, dict) or set(value) != set(FAIRNESS_THRESHOLDS):
        raise InvalidInput(f"{what} needs exactly {', '.join(sorted(FAIRNESS_THRESHOLDS))}")
    try:
        Thresholds.from_dict(value)
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc}") from exc


def _positive_int(value: Any, what: str, *, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 36_500:
        raise InvalidInput(f"{what} must be a whole number from 1 to 36500")


MAX_INCIDENT_REMINDERS = 10


def _incident_reminders(spec: dict[str, Any], tier: str) -> None:
    if not isinstance(spec["incident_reporting_clock"], bool):
        raise InvalidInput(f"{tier}.incident_reporting_clock is true or false")
    fractions = spec["incident_reminder_fractions"]
    if (
        not isinstance(fractions, list)
        or len(fractions) > MAX_INCIDENT_REMINDERS
        or any(
            isinstance(f, bool) or not isinstance(f, int | float) or not 0 < f < 1
            for f in fractions
        )
    ):
        raise InvalidInput(
            f"{tier}.incident_reminder_fractions lists at most {MAX_INCIDENT_REMINDERS}"
            " fractions of the reporting window, each between 0 and 1"
        )
    hours = spec["incident_reminder_hours_before"]
    if (
        not isinstance(hours, list)
        or len(hours) > MAX_INCIDENT_REMINDERS
        or any(isinstance(h, bool) or not isinstance(h, int) or not 1 <= h <= 8760 for h in hours)
    ):
        raise InvalidInput(
            f"{tier}.incident_reminder_hours_before lists at most {MAX_INCIDENT_REMINDERS}"
            " whole numbers of hours from 1 to 8760"
        )


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
        for name in ("review_reminder_days", "review_escalation_days", "review_grace_days"):
            _days(spec[name], f"{tier}.{name}")
        if spec["review_reminder_days"] >= spec["review_cadence_days"]:
            raise InvalidInput(f"{tier}.review_reminder_days must be shorter than the cadence")
        if spec["overdue_action"] not in OVERDUE_ACTIONS:
            raise InvalidInput(f"{tier}.overdue_action is one of {', '.join(OVERDUE_ACTIONS)}")
        if not isinstance(spec["suspend_approval_when_non_compliant"], bool):
            raise InvalidInput(f"{tier}.suspend_approval_when_non_compliant is true or false")
        if not isinstance(spec["bias_audit_on_new_version"], bool):
            raise InvalidInput(f"{tier}.bias_audit_on_new_version is true or false")
        _fairness(spec["fairness_thresholds"], f"{tier}.fairness_thresholds")
        _incident_reminders(spec, tier)
        checked[tier] = copy.deepcopy(spec)
    return checked


def merge_tiers(current: dict[str, Any], changes: Any) -> dict[str, dict[str, Any]]:
    """The current policy with some tiers' fields replaced; the result is checked whole."""
    if not isinstance(changes, dict) or not changes:
        raise InvalidInput("changes name at least one tier")
    merged = upgrade_tiers(current)
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
HIGH_DOMAINS = frozenset({"credit", "insurance", "employment", "education", "essential_services"})
CRITICAL_DOMAINS = frozenset(
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
    if answers["safety_component"] or (domain in CRITICAL_DOMAINS and automated):
        return "critical"
    if (
        domain in HIGH_DOMAINS | CRITICAL_DOMAINS
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
