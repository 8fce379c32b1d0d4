"""The registry's lookups: names found whatever their case, objects as they were at a position
or a moment, and a clear not-found before an object existed."""

from __future__ import annotations

import pytest

from eventstore.models import Event
from registry import commands, queries
from registry.commands import DatasetVersionInput, VersionInput
from registry.errors import (
    DatasetNotFound,
    DatasetVersionNotFound,
    ModelNotFound,
    ModelVersionNotFound,
)


def _position() -> int:
    return Event.objects.order_by("-position").values_list("position", flat=True).first() or 0


def test_names_are_found_whatever_their_case(owner_actor):
    model = commands.register_model(actor=owner_actor, name="Fraud-Detector", team="fraud-ml")
    dataset = commands.register_dataset(actor=owner_actor, name="s3://Lake/T", team="fraud-ml")
    assert str(queries.model_id_for("fraud-detector")) == model.id
    assert str(queries.dataset_id_for("S3://LAKE/t")) == dataset.id
    with pytest.raises(ModelNotFound):
        queries.model_id_for("no-such-model")
    with pytest.raises(DatasetNotFound):
        queries.dataset_id_for("s3://nowhere")


def test_a_model_and_its_version_are_read_as_they_were(owner_actor):
    model = commands.register_model(
        actor=owner_actor, name="fraud", team="fraud-ml", description="first"
    )
    commands.create_model_version(actor=owner_actor, model_id=model.id, data=VersionInput())
    before = _position()
    commands.update_model(
        actor=owner_actor,
        model_id=model.id,
        expected_version=None,
        changes={"description": "second"},
    )
    version = queries.get_version("fraud", 1)
    commands.update_model_version(
        actor=owner_actor,
        version_id=version.id,
        expected_version=None,
        changes={"description": "v"},
    )
    assert queries.get_model("fraud").description == "second"
    assert queries.get_model("fraud", up_to_position=before).description == "first"
    assert queries.get_version("fraud", 1).description == "v"
    assert queries.get_version("fraud", 1, up_to_position=before).description == ""
    with pytest.raises(ModelVersionNotFound):
        queries.get_version("fraud", 2)


def test_before_it_existed_an_object_is_not_found_at_that_point(owner_actor):
    commands.register_model(actor=owner_actor, name="early", team="fraud-ml")
    before = _position()
    model = commands.register_model(actor=owner_actor, name="late", team="fraud-ml")
    with pytest.raises(ModelNotFound, match="did not exist yet"):
        queries.get_model("late", up_to_position=before)
    assert queries.get_model("late", as_of=model.created_at).id == model.id


def test_dataset_versions_are_read_by_name_and_number(owner_actor):
    dataset = commands.register_dataset(actor=owner_actor, name="s3://lake/t", team="fraud-ml")
    before = _position()
    commands.create_dataset_version(
        actor=owner_actor, dataset_id=dataset.id, data=DatasetVersionInput(uri="s3://lake/t/1")
    )
    assert queries.get_dataset("s3://lake/t").latest_version == 1
    assert queries.get_dataset("s3://lake/t", up_to_position=before).latest_version == 0
    assert queries.get_dataset_version("s3://lake/t", 1).uri == "s3://lake/t/1"
    with pytest.raises(DatasetVersionNotFound):
        queries.get_dataset_version("s3://lake/t", 1, up_to_position=before)
