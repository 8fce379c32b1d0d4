"""Registry API views: thin adapters. Each method parses input, calls one command or query,
and renders; rules and permissions live in registry.commands.

One module per area: models, versions, artifacts, aliases and datasets. The routes in
api.registry.urls name the view classes through this package: `views.ModelApi`."""

from __future__ import annotations

from api.registry.views.aliases import AliasApi, AliasCollectionApi
from api.registry.views.artifacts import (
    ArtifactApi,
    ArtifactContentApi,
    ArtifactUploadUrlApi,
    ArtifactVerifyApi,
    OctetStreamParser,
)
from api.registry.views.datasets import (
    DatasetApi,
    DatasetCollectionApi,
    DatasetHistoryApi,
    DatasetVersionApi,
    DatasetVersionCollectionApi,
    DatasetVersionFilter,
    DatasetVersionHistoryApi,
)
from api.registry.views.models import ModelApi, ModelCollectionApi, ModelFilter, ModelHistoryApi
from api.registry.views.versions import (
    ModelVersionApi,
    ModelVersionCollectionApi,
    ModelVersionHistoryApi,
    VersionFilter,
)

__all__ = [
    "AliasApi",
    "AliasCollectionApi",
    "ArtifactApi",
    "ArtifactContentApi",
    "ArtifactUploadUrlApi",
    "ArtifactVerifyApi",
    "DatasetApi",
    "DatasetCollectionApi",
    "DatasetHistoryApi",
    "DatasetVersionApi",
    "DatasetVersionCollectionApi",
    "DatasetVersionFilter",
    "DatasetVersionHistoryApi",
    "ModelApi",
    "ModelCollectionApi",
    "ModelFilter",
    "ModelHistoryApi",
    "ModelVersionApi",
    "ModelVersionCollectionApi",
    "ModelVersionHistoryApi",
    "OctetStreamParser",
    "VersionFilter",
]
