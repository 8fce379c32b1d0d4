"""Write models of the registry: pure folds of events into state, shared by the commands and by
time travel. Nothing here imports Django."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from eventstore.types import RecordedEvent

STATUSES = ("draft", "in_review", "approved", "rejected", "deployed", "deprecated", "retired")
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"in_review", "retired"}),
    "in_review": frozenset({"approved", "rejected", "draft"}),
    "approved": frozenset({"deployed", "deprecated", "retired"}),
    "rejected": frozenset({"draft", "retired"}),
    "deployed": frozenset({"deprecated"}),
    "deprecated": frozenset({"deployed", "retired"}),
    "retired": frozenset(),
}
REVIEW_OUTCOMES = frozenset({"approved", "rejected"})
# Moves only the approval workflow makes, never a client: an approval that stops counting (its
# evidence changed after it) sends the version back into review.
REVIEW_TRANSITIONS: dict[str, frozenset[str]] = {"approved": frozenset({"in_review"})}
RESERVED_ALIASES = frozenset({"production"})
ALIAS_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def transition_allowed(current: str, target: str, *, by_review: bool = False) -> bool:
    """Whether a version may move from `current` to `target`; `by_review` adds the moves
    that only the approval workflow makes (REVIEW_TRANSITIONS)."""
    if target in TRANSITIONS.get(current, frozenset()):
        return True
    return by_review and target in REVIEW_TRANSITIONS.get(current, frozenset())


@dataclass(frozen=True)
class ModelState:
    id: str = ""
    name: str = ""
    team: str = ""
    description: str = ""
    intended_use: str = ""
    limitations: str = ""
    tags: dict[str, Any] = field(default_factory=dict)
    archived: bool = False
    latest_version: int = 0
    versions: dict[int, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    stream_version: int = 0

    @property
    def exists(self) -> bool:
        return bool(self.name)


def evolve_model(state: ModelState, event: RecordedEvent) -> ModelState:
    data = event.data
    stamp = {"updated_at": event.recorded_at, "stream_version": event.version}
    match event.type:
        case "registry.ModelRegistered":
            return replace(
                state,
                id=str(event.stream_id),
                name=data["name"],
                team=data["team"],
                description=data["description"],
                intended_use=data["intended_use"],
                limitations=data["limitations"],
                tags=dict(data["tags"]),
                created_at=event.recorded_at,
                **stamp,
            )
        case "registry.ModelUpdated":
            return replace(state, **data["changes"], **stamp)
        case "registry.ModelRenamed":
            return replace(state, name=data["new_name"], **stamp)
        case "registry.ModelArchived":
            return replace(state, archived=True, **stamp)
        case "registry.ModelVersionNumbered":
            versions = {**state.versions, data["number"]: data["version_id"]}
            return replace(state, latest_version=data["number"], versions=versions, **stamp)
        case "registry.AliasAssigned":
            return replace(
                state, aliases={**state.aliases, data["alias"]: data["version"]}, **stamp
            )
        case "registry.AliasRemoved":
            aliases = {k: v for k, v in state.aliases.items() if k != data["alias"]}
            return replace(state, aliases=aliases, **stamp)
    return replace(state, **stamp)


@dataclass(frozen=True)
class VersionState:
    id: str = ""
    model_id: str = ""
    number: int = 0
    status: str = "draft"
    description: str = ""
    artifact_uri: str = ""
    artifact_sha256: str = ""
    artifact_size: int | None = None
    artifact_verified: bool = False
    pending_artifact: dict[str, Any] | None = None
    framework: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    signature: dict[str, Any] = field(default_factory=dict)
    code_repo: str = ""
    code_commit: str = ""
    run_id: str = ""
    training_datasets: tuple[str, ...] = ()
    evaluation_datasets: tuple[str, ...] = ()
    tags: dict[str, Any] = field(default_factory=dict)
    created_by: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    stream_version: int = 0

    @property
    def exists(self) -> bool:
        return self.number > 0


def evolve_version(state: VersionState, event: RecordedEvent) -> VersionState:
    data = event.data
    stamp = {"updated_at": event.recorded_at, "stream_version": event.version}
    match event.type:
        case "registry.ModelVersionCreated":
            return replace(
                state,
                id=str(event.stream_id),
                model_id=data["model_id"],
                number=data["number"],
                description=data["description"],
                artifact_uri=data["artifact_uri"],
                artifact_sha256=data["artifact_sha256"],
                artifact_size=data["artifact_size"],
                framework=data["framework"],
                parameters=dict(data["parameters"]),
                metrics=dict(data["metrics"]),
                signature=dict(data["signature"]),
                code_repo=data["code_repo"],
                code_commit=data["code_commit"],
                run_id=data["run_id"],
                training_datasets=tuple(data["training_datasets"]),
                evaluation_datasets=tuple(data["evaluation_datasets"]),
                tags=dict(data["tags"]),
                created_by=event.metadata.get("actor", ""),
                created_at=event.recorded_at,
                **stamp,
            )
        case "registry.ModelVersionUpdated":
            return replace(state, **data["changes"], **stamp)
        case "registry.ModelVersionStatusChanged":
            return replace(state, status=data["to_status"], **stamp)
        case "registry.ArtifactUploadAuthorized":
            return replace(state, pending_artifact=dict(data), **stamp)
        case "registry.ArtifactVerified":
            return replace(
                state,
                artifact_uri=data["uri"],
                artifact_sha256=data["sha256"],
                artifact_size=data["size"],
                artifact_verified=True,
                pending_artifact=None,
                **stamp,
            )
    return replace(state, **stamp)


@dataclass(frozen=True)
class DatasetState:
    id: str = ""
    name: str = ""
    team: str = ""
    description: str = ""
    tags: dict[str, Any] = field(default_factory=dict)
    latest_version: int = 0
    versions: dict[int, str] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    stream_version: int = 0

    @property
    def exists(self) -> bool:
        return bool(self.name)


def evolve_dataset(state: DatasetState, event: RecordedEvent) -> DatasetState:
    data = event.data
    stamp = {"updated_at": event.recorded_at, "stream_version": event.version}
    match event.type:
        case "registry.DatasetRegistered":
            return replace(
                state,
                id=str(event.stream_id),
                name=data["name"],
                team=data["team"],
                description=data["description"],
                tags=dict(data["tags"]),
                created_at=event.recorded_at,
                **stamp,
            )
        case "registry.DatasetVersionNumbered":
            versions = {**state.versions, data["number"]: data["version_id"]}
            return replace(state, latest_version=data["number"], versions=versions, **stamp)
    return replace(state, **stamp)


@dataclass(frozen=True)
class DatasetVersionState:
    id: str = ""
    dataset_id: str = ""
    number: int = 0
    uri: str = ""
    checksum: str = ""
    schema: dict[str, Any] = field(default_factory=dict)
    row_count: int | None = None
    pii_categories: tuple[str, ...] = ()
    legal_basis: str = ""
    owner: str = ""
    retention_days: int | None = None
    description: str = ""
    tags: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    stream_version: int = 0

    @property
    def exists(self) -> bool:
        return self.number > 0


def evolve_dataset_version(state: DatasetVersionState, event: RecordedEvent) -> DatasetVersionState:
    data = event.data
    if event.type == "registry.DatasetVersionCreated":
        return replace(
            state,
            id=str(event.stream_id),
            dataset_id=data["dataset_id"],
            number=data["number"],
            uri=data["uri"],
            checksum=data["checksum"],
            schema=dict(data["schema"]),
            row_count=data["row_count"],
            pii_categories=tuple(data["pii_categories"]),
            legal_basis=data["legal_basis"],
            owner=data["owner"],
            retention_days=data["retention_days"],
            description=data["description"],
            tags=dict(data["tags"]),
            created_at=event.recorded_at,
            stream_version=event.version,
        )
    return replace(state, stream_version=event.version)
