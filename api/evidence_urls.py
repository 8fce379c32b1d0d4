"""The evidence documents' routes, mounted at the site's root by config/urls.py: outside
/admin/ and /api/, so a document never shares a path with the pages that act."""

from django.urls import re_path

from api.documents import EvidenceDocumentView, EvidencePreviewView

SHA256 = "(?P<sha256>[0-9a-f]{64})"

urlpatterns = [
    re_path(
        rf"^evidence/(?P<evidence_id>[0-9a-f-]{{36}})/{SHA256}/$",
        EvidenceDocumentView.as_view(),
        name="evidence-document",
    ),
    re_path(
        rf"^evidence/(?P<evidence_id>[0-9a-f-]{{36}})/{SHA256}/preview/$",
        EvidencePreviewView.as_view(),
        name="evidence-preview",
    ),
]
