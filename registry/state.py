"""Write models of the registry: pure folds of events into state, shared by the commands and by
time travel. Nothing here imports Django."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.shapes import with_fields_of
from eventstore.folds import AggregateState, Changes, Fold, copied
from eventstore.types import RecordedEvent
from registry import events as ev

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


def transition_allowed(current: str, target: str, *, by_review: bool = False) -> bool:
    """Whether a version may move from `current` to `target`; `by_review` adds the moves
    that only the approval workflow makes (REVIEW_TRANSITIONS)."""
    if target in TRANSITIONS.get(current, frozenset()):
        return True
    return by_review and target in REVIEW_TRANSITIONS.get(current, frozenset())


@dataclass(frozen=True)
@with_fields_of(ev.ModelRegistered)
class ModelState(AggregateState):
    archived: bool = False
    latest_version: int = 0
    versions: dict[int, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    # Streams opened elsewhere about the model as a whole (risk record, model-wide incidents
    # and findings), in the order they were linked: no read-table column.
    linked_streams: tuple[str, ...] = ()

    @property
    def exists(self) -> bool:
        return bool(self.name)


evolve_model = Fold(ModelState)


@evolve_model.on(ev.ModelRegistered, opens=True)
def _registered(state: ModelState, e: ev.ModelRegistered, rec: RecordedEvent) -> Changes:
    return copied(e, ModelState)


@evolve_model.on(ev.ModelUpdated)
def _updated(state: ModelState, e: ev.ModelUpdated, rec: RecordedEvent) -> Changes:
    return dict(e.changes)


@evolve_model.on(ev.ModelRenamed)
def _renamed(state: ModelState, e: ev.ModelRenamed, rec: RecordedEvent) -> Changes:
    return {"name": e.new_name}


@evolve_model.on(ev.ModelArchived)
def _archived(state: ModelState, e: ev.ModelArchived, rec: RecordedEvent) -> Changes:
    return {"archived": True}


@evolve_model.on(ev.ModelVersionNumbered)
def _numbered(state: ModelState, e: ev.ModelVersionNumbered, rec: RecordedEvent) -> Changes:
    return {"latest_version": e.number, "versions": {**state.versions, e.number: e.version_id}}


@evolve_model.on(ev.AliasAssigned)
def _alias_assigned(state: ModelState, e: ev.AliasAssigned, rec: RecordedEvent) -> Changes:
    return {"aliases": {**state.aliases, e.alias: e.version}}


@evolve_model.on(ev.AliasRemoved)
def _alias_removed(state: ModelState, e: ev.AliasRemoved, rec: RecordedEvent) -> Changes:
    return {"aliases": {k: v for k, v in state.aliases.items() if k != e.alias}}


def _linked(linked: tuple[str, ...], e: ev.StreamLinked) -> Changes:
    return {} if e.stream_id in linked else {"linked_streams": (*linked, e.stream_id)}


@evolve_model.on(ev.StreamLinked)
def _model_linked(state: ModelState, e: ev.StreamLinked, rec: RecordedEvent) -> Changes:
    return _linked(state.linked_streams, e)


@dataclass(frozen=True)
@with_fields_of(ev.ModelVersionCreated)
class VersionState(AggregateState):
    status: str = "draft"
    artifact_verified: bool = False
    pending_artifact: dict[str, Any] | None = None
    # The verified artifact's key in the store, and whether the store was found tampered
    # with since (registry.ArtifactTamperDetected): no read-table columns.
    artifact_key: str = ""
    artifact_tampered: bool = False
    # Streams opened elsewhere about this version (approval requests, reviews, audits,
    # findings, incidents, its evidence, lineage edges), in link order: no read-table column.
    linked_streams: tuple[str, ...] = ()

    @property
    def exists(self) -> bool:
        return self.number > 0


evolve_version = Fold(VersionState)


@evolve_version.on(ev.ModelVersionCreated, opens=True)
def _created(state: VersionState, e: ev.ModelVersionCreated, rec: RecordedEvent) -> Changes:
    return copied(e, VersionState)


@evolve_version.on(ev.ModelVersionUpdated)
def _version_updated(state: VersionState, e: ev.ModelVersionUpdated, rec: RecordedEvent) -> Changes:
    return dict(e.changes)


@evolve_version.on(ev.ModelVersionStatusChanged)
def _status_changed(
    state: VersionState, e: ev.ModelVersionStatusChanged, rec: RecordedEvent
) -> Changes:
    return {"status": e.to_status}


@evolve_version.on(ev.ArtifactUploadAuthorized)
def _upload_authorized(
    state: VersionState, e: ev.ArtifactUploadAuthorized, rec: RecordedEvent
) -> Changes:
    return {"pending_artifact": e.to_data()}


@evolve_version.on(ev.ArtifactVerified)
def _artifact_verified(state: VersionState, e: ev.ArtifactVerified, rec: RecordedEvent) -> Changes:
    return {
        "artifact_uri": e.uri,
        "artifact_sha256": e.sha256,
        "artifact_size": e.size,
        "artifact_verified": True,
        "artifact_key": (state.pending_artifact or {}).get("key", ""),
        "pending_artifact": None,
    }


@evolve_version.on(ev.ArtifactTamperDetected)
def _artifact_tampered(
    state: VersionState, e: ev.ArtifactTamperDetected, rec: RecordedEvent
) -> Changes:
    return {"artifact_tampered": True}


@evolve_version.on(ev.StreamLinked)
def _version_linked(state: VersionState, e: ev.StreamLinked, rec: RecordedEvent) -> Changes:
    return _linked(state.linked_streams, e)


@dataclass(frozen=True)
@with_fields_of(ev.DatasetRegistered)
class DatasetState(AggregateState):
    latest_version: int = 0
    versions: dict[int, str] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return bool(self.name)


evolve_dataset = Fold(DatasetState)


@evolve_dataset.on(ev.DatasetRegistered, opens=True)
def _dataset_registered(
    state: DatasetState, e: ev.DatasetRegistered, rec: RecordedEvent
) -> Changes:
    return copied(e, DatasetState)


@evolve_dataset.on(ev.DatasetVersionNumbered)
def _dataset_numbered(
    state: DatasetState, e: ev.DatasetVersionNumbered, rec: RecordedEvent
) -> Changes:
    return {"latest_version": e.number, "versions": {**state.versions, e.number: e.version_id}}


@dataclass(frozen=True)
@with_fields_of(ev.DatasetVersionCreated)
class DatasetVersionState(AggregateState):
    @property
    def exists(self) -> bool:
        return self.number > 0


evolve_dataset_version = Fold(DatasetVersionState)


@evolve_dataset_version.on(ev.DatasetVersionCreated, opens=True)
def _dataset_version_created(
    state: DatasetVersionState, e: ev.DatasetVersionCreated, rec: RecordedEvent
) -> Changes:
    return copied(e, DatasetVersionState)
