"""URL map: admin, health probes; the REST API mounts under /api/v1/."""

from django.contrib import admin
from django.urls import include, path

from api.metrics import MetricsApi
from core.health import healthz, readyz
from registry.upload import urlpatterns as artifact_upload_urlpatterns

admin.site.site_header = "Model Ledger"
admin.site.site_title = "Model Ledger"
admin.site.index_title = "Registry, governance and audit"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", MetricsApi.as_view(), name="metrics"),
    path("admin/", admin.site.urls),
    # The local artifact store's signed upload URLs (S3 takes the bytes itself when configured).
    *artifact_upload_urlpatterns,
    path("api/", include("api.urls")),
]

handler400 = "api.errors.api_bad_request"
handler403 = "api.errors.api_forbidden"
handler404 = "api.errors.api_not_found"
handler500 = "api.errors.api_server_error"
