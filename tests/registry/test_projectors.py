"""The registry's read tables: models, versions, datasets and dataset versions are snapshot
tables (eventstore.snapshots) holding exactly the fold of each stream, and a row changed
behind the log's back is found; aliases are rows of their own that follow the model's fold."""

from __future__ import annotations

from eventstore import snapshots
from eventstore.verify import snapshot_mismatches
from registry import commands, streams
from registry.commands import DatasetVersionInput, VersionInput
from registry.models import DatasetVersion, ModelAlias, ModelVersion, RegisteredModel


def _scenario(actor):
    model = commands.register_model(actor=actor, name="snap-model", team="fraud-ml")
    dataset = commands.register_dataset(actor=actor, name="s3://lake/snap", team="fraud-ml")
    commands.create_dataset_version(
        actor=actor,
        dataset_id=dataset.id,
        data=DatasetVersionInput(
            uri="s3://lake/snap/1", pii_categories=("email",), retention_days=30
        ),
    )
    version = commands.create_model_version(
        actor=actor,
        model_id=model.id,
        data=VersionInput(
            description="first",
            code_commit="abc1234",
            training_datasets=("s3://lake/snap@1",),
            parameters={"depth": 3},
            tags={"stage": "dev"},
        ),
    )
    commands.update_model(
        actor=actor, model_id=model.id, expected_version=None, changes={"description": "updated"}
    )
    commands.update_model_version(
        actor=actor, version_id=version.id, expected_version=None, changes={"tags": {"stage": "qa"}}
    )
    commands.create_model_version(actor=actor, model_id=model.id, data=VersionInput())
    commands.assign_alias(actor=actor, model_id=model.id, alias="champion", version=1)
    commands.assign_alias(actor=actor, model_id=model.id, alias="shadow", version=2)
    commands.assign_alias(actor=actor, model_id=model.id, alias="champion", version=2)
    commands.remove_alias(actor=actor, model_id=model.id, alias="shadow")
    return model, version


def test_every_snapshot_row_equals_the_fold_of_its_stream(owner_actor):
    model, version = _scenario(owner_actor)
    tables = {spec.model for spec in snapshots.registered_snapshots()}
    assert {RegisteredModel, ModelVersion, DatasetVersion} <= tables
    assert RegisteredModel.objects.get(id=model.id).description == "updated"
    assert ModelVersion.objects.get(id=version.id).tags == {"stage": "qa"}
    assert snapshot_mismatches() == []


def test_a_row_changed_behind_the_logs_back_is_found(owner_actor):
    _, version = _scenario(owner_actor)
    ModelVersion.objects.filter(id=version.id).update(code_commit="fffffff")
    found = snapshot_mismatches()
    assert [(m.table, m.id, m.column, m.row, m.fold) for m in found] == [
        (ModelVersion._meta.db_table, str(version.id), "code_commit", "fffffff", "abc1234")
    ]


def test_alias_rows_are_the_aliases_of_the_models_fold(owner_actor):
    model, _ = _scenario(owner_actor)
    rows = dict(ModelAlias.objects.filter(model_id=model.id).values_list("alias", "version"))
    assert rows == streams.load_model(model.id).aliases == {"champion": 2}
