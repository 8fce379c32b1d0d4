"""Governance routes: policies, a model's risk tier and suspension, a version's evidence,
bias audits, findings, periodic reviews and serious incidents."""

from django.urls import path

from api.approvals.views import PromotionApi
from api.governance import views

VERSION = "models/<str:name>/versions/<int:number>/"

urlpatterns = [
    path("policies/", views.PolicyCollectionApi.as_view(), name="policies"),
    path("policies/<int:number>/", views.PolicyApi.as_view(), name="policy"),
    path("models/<str:name>/risk-tier/", views.RiskTierApi.as_view(), name="risk-tier"),
    path("models/<str:name>/risk-tier/intake/", views.IntakeApi.as_view(), name="risk-intake"),
    path(
        "models/<str:name>/risk-tier/decision/",
        views.RiskTierDecisionApi.as_view(),
        name="risk-tier-decision",
    ),
    path("models/<str:name>/suspension/", views.SuspensionApi.as_view(), name="suspension"),
    path(
        "models/<str:name>/reinstatement/",
        views.ReinstatementApi.as_view(),
        name="reinstatement",
    ),
    path(f"{VERSION}evidence/", views.EvidenceCollectionApi.as_view(), name="evidence"),
    path(f"{VERSION}evidence/uploads/", views.EvidenceUploadApi.as_view(), name="evidence-upload"),
    path(f"{VERSION}waivers/", views.WaiverApi.as_view(), name="waivers"),
    path(f"{VERSION}promotion/", PromotionApi.as_view(), name="promotion"),
    path(f"{VERSION}bias-audits/", views.BiasAuditCollectionApi.as_view(), name="bias-audits"),
    path("bias-audits/<uuid:audit_id>/", views.BiasAuditApi.as_view(), name="bias-audit"),
    path("findings/", views.FindingCollectionApi.as_view(), name="findings"),
    path("findings/<uuid:finding_id>/", views.FindingApi.as_view(), name="finding"),
    path(
        "findings/<uuid:finding_id>/closure/",
        views.FindingClosureApi.as_view(),
        name="finding-closure",
    ),
    path(
        "findings/<uuid:finding_id>/remediation/",
        views.FindingRemediationApi.as_view(),
        name="finding-remediation",
    ),
    path(
        "findings/<uuid:finding_id>/risk-acceptance/",
        views.FindingRiskAcceptanceApi.as_view(),
        name="finding-risk-acceptance",
    ),
    path(
        "models/<str:name>/incidents/",
        views.ModelIncidentCollectionApi.as_view(),
        name="model-incidents",
    ),
    path("incidents/", views.IncidentCollectionApi.as_view(), name="incidents"),
    path("incidents/<uuid:incident_id>/", views.IncidentApi.as_view(), name="incident"),
    path(
        "incidents/<uuid:incident_id>/history/",
        views.IncidentHistoryApi.as_view(),
        name="incident-history",
    ),
    path(
        "incidents/<uuid:incident_id>/authority-report/",
        views.IncidentAuthorityReportApi.as_view(),
        name="incident-authority-report",
    ),
    path(
        "incidents/<uuid:incident_id>/closure/",
        views.IncidentClosureApi.as_view(),
        name="incident-closure",
    ),
    path("reviews/", views.ReviewCollectionApi.as_view(), name="reviews"),
    path("reviews/<uuid:review_id>/", views.ReviewApi.as_view(), name="review"),
    path(
        "reviews/<uuid:review_id>/history/", views.ReviewHistoryApi.as_view(), name="review-history"
    ),
    path(
        "reviews/<uuid:review_id>/completion/",
        views.ReviewCompletionApi.as_view(),
        name="review-completion",
    ),
]
