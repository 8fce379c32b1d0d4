"""Registry events: immutable facts in past tense, each with a schema version.

Streams: a registered model ("registry.Model") numbers its versions and holds its aliases; each
model version ("registry.ModelVersion") holds its own lifecycle; datasets and dataset versions
mirror that shape."""

from __future__ import annotations

from typing import Any, ClassVar

from eventstore.catalog import DomainEvent, event
from registry import rules

MODEL = "registry.Model"
MODEL_VERSION = "registry.ModelVersion"
DATASET = "registry.Dataset"
DATASET_VERSION = "registry.DatasetVersion"


@event("registry.ModelRegistered")
class ModelRegistered(DomainEvent):
    name: str = rules.MODEL_NAME.field()
    team: str = rules.TEAM.field()
    description: str = rules.LONG_TEXT.field()
    intended_use: str = rules.LONG_TEXT.field()
    limitations: str = rules.LONG_TEXT.field()
    tags: dict[str, Any] = rules.TAG_MAP.field()


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
    sensitive: ClassVar[tuple[str, ...]] = ("artifact_uri",)

    model_id: str = rules.ID.field()
    number: int = rules.NUMBER.field()
    description: str = rules.LONG_TEXT.field()
    artifact_uri: str = rules.ARTIFACT_URI.field()
    artifact_sha256: str = rules.ARTIFACT_SHA256.field()
    artifact_size: int | None = rules.ARTIFACT_SIZE.field()
    framework: str = rules.FRAMEWORK.field()
    parameters: dict[str, Any] = rules.JSON_OBJECT.field()
    metrics: dict[str, Any] = rules.JSON_OBJECT.field()
    signature: dict[str, Any] = rules.JSON_OBJECT.field()
    code_repo: str = rules.CODE_REPO.field()
    code_commit: str = rules.CODE_COMMIT.field()
    run_id: str = rules.RUN_ID.field()
    training_datasets: list[str] = rules.DATASET_REFS.field()
    evaluation_datasets: list[str] = rules.DATASET_REFS.field()
    tags: dict[str, Any] = rules.TAG_MAP.field()


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

    sensitive: ClassVar[tuple[str, ...]] = ("key", "uri")

    key: str
    uri: str
    size: int
    sha256: str
    method: str


@event("registry.ArtifactVerified")
class ArtifactVerified(DomainEvent):
    sensitive: ClassVar[tuple[str, ...]] = ("uri",)

    uri: str
    sha256: str
    size: int


@event("registry.ArtifactTamperDetected")
class ArtifactTamperDetected(DomainEvent):
    """The store no longer holds the verified bytes at the artifact's key: found at promotion
    (`check` "checksum" from the store's metadata, "rehash" from reading the bytes) or by the
    background re-hash after it. The version is never promoted again; governance opens a
    finding. `found_sha256` is empty where the object is gone or only its size told."""

    sensitive: ClassVar[tuple[str, ...]] = ("key", "uri")

    key: str
    uri: str
    recorded_sha256: str
    recorded_size: int
    found_sha256: str
    found_size: int | None
    check: str


@event("registry.AliasAssigned")
class AliasAssigned(DomainEvent):
    alias: str
    version: int
    previous_version: int | None


@event("registry.AliasRemoved")
class AliasRemoved(DomainEvent):
    alias: str
    version: int


@event("registry.StreamLinked")
class StreamLinked(DomainEvent):
    """A stream that concerns this model or version was opened elsewhere (an approval request,
    a review, an audit, a finding, an incident, evidence, the risk record, a lineage edge):
    recorded on the subject's own stream, so the subject's events name every stream about it.
    `kind` says what the stream is (STREAM_KINDS in registry.policies)."""

    sensitive: ClassVar[tuple[str, ...]] = ("stream_id",)

    stream_id: str
    stream_type: str
    kind: str


@event("registry.DatasetRegistered")
class DatasetRegistered(DomainEvent):
    name: str = rules.DATASET_NAME_SHAPE.field()
    team: str = rules.TEAM.field()
    description: str = rules.LONG_TEXT.field()
    tags: dict[str, Any] = rules.TAG_MAP.field()


@event("registry.DatasetVersionNumbered")
class DatasetVersionNumbered(DomainEvent):
    number: int
    version_id: str


@event("registry.DatasetVersionCreated")
class DatasetVersionCreated(DomainEvent):
    dataset_id: str = rules.ID.field()
    number: int = rules.NUMBER.field()
    uri: str = rules.DATASET_URI.field()
    checksum: str = rules.CHECKSUM.field()
    schema: dict[str, Any] = rules.JSON_OBJECT.field()
    row_count: int | None = rules.ROW_COUNT.field()
    pii_categories: list[str] = rules.PII_CATEGORIES.field()
    legal_basis: str = rules.LEGAL_BASIS.field()
    owner: str = rules.OWNER.field()
    retention_days: int | None = rules.RETENTION_DAYS.field()
    description: str = rules.LONG_TEXT.field()
    tags: dict[str, Any] = rules.TAG_MAP.field()


# Teams: the team a user's machine clients act for where a request names none (OpenLineage,
# MLflow), one stream per user; and dataset name prefixes claimed for a team, one stream per
# prefix (case-insensitive, as dataset names are).
USER_TEAMS = "registry.UserTeams"
DATASET_PREFIX = "registry.DatasetPrefix"


@event("registry.DefaultTeamChosen")
class DefaultTeamChosen(DomainEvent):
    user_id: int
    team_id: int
    team: str = rules.TEAM.field()


@event("registry.DatasetPrefixClaimed")
class DatasetPrefixClaimed(DomainEvent):
    prefix: str = rules.DATASET_PREFIX_SHAPE.field()
    team_id: int
    team: str = rules.TEAM.field()
