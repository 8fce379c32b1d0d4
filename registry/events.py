"""Registry events: immutable facts in past tense, each with a schema version.

Streams: a registered model ("registry.Model") numbers its versions and holds its aliases; each
model version ("registry.ModelVersion") holds its own lifecycle; datasets and dataset versions
mirror that shape."""

from __future__ import annotations

from typing import Any

from eventstore.catalog import DomainEvent, event

MODEL = "registry.Model"
MODEL_VERSION = "registry.ModelVersion"
DATASET = "registry.Dataset"
DATASET_VERSION = "registry.DatasetVersion"


@event("registry.ModelRegistered")
class ModelRegistered(DomainEvent):
    name: str
    team: str
    description: str
    intended_use: str
    limitations: str
    tags: dict[str, Any]


@event("registry.ModelUpdated")
class ModelUpdated(DomainEvent):
    changes: dict[str, Any]


@event("registry.ModelRenamed")
class ModelRenamed(DomainEvent):
    old_name: str
    new_name: str


@event("registry.ModelArchived")
class ModelArchived(DomainEvent):
    reason: str


@event("registry.ModelVersionNumbered")
class ModelVersionNumbered(DomainEvent):
    number: int
    version_id: str


@event("registry.ModelVersionCreated")
class ModelVersionCreated(DomainEvent):
    model_id: str
    number: int
    description: str
    artifact_uri: str
    artifact_sha256: str
    artifact_size: int | None
    framework: str
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    signature: dict[str, Any]
    code_repo: str
    code_commit: str
    run_id: str
    training_datasets: list[str]
    evaluation_datasets: list[str]
    tags: dict[str, Any]


@event("registry.ModelVersionUpdated")
class ModelVersionUpdated(DomainEvent):
    changes: dict[str, Any]


@event("registry.ModelVersionStatusChanged")
class ModelVersionStatusChanged(DomainEvent):
    from_status: str
    to_status: str
    reason: str


@event("registry.ArtifactUploadAuthorized")
class ArtifactUploadAuthorized(DomainEvent):
    """The owner may now put these bytes at this key; verification compares against them."""

    key: str
    uri: str
    size: int
    sha256: str
    method: str


@event("registry.ArtifactVerified")
class ArtifactVerified(DomainEvent):
    uri: str
    sha256: str
    size: int


@event("registry.AliasAssigned")
class AliasAssigned(DomainEvent):
    alias: str
    version: int
    previous_version: int | None


@event("registry.AliasRemoved")
class AliasRemoved(DomainEvent):
    alias: str
    version: int


@event("registry.DatasetRegistered")
class DatasetRegistered(DomainEvent):
    name: str
    team: str
    description: str
    tags: dict[str, Any]


@event("registry.DatasetVersionNumbered")
class DatasetVersionNumbered(DomainEvent):
    number: int
    version_id: str


@event("registry.DatasetVersionCreated")
class DatasetVersionCreated(DomainEvent):
    dataset_id: str
    number: int
    uri: str
    checksum: str
    schema: dict[str, Any]
    row_count: int | None
    pii_categories: list[str]
    legal_basis: str
    owner: str
    retention_days: int | None
    description: str
    tags: dict[str, Any]
