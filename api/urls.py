"""The REST API: /api/v1/ resources and the OpenAPI schema with its Swagger UI."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

import api.schema  # noqa: F401  (registers the Bearer scheme with drf-spectacular)

urlpatterns = [
    path("v1/", include("api.registry.urls")),
    path("v1/", include("api.governance.urls")),
    path("v1/", include("api.approvals.urls")),
    path("v1/", include("api.lineage.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
