"""Django app configuration for lineage: edges, traversal, OpenLineage ingestion, exports."""

from django.apps import AppConfig


class LineageConfig(AppConfig):
    name = "lineage"
    verbose_name = "Lineage and audit exports"
