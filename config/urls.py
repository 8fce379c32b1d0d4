"""URL map: admin, health probes and metrics; the REST API mounts under /api/v1/. Apps are
named by their URL modules only, so config imports no app."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Model Ledger"
admin.site.site_title = "Model Ledger"
admin.site.index_title = "Registry, governance and audit"

urlpatterns = [
    path("", include("core.urls")),
    path("", include("api.metrics_urls")),
    path("admin/", admin.site.urls),
    # Evidence documents for reviewers, outside /admin/ (api/documents.py says why).
    path("", include("api.evidence_urls")),
    # The local artifact store's signed upload URLs (S3 takes the bytes itself when configured).
    path("", include("registry.upload")),
    # MLflow's model-registry REST API, and the twin its web UI calls; before /api/, whose
    # last route answers every path it does not match with a problem+json 404.
    path("api/2.0/mlflow/", include("api.mlflow.urls")),
    path("ajax-api/2.0/mlflow/", include("api.mlflow.urls")),
    path("api/", include("api.urls")),
]

handler400 = "api.errors.api_bad_request"
handler403 = "api.errors.api_forbidden"
handler404 = "api.errors.api_not_found"
handler500 = "api.errors.api_server_error"
