"""Governance errors: each a DomainError with a stable code and HTTP status."""

from core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unprocessable,
)


class PolicyNotFound(NotFound):
    code = "policy_not_found"
    title = "No such policy version"


class PolicyMissing(DomainError):
    """No policy version is recorded at all: the deployment was not seeded (the migrations and
    `manage.py seed_governance` record the default). Reads never seed it themselves."""

    code = "policy_missing"
    status = 503
    title = "No risk-tier policy is in force"


class NotRiskOfficer(PermissionDenied):
    code = "not_risk_officer"
    title = "Only a model-risk officer may do this"


class NotPolicyAdmin(PermissionDenied):
    code = "not_policy_admin"
    title = "Only policy administrators may record a policy version"


class IntakeMissing(Conflict):
    code = "intake_missing"
    title = "The model has no intake questionnaire yet"


class RiskTierMissing(Conflict):
    code = "risk_tier_missing"
    title = "The model has no confirmed risk tier"


class OverrideNeedsReason(InvalidInput):
    code = "override_reason_required"
    status = 422
    title = "Overriding the proposed tier needs a reason"


class AlreadySuspended(Conflict):
    code = "already_suspended"
    title = "The model is already suspended"


class NotSuspended(Conflict):
    code = "not_suspended"
    title = "The model is not suspended"


class IncompleteModelCard(Unprocessable):
    code = "incomplete_model_card"
    title = "The model card misses required fields"


class InvalidWaiver(Unprocessable):
    code = "invalid_waiver"
    title = "The waiver is not valid"


class InvalidRiskAcceptance(Unprocessable):
    code = "invalid_risk_acceptance"
    title = "The acceptance of the risk is not valid"


class ReviewNotFound(NotFound):
    code = "review_not_found"
    title = "No such periodic review"


class ReviewClosed(Conflict):
    code = "review_closed"
    title = "The periodic review is already completed"


class BiasAuditNotFound(NotFound):
    code = "bias_audit_not_found"
    title = "No such bias audit"


class EvidenceNotFound(NotFound):
    code = "evidence_not_found"
    title = "No such evidence document"


class FindingNotFound(NotFound):
    code = "finding_not_found"
    title = "No such finding"


class FindingClosed(Conflict):
    code = "finding_closed"
    title = "The finding is already closed"


class NoEvaluationData(Conflict):
    code = "no_evaluation_data"
    title = "The version has no evaluation data attached as evidence"


class NotAuditor(PermissionDenied):
    code = "not_allowed_to_audit"
    title = "Only the model's owners and board members run bias audits"


class IncidentNotFound(NotFound):
    code = "incident_not_found"
    title = "No such incident"


class AwarenessInFuture(Unprocessable):
    code = "awareness_in_future"
    title = "The moment of awareness cannot be in the future"


class AwareBeforeOccurred(Unprocessable):
    code = "aware_before_occurred"
    title = "Nobody becomes aware of an incident before it occurs"


class InvalidAuthorityReport(Unprocessable):
    code = "invalid_authority_report"
    title = "The report to the authority is not valid"


class NotIncidentReporter(PermissionDenied):
    code = "not_allowed_to_report_incident"
    title = "Only the model's owners, the model-risk board and risk officers report incidents"


class NotIncidentReviewer(PermissionDenied):
    code = "not_incident_reviewer"
    title = "Only the model-risk and legal boards and risk officers do this"


class IncidentClosed(Conflict):
    code = "incident_closed"
    title = "The incident is already closed"


class AlreadyReportedToAuthority(Conflict):
    code = "already_reported_to_authority"
    title = "The incident was already reported to the authority"


class AuthorityReportRequired(Conflict):
    code = "authority_report_required"
    title = "The Art. 73 report must be filed, or a reason given, before closing"
