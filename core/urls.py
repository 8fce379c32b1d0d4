"""The health probes' routes, mounted at the site's root by config/urls.py."""

from django.urls import path

from core.health import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]
