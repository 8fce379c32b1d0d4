"""Lineage and export routes (README, Lineage and audit exports). POST /api/v1/lineage is where the
openlineage-python HTTP transport sends RunEvents (endpoint "api/v1/lineage")."""

from django.urls import path

from api.lineage import checkpoints, edges, teams, views

urlpatterns = [
    path("lineage", views.OpenLineageApi.as_view(), name="openlineage"),
    path("lineage/edges/", edges.EdgeCollectionApi.as_view(), name="lineage-edges"),
    path(
        "lineage/dataset-prefixes/",
        teams.DatasetPrefixCollectionApi.as_view(),
        name="lineage-dataset-prefixes",
    ),
    path("users/<str:username>/default-team/", teams.DefaultTeamApi.as_view(), name="default-team"),
    path("lineage/upstream/", views.UpstreamApi.as_view(), name="lineage-upstream"),
    path("lineage/downstream/", views.DownstreamApi.as_view(), name="lineage-downstream"),
    path("exports/lineage/", views.LineageExportApi.as_view(), name="export-lineage"),
    path("exports/audit-trail/", views.AuditTrailExportApi.as_view(), name="export-audit-trail"),
    path("checkpoints/", checkpoints.CheckpointCollectionApi.as_view(), name="checkpoints"),
    path("checkpoints/latest/", views.CheckpointLatestApi.as_view(), name="checkpoint-latest"),
    path(
        "checkpoints/consistency/",
        checkpoints.CheckpointConsistencyApi.as_view(),
        name="checkpoint-consistency",
    ),
    path("exports/audit-bundle/", views.AuditBundleExportApi.as_view(), name="export-audit-bundle"),
]
