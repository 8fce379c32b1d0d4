"""Projectors: registry events -> read tables. One function per event type, nothing else."""

from __future__ import annotations

from eventstore.projection import ProjectionWriter, projection_tables, projector
from eventstore.projection import touch as _touch
from eventstore.types import RecordedEvent
from registry.models import Dataset, DatasetVersion, ModelAlias, ModelVersion, RegisteredModel

projection_tables(RegisteredModel, ModelVersion, ModelAlias, Dataset, DatasetVersion)


@projector("registry.ModelRegistered")
def project_model_registered(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    out.insert(
        RegisteredModel,
        id=event.stream_id,
        name=data["name"],
        team=data["team"],
        description=data["description"],
        intended_use=data["intended_use"],
        limitations=data["limitations"],
        tags=data["tags"],
        archived=False,
        latest_version=0,
        stream_version=event.version,
        created_at=event.recorded_at,
        updated_at=event.recorded_at,
        created_by=event.metadata.get("actor", ""),
    )


@projector("registry.ModelUpdated")
def project_model_updated(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, RegisteredModel, event, **event.data["changes"])


@projector("registry.ModelRenamed")
def project_model_renamed(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, RegisteredModel, event, name=event.data["new_name"])


@projector("registry.ModelArchived")
def project_model_archived(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, RegisteredModel, event, archived=True)


@projector("registry.ModelVersionNumbered")
def project_model_version_numbered(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, RegisteredModel, event, latest_version=event.data["number"])


@projector("registry.AliasAssigned")
def project_alias_assigned(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, RegisteredModel, event)
    out.upsert(
        ModelAlias,
        ("model_id", "alias"),
        model_id=event.stream_id,
        alias=event.data["alias"],
        version=event.data["version"],
        updated_at=event.recorded_at,
    )


@projector("registry.AliasRemoved")
def project_alias_removed(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, RegisteredModel, event)
    out.delete(ModelAlias, model_id=event.stream_id, alias=event.data["alias"])


@projector("registry.ModelVersionCreated")
def project_model_version_created(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    out.insert(
        ModelVersion,
        id=event.stream_id,
        model_id=data["model_id"],
        number=data["number"],
        status="draft",
        description=data["description"],
        artifact_uri=data["artifact_uri"],
        artifact_sha256=data["artifact_sha256"],
        artifact_size=data["artifact_size"],
        artifact_verified=False,
        framework=data["framework"],
        parameters=data["parameters"],
        metrics=data["metrics"],
        signature=data["signature"],
        code_repo=data["code_repo"],
        code_commit=data["code_commit"],
        run_id=data["run_id"],
        training_datasets=data["training_datasets"],
        evaluation_datasets=data["evaluation_datasets"],
        tags=data["tags"],
        stream_version=event.version,
        created_at=event.recorded_at,
        updated_at=event.recorded_at,
        created_by=event.metadata.get("actor", ""),
    )


@projector("registry.ModelVersionUpdated")
def project_model_version_updated(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, ModelVersion, event, **event.data["changes"])


@projector("registry.ModelVersionStatusChanged")
def project_model_version_status_changed(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, ModelVersion, event, status=event.data["to_status"])


@projector("registry.ArtifactUploadAuthorized")
def project_artifact_upload_authorized(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, ModelVersion, event)


@projector("registry.ArtifactVerified")
def project_artifact_verified(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    _touch(
        out,
        ModelVersion,
        event,
        artifact_uri=data["uri"],
        artifact_sha256=data["sha256"],
        artifact_size=data["size"],
        artifact_verified=True,
    )


@projector("registry.DatasetRegistered")
def project_dataset_registered(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    out.insert(
        Dataset,
        id=event.stream_id,
        name=data["name"],
        team=data["team"],
        description=data["description"],
        tags=data["tags"],
        latest_version=0,
        stream_version=event.version,
        created_at=event.recorded_at,
        updated_at=event.recorded_at,
        created_by=event.metadata.get("actor", ""),
    )


@projector("registry.DatasetVersionNumbered")
def project_dataset_version_numbered(event: RecordedEvent, out: ProjectionWriter) -> None:
    _touch(out, Dataset, event, latest_version=event.data["number"])


@projector("registry.DatasetVersionCreated")
def project_dataset_version_created(event: RecordedEvent, out: ProjectionWriter) -> None:
    data = event.data
    out.insert(
        DatasetVersion,
        id=event.stream_id,
        dataset_id=data["dataset_id"],
        number=data["number"],
        uri=data["uri"],
        checksum=data["checksum"],
        schema=data["schema"],
        row_count=data["row_count"],
        pii_categories=data["pii_categories"],
        legal_basis=data["legal_basis"],
        owner=data["owner"],
        retention_days=data["retention_days"],
        description=data["description"],
        tags=data["tags"],
        stream_version=event.version,
        created_at=event.recorded_at,
        created_by=event.metadata.get("actor", ""),
    )
