"""Governance API views: thin adapters over governance and approvals commands, one module per
area (policies, tiering, evidence, reviews, audits and findings, incidents). The view classes
the URLs name are re-exported here."""

from api.governance.views.audits import (
    BiasAuditApi,
    BiasAuditCollectionApi,
    FindingApi,
    FindingClosureApi,
    FindingCollectionApi,
    FindingRemediationApi,
    FindingRiskAcceptanceApi,
)
from api.governance.views.evidence import (
    EvidenceCollectionApi,
    EvidenceUploadApi,
    WaiverApi,
)
from api.governance.views.incidents import (
    IncidentApi,
    IncidentAuthorityReportApi,
    IncidentClosureApi,
    IncidentCollectionApi,
    IncidentHistoryApi,
    ModelIncidentCollectionApi,
)
from api.governance.views.policies import (
    PolicyApi,
    PolicyCollectionApi,
)
from api.governance.views.reviews import (
    ReviewApi,
    ReviewCollectionApi,
    ReviewCompletionApi,
    ReviewHistoryApi,
)
from api.governance.views.tiering import (
    IntakeApi,
    ReinstatementApi,
    RiskTierApi,
    RiskTierDecisionApi,
    SuspensionApi,
)

__all__ = [
    "BiasAuditApi",
    "BiasAuditCollectionApi",
    "EvidenceCollectionApi",
    "EvidenceUploadApi",
    "FindingApi",
    "FindingClosureApi",
    "FindingCollectionApi",
    "FindingRemediationApi",
    "FindingRiskAcceptanceApi",
    "IncidentApi",
    "IncidentAuthorityReportApi",
    "IncidentClosureApi",
    "IncidentCollectionApi",
    "IncidentHistoryApi",
    "IntakeApi",
    "ModelIncidentCollectionApi",
    "PolicyApi",
    "PolicyCollectionApi",
    "ReinstatementApi",
    "ReviewApi",
    "ReviewCollectionApi",
    "ReviewCompletionApi",
    "ReviewHistoryApi",
    "RiskTierApi",
    "RiskTierDecisionApi",
    "SuspensionApi",
    "WaiverApi",
]
