"""The REST API: /api/v1/ resources, the OpenAPI schema, its Swagger UI and ReDoc pages, and
a problem+json 404 for every other path under /api/."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

import api.schema  # noqa: F401  (registers the Bearer scheme with drf-spectacular)
from api.docs import RedocDocsView, SwaggerDocsView, unmatched

urlpatterns = [
    path("v1/", include("api.registry.urls")),
    path("v1/", include("api.governance.urls")),
    path("v1/", include("api.approvals.urls")),
    path("v1/", include("api.lineage.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerDocsView.as_view(url_name="schema"), name="docs"),
    path("redoc/", RedocDocsView.as_view(url_name="schema"), name="redoc"),
    # Last: whatever no route above takes.
    re_path(r"^", unmatched),
]
