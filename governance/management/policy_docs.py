"""docs/governance-policy.md, docs/intake-questions.md and docs/model-card.md, rendered from
the policy data (governance.policy: the tiers the migrations seed as policy version 1, the
intake questions and how they propose a tier, the model card's fields), so the documents
cannot drift from what the service enforces. `manage.py write_governance_docs` writes them;
tests/governance/test_policy_docs.py holds the committed files to what the seeded policy
renders."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from governance import art73, policy

GENERATED = (
    "<!-- Generated from governance/policy.py by `./ledger manage write_governance_docs`:"
    " change the data there (or record a new policy version), not this file. -->"
)

TYPICAL_USE = {
    "low": "recommendations, internal search ranking, demand forecasting",
    "medium": "pricing, marketing targeting, customer segmentation",
    "high": "credit scoring, fraud detection, insurance underwriting, hiring",
    "critical": "medical diagnosis, autonomous systems, criminal justice, safety components",
}
EVIDENCE = {
    "model_card": "the model card: a document and a structured summary with every field of"
    " [model-card.md](model-card.md)",
    "bias_audit": "a bias audit report (see [bias-audit-spec.md](bias-audit-spec.md))",
    "explainability_report": "how the model's outputs are explained to reviewers and to the"
    " people affected",
    "dpia": "a data protection impact assessment (GDPR Art. 35)",
    "validation_report": "an independent validation of the model's performance and soundness",
    "human_oversight_plan": "who can intervene, override or stop the model, and how",
    "monitoring_plan": "what is monitored in production, thresholds and who is alerted",
    "regulatory_signoff": "the record of the regulator's or the notified body's sign-off",
    "evaluation_data": "the evaluation rows a bias audit runs on (CSV or Parquet), with an"
    " `audit_spec` in its summary; never required, it drives scheduled audits",
}
QUESTIONS = {
    "use_case": "What is the model used for? (free text, 1 to 2000 characters)",
    "affected_people": "Whom do its outputs affect?",
    "automated_decisions": "Does it decide without a person reviewing each decision?",
    "significant_effects": "Do its decisions have legal or similarly significant effects on"
    " people (credit, a job, a benefit, a price they cannot refuse)?",
    "personal_data": "Is it trained or run on personal data?",
    "special_category_data": "Special categories of personal data (health, ethnicity, religion,"
    " sexual orientation, biometrics; GDPR Art. 9)?",
    "regulated_domain": "Which regulated domain does it serve?",
    "safety_component": "Is it a safety component of a product or of critical infrastructure?",
}
MODEL_CARD = {
    "name": "the model's name in the registry",
    "version": "the version the card describes",
    "owners": "the owning team",
    "contact": "who answers questions about the model",
    "intended_use": "what the model is for, and for whom",
    "out_of_scope_uses": "uses it must not be put to",
    "users_and_affected_people": "who uses its outputs and who is affected by them",
    "training_data": "the dataset versions it was trained on",
    "evaluation_data": "the data it was evaluated on",
    "metrics": "metrics with their confidence and the slices they were measured on",
    "fairness_analysis": "how its outcomes differ across groups, and the bias audit",
    "limitations": "limitations and known failure modes",
    "ethical_considerations": "risks to people and how they are mitigated",
    "human_oversight": "who can intervene in or override its decisions",
    "monitoring_plan": "what is watched in production and what triggers a review",
    "change_log": "what changed from the previous version",
}
# Intake answers whose proposed tier the intake document shows (computed, never typed).
EXAMPLES = [
    ("internal demand forecast", "internal", False, False, False, False, "none", False),
    ("marketing targeting", "consumers", True, False, True, False, "marketing", False),
    ("consumer credit scoring", "consumers", True, True, True, False, "credit", False),
    ("hiring shortlist", "public", False, False, True, False, "employment", False),
    ("radiology triage", "vulnerable_groups", True, True, True, True, "healthcare", True),
]


def _days(n: int | None) -> str:
    if n is None:
        return "none scheduled"
    return "1 day" if n == 1 else f"{n} days"


def _kinds(kinds: list[str]) -> str:
    return ", ".join(f"`{kind}`" for kind in kinds) or "none"


def _evidence(spec: dict[str, Any]) -> str:
    text = _kinds(spec["evidence"])
    if spec["evidence_if_personal_data"]:
        text += f"; with personal data also {_kinds(spec['evidence_if_personal_data'])}"
    return text


def _overdue(spec: dict[str, Any]) -> str:
    if spec["overdue_action"] == "flag":
        return "flagged"
    if spec["suspend_approval_when_non_compliant"]:
        return "non-compliant, production approval suspended"
    return "non-compliant"


def _boards(quorums: dict[str, int]) -> str:
    """In the default boards' order (a stored document's keys come back in JSONB's order)."""
    order = [
        *(b for b in policy.BOARDS if b in quorums),
        *sorted(set(quorums) - set(policy.BOARDS)),
    ]
    return ", ".join(f"{board} {quorums[board]}" for board in order)


def _bias_cadence(spec: dict[str, Any]) -> str:
    text = _days(spec["bias_audit_cadence_days"])
    return text + (" and on every new version" if spec["bias_audit_on_new_version"] else "")


ROWS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("evidence before production", _evidence),
    ("boards and quorum", lambda s: _boards(s["boards"])),
    ("approval validity", lambda s: _days(s["approval_validity_days"])),
    ("periodic review cadence", lambda s: _days(s["review_cadence_days"])),
    ("bias audit cadence", _bias_cadence),
    (
        "review reminder / escalation / grace",
        lambda s: (
            f"{s['review_reminder_days']} / {s['review_escalation_days']} /"
            f" {s['review_grace_days']} days"
        ),
    ),
    ("overdue beyond grace", _overdue),
    ("record retention", lambda s: f"{s['retention_years']} years"),
    ("Art. 73 incident clock", lambda s: "yes" if s["incident_reporting_clock"] else "no"),
]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _thresholds(tiers: dict[str, dict[str, Any]]) -> list[str]:
    distinct = {json.dumps(spec["fairness_thresholds"], sort_keys=True) for spec in tiers.values()}
    scope = "every tier" if len(distinct) == 1 else "each tier"
    lines = [f"The thresholds of {scope} (`fairness_thresholds`):", ""]
    for tier in [t for t in policy.TIERS if t in tiers]:
        t = tiers[tier]["fairness_thresholds"]
        lines.append(
            f"- {'every tier' if len(distinct) == 1 else tier}: disparate impact ratio fails"
            f" below {t['min_disparate_impact_ratio']}, statistical parity difference below"
            f" {t['min_statistical_parity_difference']}, equalized odds difference above"
            f" {t['max_equalized_odds_difference']}; groups under {t['min_group_size']}"
            f" members are reported, not judged; significance level {t['significance_level']}."
        )
        if len(distinct) == 1:
            break
    return lines


def render_policy(tiers: dict[str, dict[str, Any]]) -> str:
    """The default risk-tier policy as a document, from a policy document's tiers."""
    names = [tier for tier in policy.TIERS if tier in tiers]
    rows = [["typical use", *(TYPICAL_USE.get(t, "") for t in names)]]
    rows += [[label, *(cell(tiers[t]) for t in names)] for label, cell in ROWS]
    spec = tiers[names[0]]
    fractions = ", ".join(f"{f:g}" for f in spec["incident_reminder_fractions"])
    hours = ", ".join(str(h) for h in spec["incident_reminder_hours_before"])
    lines = [
        GENERATED,
        "",
        "# Default governance policy",
        "",
        "What Model Ledger enforces out of the box: the migrations record it as policy version 1"
        " (`manage.py seed_governance`). Every value is data: `POST /api/v1/policies/` records a"
        " new policy version, and an approval request keeps the version in force when it was"
        " made. `GET /api/v1/policies/` shows the versions recorded.",
        "",
        "## Tiers",
        "",
        "A model's tier is proposed by its owners' intake answers"
        " ([intake-questions.md](intake-questions.md)) and confirmed or overridden, with a"
        " reason, by a model-risk officer.",
        "",
        *_table(["", *names], rows),
        "",
        "Evidence kinds:",
        "",
        *(f"- `{kind}`: {EVIDENCE[kind]}" for kind in policy.EVIDENCE_KINDS),
        "",
        "A periodic review opens before its due date (twice the reminder ahead), is reminded,"
        " escalates on the due date to the boards' chairs and half-way through grace to the"
        " model-risk officers; after grace the overdue action applies. A waiver of missing"
        " evidence is granted by the model-risk board's chair, expires, and is itself evidence.",
        "",
        "## Fairness thresholds",
        "",
        *_thresholds(tiers),
        "",
        "For each protected attribute (and each intersection asked for), every group is"
        " compared with a reference group: the one with the highest selection rate, a named"
        " privileged group, or everyone. Selection rate SR = positive predictions / members;"
        " disparate impact ratio = SR(group) / SR(reference); statistical parity difference ="
        " SR(group) - SR(reference); equalized odds difference = max(|TPR(g) - TPR(r)|,"
        " |FPR(g) - FPR(r)|). Each carries a Fisher exact or two-proportion z test: the"
        " four-fifths rule flags for review, it is not a verdict on its own. The spec an audit"
        " takes: [bias-audit-spec.md](bias-audit-spec.md).",
        "",
        "## Findings and serious incidents",
        "",
        "- A failed bias audit, an overdue Art. 73 report or a deployed version's voided"
        " approval opens a finding (severity, owning team, boards, due date); a board member"
        " closes it with evidence.",
        "- A serious incident on a model whose tier has the incident clock starts the EU AI Act"
        f" Art. 73 clock: report within {art73.REPORTING_DAYS[art73.SERIOUS]} days of awareness,"
        f" {art73.REPORTING_DAYS[art73.DEATH]} where a person died,"
        f" {art73.REPORTING_DAYS[art73.WIDESPREAD]} for a widespread or critical-infrastructure"
        f" incident (the strictest class wins). Reminders run at {fractions} of the window and"
        f" {hours} hours before the deadline.",
        "- Suspending a model is a risk officer's command with a reason; the promotion gate"
        " honours it at once.",
        "",
        "## Separation of duties",
        "",
        "- The requester, the model's owners and the version's authors never count as"
        " approvers, nor confirm the tier, grant waivers, close findings or complete reviews on"
        " it.",
        "- One person counts once, whatever boards they sit on.",
        "- A suspension is lifted by someone independent of the model and other than the one"
        " who suspended it.",
        "",
        "## Sources",
        "",
        "SR 11-7 and its successor SR 26-2 (inventory, independent validation, effective"
        " challenge, review by materiality); the EU AI Act (Art. 9 risk management, Art. 10 data"
        " governance, Art. 11 and Annex IV technical documentation, Art. 12 logging, Art. 14"
        " human oversight, Art. 18 keeping documentation for 10 years, Art. 73 serious"
        " incidents); the NIST AI RMF (Govern, Map, Measure, Manage).",
        "",
    ]
    return "\n".join(lines)


def _answers(example: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(policy.INTAKE_QUESTIONS, example, strict=True))


def _allowed(expected: Any) -> str:
    if expected is bool:
        return "`true` or `false`"
    if expected is str:
        return "text"
    return ", ".join(f"`{value}`" for value in expected)


def render_intake() -> str:
    rows = [
        [f"`{q}`", QUESTIONS[q], _allowed(expected)]
        for q, expected in policy.INTAKE_QUESTIONS.items()
    ]
    examples = [[example[0], f"`{policy.propose_tier(_answers(example))}`"] for example in EXAMPLES]
    body = json.dumps({"answers": _answers(EXAMPLES[2])}, indent=2)
    lines = [
        GENERATED,
        "",
        "# Intake questions",
        "",
        "A model's owners answer every question (`POST /api/v1/models/{name}/risk-tier/intake/`,"
        " or the admin); the answers propose a risk tier, which a model-risk officer confirms or"
        " overrides with a reason (`.../risk-tier/decision/`). New answers put a confirmed tier"
        " back to proposed until an officer confirms it again.",
        "",
        *_table(["question", "asks", "answers"], rows),
        "",
        "## How the answers propose a tier",
        "",
        "- **critical**: a safety component, or automated decisions in "
        + _kinds(sorted(policy.CRITICAL_DOMAINS)),
        "- **high**: otherwise any of "
        + _kinds(sorted(policy.HIGH_DOMAINS | policy.CRITICAL_DOMAINS))
        + "; automated decisions with significant effects; special-category data; or"
        " vulnerable groups affected",
        "- **medium**: otherwise personal data, or consumers or the public affected",
        "- **low**: everything else",
        "",
        *_table(["example", "proposed tier"], examples),
        "",
        "A request body:",
        "",
        "```json",
        body,
        "```",
        "",
    ]
    return "\n".join(lines)


def example_model_card() -> dict[str, Any]:
    card: dict[str, Any] = {field: f"{MODEL_CARD[field]} ..." for field in policy.MODEL_CARD_FIELDS}
    card.update(
        name="fraud-detector",
        version="1",
        owners="team fraud-ml",
        contact="olivia@example.org",
        metrics={"auc": 0.91, "slices": {"region=north": 0.9, "region=south": 0.92}},
    )
    return card


def render_model_card() -> str:
    if set(MODEL_CARD) != set(policy.MODEL_CARD_FIELDS):
        raise ValueError("MODEL_CARD describes other fields than policy.MODEL_CARD_FIELDS")
    rows = [[f"`{field}`", MODEL_CARD[field]] for field in policy.MODEL_CARD_FIELDS]
    body = {
        "kind": "model_card",
        "filename": "model-card.pdf",
        "size": 48213,
        "sha256": "<the document's sha256>",
        "summary": example_model_card(),
    }
    lines = [
        GENERATED,
        "",
        "# Model card",
        "",
        "Every tier needs a model card before production: a document (any format) stored as"
        " evidence of a version, with a structured summary that has every field below, none"
        " empty (else 422 `incomplete_model_card`). A field's value is any JSON: text, or an"
        " object where structure helps (metrics per slice).",
        "",
        *_table(["field", "what it holds"], rows),
        "",
        "Attaching it: ask for an upload URL (`POST"
        " /api/v1/models/{name}/versions/{n}/evidence/uploads/` with `kind`, `filename`,"
        " `size`, `sha256`), PUT the document there, then record it with its summary (`POST"
        " .../evidence/`):",
        "",
        "```json",
        json.dumps(body, indent=2),
        "```",
        "",
        "A new card replaces the version's previous one and voids decisions given on it: the"
        " reviewers decide again on what changed.",
        "",
    ]
    return "\n".join(lines)


def documents(tiers: dict[str, dict[str, Any]]) -> dict[str, str]:
    """File name under docs/ -> its text."""
    return {
        "governance-policy.md": render_policy(tiers),
        "intake-questions.md": render_intake(),
        "model-card.md": render_model_card(),
    }
