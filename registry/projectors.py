"""Projectors: registry events -> read tables. Models, versions, datasets and dataset versions
are snapshots of their streams' folds (eventstore.snapshots); aliases are rows of their own."""

from __future__ import annotations

from eventstore.projection import ProjectionWriter, projection_tables, projector
from eventstore.snapshots import snapshot
from eventstore.types import RecordedEvent
from registry import events as ev
from registry.models import (
    Dataset,
    DatasetPrefix,
    DatasetVersion,
    DefaultTeam,
    ModelAlias,
    ModelVersion,
    RegisteredModel,
)
from registry.state import evolve_dataset, evolve_dataset_version, evolve_model, evolve_version

snapshot(RegisteredModel, evolve_model)
snapshot(ModelVersion, evolve_version)
snapshot(Dataset, evolve_dataset)
snapshot(DatasetVersion, evolve_dataset_version)
projection_tables(ModelAlias, DefaultTeam, DatasetPrefix)


@projector(ev.AliasAssigned)
def project_alias_assigned(e: ev.AliasAssigned, rec: RecordedEvent, out: ProjectionWriter) -> None:
    out.upsert(
        ModelAlias,
        ("model_id", "alias"),
        model_id=rec.stream_id,
        alias=e.alias,
        version=e.version,
        updated_at=rec.recorded_at,
    )


@projector(ev.AliasRemoved)
def project_alias_removed(e: ev.AliasRemoved, rec: RecordedEvent, out: ProjectionWriter) -> None:
    out.delete(ModelAlias, model_id=rec.stream_id, alias=e.alias)


@projector(ev.DefaultTeamChosen)
def project_default_team_chosen(
    e: ev.DefaultTeamChosen, rec: RecordedEvent, out: ProjectionWriter
) -> None:
    out.upsert(
        DefaultTeam,
        ("user_id",),
        user_id=e.user_id,
        team_id=e.team_id,
        team=e.team,
        updated_at=rec.recorded_at,
    )


@projector(ev.DatasetPrefixClaimed)
def project_dataset_prefix_claimed(
    e: ev.DatasetPrefixClaimed, rec: RecordedEvent, out: ProjectionWriter
) -> None:
    out.insert(
        DatasetPrefix,
        id=rec.stream_id,
        prefix=e.prefix,
        team_id=e.team_id,
        team=e.team,
        created_at=rec.recorded_at,
        created_by=str(rec.metadata.get("actor", "")),
    )
