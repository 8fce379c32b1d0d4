"""Governance commands: load -> decide -> append. The only writers of governance state.

Policies are versioned data: the defaults are seeded once (idempotently) and every change
records a whole new policy version. A model's tier is proposed by its intake answers and
confirmed or overridden by a model-risk officer. Evidence is a document in artifact storage,
checked against its declared size and sha256, plus a structured summary. Bias audits, periodic
reviews, findings and serious incidents have their own commands and scans.

One module per area (policy_versions, tiering, evidence, waivers, audits, findings, reviews,
incidents); the pure checks they share are governance.rules'. The command functions are
re-exported here, so `from governance import commands; commands.attach_evidence(...)` works."""

from governance.commands.audits import audit_new_version, run_bias_audit, scan_bias_audits
from governance.commands.common import repeated
from governance.commands.evidence import (
    AUDIT_NEW_VERSION_TASK,
    MAX_FILENAME,
    attach_evidence,
    evidence_key,
    evidence_upload,
    record_evidence_tamper,
)
from governance.commands.findings import accept_finding_risk, close_finding, record_remediation
from governance.commands.incidents import (
    advance_incident,
    close_incident,
    record_authority_report,
    report_incident,
    scan_incidents,
)
from governance.commands.policy_versions import (
    DEFAULT_REASON,
    ensure_default_policy,
    record_policy_version,
)
from governance.commands.reviews import advance_review, complete_review, scan_reviews
from governance.commands.tiering import (
    assign_risk_tier,
    record_intake,
    reinstate_model,
    suspend_model,
)
from governance.commands.waivers import grant_waiver

__all__ = [
    "AUDIT_NEW_VERSION_TASK",
    "DEFAULT_REASON",
    "MAX_FILENAME",
    "accept_finding_risk",
    "advance_incident",
    "advance_review",
    "assign_risk_tier",
    "attach_evidence",
    "audit_new_version",
    "close_finding",
    "close_incident",
    "complete_review",
    "ensure_default_policy",
    "evidence_key",
    "evidence_upload",
    "grant_waiver",
    "record_authority_report",
    "record_evidence_tamper",
    "record_intake",
    "record_policy_version",
    "record_remediation",
    "reinstate_model",
    "repeated",
    "report_incident",
    "run_bias_audit",
    "scan_bias_audits",
    "scan_incidents",
    "scan_reviews",
    "suspend_model",
]
