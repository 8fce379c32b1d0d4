"""Pure rules of governance: what the commands check and work out before they load or append,
with no database in sight. A version's number, the tier an officer records, evidence kinds,
file names and summaries, a waiver's term, an audit's source and the period a scheduled audit
covers, a review's outcome, and an incident's texts, timestamps, report to the authority and
closure. The policy document's own rules are governance.policy's, the review cadence
governance.cadence's and the Art. 73 clocks governance.art73's. Nothing here imports Django."""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from boards.rules import BOARD_NAME
from core.errors import InvalidInput
from core.shapes import CHOICE, DATETIME, JSON, LIST, PATTERN, TEXT, Shape
from eventstore.canonical import CanonicalizationError, check_json_value
from governance import art73, policy
from governance.errors import (
    AuthorityReportRequired,
    IncompleteModelCard,
    InvalidAuthorityReport,
    InvalidRiskAcceptance,
    InvalidWaiver,
    OverrideNeedsReason,
)
from governance.fairness import Thresholds, spec_with_thresholds
from registry.errors import ModelVersionNotFound
from registry.rules import SHA256

# -- versions ----------------------------------------------------------------------------


def require_version_number(number: Any, versions: Container[int], model_name: str) -> None:
    """ModelVersionNotFound unless `number` is an int (not a bool) among the model's versions."""
    if isinstance(number, bool) or not isinstance(number, int) or number not in versions:
        raise ModelVersionNotFound(f"model {model_name!r} has no version {number}")


# -- risk tier ---------------------------------------------------------------------------


def check_tier(tier: str | None) -> None:
    if tier is not None and tier not in policy.TIERS:
        raise InvalidInput(f"tier is one of {', '.join(policy.TIERS)}")


def chosen_tier(proposed_tier: str, tier: str | None, reason: str) -> tuple[str, bool]:
    """The tier an officer records (the proposed one unless given) and whether it overrides
    the proposal; an override needs a reason."""
    chosen = tier or proposed_tier
    overridden = chosen != proposed_tier
    if overridden and not reason.strip():
        raise OverrideNeedsReason("overriding the proposed tier needs a reason")
    return chosen, overridden


# -- evidence ----------------------------------------------------------------------------

MAX_FILENAME = 150
# A plain file name: letters, digits, '.', '_', '-' and inner spaces; no path, no leading '.'.
FILENAME = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9._ -]{0,148}[A-Za-z0-9._-])?$")
EVALUATION_DATA = "evaluation_data"


def check_kind(kind: Any) -> str:
    if kind not in policy.EVIDENCE_KINDS:
        raise InvalidInput(f"kind is one of {', '.join(policy.EVIDENCE_KINDS)}")
    return kind


def check_filename_length(filename: Any) -> None:
    if not isinstance(filename, str) or len(filename) > MAX_FILENAME:
        raise InvalidInput(f"an evidence file name is at most {MAX_FILENAME} characters")


def check_audit_spec(spec: Any) -> None:
    """The audit specification given with evaluation data is checked when it is attached, not
    when the audit runs later in a worker (the thresholds there come from the tier's policy)."""
    try:
        spec_with_thresholds(spec, Thresholds().as_dict())
    except InvalidInput as exc:
        raise type(exc)(f"summary.audit_spec: {exc.detail}", **exc.extra) from exc


def check_summary(kind: str, summary: Any) -> dict[str, Any]:
    """An evidence document's structured summary: a JSON object; a model card's has every
    field of docs/model-card.md, and an `audit_spec` given with evaluation data is a valid one."""
    if summary is None:
        summary = {}
    if not isinstance(summary, dict):
        raise InvalidInput("summary must be a JSON object")
    try:
        check_json_value(summary)
    except CanonicalizationError as exc:
        raise InvalidInput(f"summary: {exc}") from exc
    missing = policy.missing_model_card_fields(summary) if kind == "model_card" else []
    if missing:
        raise IncompleteModelCard(f"the model card misses: {', '.join(missing)}")
    if kind == EVALUATION_DATA and "audit_spec" in summary:
        check_audit_spec(summary["audit_spec"])
    return summary


def carries_audit_spec(kind: str, summary: dict[str, Any]) -> bool:
    """Evaluation data attached with the specification of its audit."""
    return kind == EVALUATION_DATA and "audit_spec" in summary


# -- waivers -----------------------------------------------------------------------------

MAX_WAIVER = timedelta(days=366)


def check_waiver_expiry(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is None or expires_at <= now:
        raise InvalidWaiver("a waiver expires in the future")
    if expires_at > now + MAX_WAIVER:
        raise InvalidWaiver("a waiver lasts at most a year")


# -- findings ----------------------------------------------------------------------------

# An accepted risk is due again when its acceptance expires, at most a year on.
MAX_RISK_ACCEPTANCE = timedelta(days=366)


def check_acceptance_expiry(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is None or expires_at <= now:
        raise InvalidRiskAcceptance("an accepted risk expires in the future")
    if expires_at > now + MAX_RISK_ACCEPTANCE:
        raise InvalidRiskAcceptance("a risk is accepted for at most a year")


# -- bias audits -------------------------------------------------------------------------

MAX_ROWS = 100_000
# What started an audit: a person or client, the periodic scan on the tier's cadence, or the
# evaluation data attached to a version of a tier that audits every new version.
ON_DEMAND, SCHEDULED, NEW_VERSION = "on_demand", "scheduled", "new_version"
AUDIT_TRIGGERS = (ON_DEMAND, SCHEDULED, NEW_VERSION)


def check_audit_source(rows: Any, use_evidence: bool) -> None:
    if (rows is None) == (not use_evidence):
        raise InvalidInput("audit either posted rows or the attached evaluation data")


def check_rows(rows: Any) -> None:
    if not isinstance(rows, list) or len(rows) > MAX_ROWS:
        raise InvalidInput(f"rows are a list of at most {MAX_ROWS} objects")


def audit_due(last: datetime, cadence_days: int) -> datetime:
    """When a scheduled audit comes due: the tier's cadence after the last audit (or anchor)."""
    return last + timedelta(days=cadence_days)


def scheduled_audit_key(due: datetime) -> str:
    """A scheduled audit is keyed by the period it covers."""
    return f"scheduled:{due.isoformat()}"


def new_version_audit_key(evidence_sha256: str) -> str:
    """One audit per evaluation data document of a version, whatever delivers the task."""
    return f"{NEW_VERSION}:{evidence_sha256}"


# -- the bias-audit requirement ----------------------------------------------------------
# Where a tier's policy requires a bias audit, the requirement is met by an audit the ledger
# computed itself, on the evaluation data attached to the version (re-hashed as it was read),
# with the policy's thresholds: never by an attached `bias_audit` document, whatever it says,
# and never by an audit of rows a client posted.

BIAS_AUDIT = "bias_audit"
FROM_EVIDENCE, FROM_ROWS = "evidence", "rows"
AUDIT_SOURCE_LABELS = {
    FROM_EVIDENCE: "computed on the attached evaluation data: counts toward the promotion gate",
    FROM_ROWS: "computed on rows a client posted: never counts toward the promotion gate",
}
BIAS_AUDIT_MISSING, BIAS_AUDIT_FAILED = "bias_audit_missing", "bias_audit_failed"


def audit_counts(source: str) -> bool:
    """Whether an audit of this source can meet the policy's bias-audit requirement."""
    return source == FROM_EVIDENCE


@dataclass(frozen=True)
class ComputedAudit:
    """What the gate needs of one recorded audit: where its rows came from, the evaluation
    data document it read, its verdict, and whether the finding it opened is still open."""

    id: str
    source: str
    evidence_sha256: str
    verdict: str
    finding_open: bool


def bias_audit_shortfall(
    audits: Iterable[ComputedAudit], evaluation_sha256: str, *, waived: bool
) -> str:
    """Why the bias-audit requirement is not met ("" when it is). Only audits computed on the
    attached evaluation data whose digest is `evaluation_sha256` (the document the approval
    bound) count. A failing one blocks while its finding is open; a passing one, or a failing
    one whose finding was closed with the evidence of its fix, meets the requirement. A waiver
    of the model-risk chair (`waived`, unexpired) stands in for a missing or failing audit."""
    if waived:
        return ""
    counted = [
        a
        for a in audits
        if audit_counts(a.source) and evaluation_sha256 and a.evidence_sha256 == evaluation_sha256
    ]
    if any(a.verdict == "fail" and a.finding_open for a in counted):
        return BIAS_AUDIT_FAILED
    if any(a.verdict == "pass" or (a.verdict == "fail" and not a.finding_open) for a in counted):
        return ""
    return BIAS_AUDIT_MISSING


# -- periodic reviews --------------------------------------------------------------------

REVIEWED_STATUSES = ("approved", "deployed")
OUTCOMES = ("satisfactory", "changes_required")


def check_outcome(outcome: Any) -> None:
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome is one of {', '.join(OUTCOMES)}")


def overdue_reason(sequence: int, version_number: int, due_at: datetime) -> str:
    return (
        f"periodic review {sequence} of version {version_number} was due"
        f" {due_at.date().isoformat()} and is overdue beyond its grace period"
    )


# -- incidents ---------------------------------------------------------------------------

# The boards that hear of incidents, follow their reports and close them.
INCIDENT_BOARDS = ["legal", "model-risk"]
TITLE_LIMIT = 200
DESCRIPTION_LIMIT = 10_000
REFERENCE_LIMIT = 200


def moment(value: Any, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput(f"{what} is a timestamp with a time zone")
    return value


def check_authority_report_time(
    reported_at: datetime, became_aware_at: datetime, now: datetime
) -> None:
    if reported_at > now:
        raise InvalidAuthorityReport("reported_at cannot be in the future")
    if reported_at < became_aware_at:
        raise InvalidAuthorityReport("reported_at cannot be before became_aware_at")


def reported_late(deadline_at: datetime | None, reported_at: datetime) -> bool:
    return deadline_at is not None and reported_at > deadline_at


def check_closure(clock_applies: bool, reported_to_authority: bool, no_report_reason: str) -> None:
    """Where the Art. 73 clock applied, an incident closes once its report to the authority is
    recorded, or with a reason why none was due."""
    if clock_applies and not reported_to_authority and not no_report_reason.strip():
        raise AuthorityReportRequired(
            "record the report to the authority first, or give no_report_reason"
        )


# -- shapes ------------------------------------------------------------------------------
# The shapes of the governance events' fields (core.shapes) that people and clients send:
# declared on the event classes, read by the commands and the API's input serializers.

REASON = Shape(TEXT, min_length=1, max_length=2000, required=True)
OVERRIDE_REASON = Shape(TEXT, max_length=2000, blank=True)
TIER = Shape(
    CHOICE,
    choices=policy.TIERS,
    help_text="Omit to confirm the proposed tier; another tier overrides it (reason needed)",
)
EVIDENCE_KIND = Shape(CHOICE, choices=policy.EVIDENCE_KINDS, required=True)
EVIDENCE_SHA256 = Shape(PATTERN, pattern=SHA256.pattern, required=True)
SUMMARY = Shape(
    JSON, help_text="Structured summary; a model card needs every field of docs/model-card.md"
)
WAIVER_EXPIRY = Shape(DATETIME, required=True)
ACCEPTANCE_EXPIRY = Shape(DATETIME, required=True)
REMEDIATION = Shape(TEXT, min_length=1, max_length=5000, required=True)
BOARD = Shape(PATTERN, pattern=BOARD_NAME.pattern, max_length=50, required=True)
OUTCOME = Shape(CHOICE, choices=OUTCOMES, required=True)
RATIONALE = Shape(TEXT, min_length=1, max_length=5000, required=True)
FINDING_RESOLUTION = Shape(TEXT, min_length=1, max_length=5000, required=True)
FIX_EVIDENCE = Shape(
    TEXT, min_length=1, max_length=2000, required=True, help_text="What shows the fix"
)
INCIDENT_TITLE = Shape(TEXT, min_length=1, max_length=TITLE_LIMIT, required=True)
INCIDENT_DESCRIPTION = Shape(
    TEXT,
    min_length=1,
    max_length=DESCRIPTION_LIMIT,
    required=True,
    help_text="What happened and its effects; name no person (the log is immutable)",
)
OCCURRED_AT = Shape(DATETIME, required=True)
BECAME_AWARE_AT = Shape(
    DATETIME,
    required=True,
    help_text="When the provider became aware; the Art. 73 clock runs from here",
)
INCIDENT_CLASSES = Shape(
    LIST,
    item=Shape(CHOICE, choices=art73.CLASSES),
    min_items=1,
    max_items=len(art73.CLASSES),
    required=True,
    help_text="serious (15 days), death (10 days), widespread or critical-infrastructure"
    " (2 days); the strictest applies",
)
AUTHORITY = Shape(
    TEXT,
    min_length=1,
    max_length=REFERENCE_LIMIT,
    required=True,
    help_text="The authority reported to",
)
AUTHORITY_REFERENCE = Shape(
    TEXT,
    min_length=1,
    max_length=REFERENCE_LIMIT,
    required=True,
    help_text="The authority's case reference",
)
REPORTED_AT = Shape(DATETIME, help_text="When it was reported; now if omitted")
INCIDENT_RESOLUTION = Shape(TEXT, min_length=1, max_length=DESCRIPTION_LIMIT, required=True)
NO_REPORT_REASON = Shape(
    TEXT,
    max_length=DESCRIPTION_LIMIT,
    blank=True,
    help_text="Why no Art. 73 report was filed where the clock applied",
)
