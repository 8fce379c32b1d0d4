"""Django app configuration for lineage: edges, traversal, OpenLineage ingestion, exports."""

from django.apps import AppConfig


class LineageConfig(AppConfig):
    name = "lineage"
    verbose_name = "Lineage and audit exports"

    def ready(self) -> None:
        from lineage import events, projectors  # noqa: F401  (register types and projectors)
