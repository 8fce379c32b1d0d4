"""The Prometheus endpoint's route, mounted at the site's root by config/urls.py."""

from django.urls import path

from api.metrics import MetricsApi

urlpatterns = [path("metrics", MetricsApi.as_view(), name="metrics")]
