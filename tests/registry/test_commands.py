"""Registry commands: registration, versions, lifecycle, aliases, datasets, permissions."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from approvals.errors import PromotionBlocked
from core.actors import Actor
from core.errors import InvalidInput
from eventstore import store
from eventstore.types import ConcurrencyConflict
from registry import commands, streams
from registry.commands import DatasetVersionInput, VersionInput
from registry.errors import (
    InvalidTransition,
    ModelIsArchived,
    NameTaken,
    NotOwner,
    SeparationOfDutiesViolation,
    UnknownDatasetVersion,
    UnknownTeam,
)
from registry.models import ModelAlias, ModelVersion, RegisteredModel

pytestmark = pytest.mark.django_db


def _model(actor, name="fraud-detector", **extra):
    return commands.register_model(actor=actor, name=name, team="fraud-ml", **extra)


def test_model_is_registered_with_its_team_when_a_member_registers_it(owner_actor):
    state = _model(owner_actor, description="Scores card transactions", tags={"domain": "fraud"})
    row = RegisteredModel.objects.get(id=state.id)
    assert (row.name, row.team, row.tags) == ("fraud-detector", "fraud-ml", {"domain": "fraud"})
    assert row.created_by == owner_actor.ref
    assert owner_actor.account.has_perm("registry.change_registeredmodel", row)


def test_names_are_unique_case_insensitively_when_registering_twice(owner_actor):
    _model(owner_actor)
    with pytest.raises(NameTaken):
        _model(owner_actor, name="Fraud-Detector")


def test_registration_is_refused_when_the_actor_is_not_in_the_team(outsider):
    from django.contrib.auth.models import Group

    Group.objects.create(name="fraud-ml")
    with pytest.raises(NotOwner):
        _model(Actor.user(outsider, auth_method="token"))
    assert not RegisteredModel.objects.exists()


def test_registration_is_refused_when_the_team_does_not_exist(owner_actor):
    with pytest.raises(UnknownTeam):
        commands.register_model(actor=owner_actor, name="x", team="nobody")


@pytest.mark.parametrize("name", ["", " x", "a/b", "../etc", "x" * 201, "名前", "a b"])
def test_bad_model_names_are_refused_when_registering(owner_actor, name):
    with pytest.raises(InvalidInput):
        _model(owner_actor, name=name)


def test_versions_are_numbered_and_projected_when_created(owner_actor):
    model = _model(owner_actor)
    first = commands.create_model_version(
        actor=owner_actor,
        model_id=model.id,
        data=VersionInput(framework="sklearn", metrics={"auc": 0.91}, code_commit="abc1234"),
    )
    second = commands.create_model_version(
        actor=owner_actor, model_id=model.id, data=VersionInput()
    )
    assert (first.number, second.number) == (1, 2)
    assert first.status == "draft"
    rows = ModelVersion.objects.filter(model_id=model.id).order_by("number")
    assert [(r.number, r.metrics) for r in rows] == [(1, {"auc": 0.91}), (2, {})]
    assert RegisteredModel.objects.get(id=model.id).latest_version == 2


def test_outsiders_cannot_create_versions_when_not_owners(owner_actor, outsider):
    model = _model(owner_actor)
    with pytest.raises(NotOwner):
        commands.create_model_version(
            actor=Actor.user(outsider, auth_method="token"), model_id=model.id, data=VersionInput()
        )


def test_lifecycle_accepts_only_legal_transitions(owner_actor, reviewer):
    model = _model(owner_actor)
    version = commands.create_model_version(
        actor=owner_actor, model_id=model.id, data=VersionInput()
    )
    with pytest.raises(InvalidTransition):
        commands.transition_model_version(
            actor=owner_actor, version_id=version.id, expected_version=None, to_status="deprecated"
        )
    version = commands.transition_model_version(
        actor=owner_actor, version_id=version.id, expected_version=1, to_status="in_review"
    )
    assert version.status == "in_review"
    with pytest.raises(SeparationOfDutiesViolation, match="approval request"):
        commands.transition_model_version(
            actor=owner_actor, version_id=version.id, expected_version=None, to_status="approved"
        )
    with pytest.raises(NotOwner):
        commands.transition_model_version(
            actor=Actor.user(reviewer, auth_method="session"),
            version_id=version.id,
            expected_version=None,
            to_status="approved",
        )
    assert streams.load_version(version.id).status == "in_review"


def test_stale_expected_version_conflicts_when_updating(owner_actor):
    model = _model(owner_actor)
    commands.update_model(
        actor=owner_actor, model_id=model.id, expected_version=1, changes={"description": "a"}
    )
    with pytest.raises(ConcurrencyConflict):
        commands.update_model(
            actor=owner_actor, model_id=model.id, expected_version=1, changes={"description": "b"}
        )
    assert RegisteredModel.objects.get(id=model.id).description == "a"


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"name": "CHURN"}, NameTaken),
        ({"name": "bad name!"}, InvalidInput),
        ({"archive": True, "reason": "x" * 2001}, InvalidInput),
        ({"archive": False, "changes": {"description": "b", "colour": "red"}}, InvalidInput),
    ],
)
def test_change_model_records_nothing_when_any_part_is_refused(owner_actor, extra, error):
    _model(owner_actor, name="churn")
    model = _model(owner_actor)
    arguments = {"changes": {"description": "b", "tags": {"k": "v"}}, **extra}
    with pytest.raises(error):
        commands.change_model(actor=owner_actor, model_id=model.id, expected_version=1, **arguments)
    assert [e.type for e in store.read_stream(model.id)] == ["registry.ModelRegistered"]
    assert RegisteredModel.objects.get(id=model.id).description == ""


def test_change_model_records_every_change_in_one_append_at_the_expected_version(owner_actor):
    model = _model(owner_actor)
    state = commands.change_model(
        actor=owner_actor,
        model_id=model.id,
        expected_version=1,
        changes={"description": "b"},
        name="fraud-v2",
        archive=True,
        reason="replaced",
    )
    assert (state.name, state.description, state.archived) == ("fraud-v2", "b", True)
    events = store.read_stream(model.id)[1:]
    assert [(e.version, e.type) for e in events] == [
        (2, "registry.ModelUpdated"),
        (3, "registry.ModelRenamed"),
        (4, "registry.ModelArchived"),
    ]
    with pytest.raises(ConcurrencyConflict):
        commands.change_model(
            actor=owner_actor, model_id=model.id, expected_version=1, changes={"limitations": "c"}
        )


def test_aliases_move_between_versions_and_production_needs_the_gate(owner_actor):
    model = _model(owner_actor)
    for _ in range(2):
        commands.create_model_version(actor=owner_actor, model_id=model.id, data=VersionInput())
    commands.assign_alias(actor=owner_actor, model_id=model.id, alias="champion", version=1)
    state = commands.assign_alias(actor=owner_actor, model_id=model.id, alias="champion", version=2)
    assert state.aliases == {"champion": 2}
    assert ModelAlias.objects.get(model_id=model.id, alias="champion").version == 2
    with pytest.raises(PromotionBlocked):
        commands.assign_alias(actor=owner_actor, model_id=model.id, alias="production", version=2)
    commands.remove_alias(actor=owner_actor, model_id=model.id, alias="champion")
    assert not ModelAlias.objects.filter(model_id=model.id).exists()


def test_archived_models_take_no_new_versions(owner_actor):
    model = _model(owner_actor)
    commands.archive_model(
        actor=owner_actor, model_id=model.id, expected_version=None, reason="superseded"
    )
    with pytest.raises(ModelIsArchived):
        commands.create_model_version(actor=owner_actor, model_id=model.id, data=VersionInput())


def test_rename_keeps_history_and_time_travel_shows_the_old_name(owner_actor):
    model = _model(owner_actor)
    first_position = store.read_stream(model.id)[-1].position
    commands.rename_model(
        actor=owner_actor, model_id=model.id, expected_version=None, new_name="fraud-v2"
    )
    assert RegisteredModel.objects.get(id=model.id).name == "fraud-v2"
    from registry.state import ModelState, evolve_model

    old, _ = store.load(model.id, evolve_model, ModelState(), up_to_position=first_position)
    assert old.name == "fraud-detector"


def test_datasets_and_versions_are_registered_and_referenced_by_model_versions(owner_actor):
    dataset = commands.register_dataset(
        actor=owner_actor, name="s3://lake/transactions", team="fraud-ml"
    )
    dv = commands.create_dataset_version(
        actor=owner_actor,
        dataset_id=dataset.id,
        data=DatasetVersionInput(
            uri="s3://lake/transactions/2026-11",
            row_count=1000,
            pii_categories=("card_number",),
            legal_basis="contract",
            retention_days=365,
        ),
    )
    assert dv.number == 1
    model = _model(owner_actor)
    version = commands.create_model_version(
        actor=owner_actor,
        model_id=model.id,
        data=VersionInput(training_datasets=("s3://lake/transactions@1",)),
    )
    assert version.training_datasets == ("dataset:s3://lake/transactions@1",)
    with pytest.raises(UnknownDatasetVersion):
        commands.create_model_version(
            actor=owner_actor,
            model_id=model.id,
            data=VersionInput(training_datasets=("s3://lake/transactions@2",)),
        )


def test_same_idempotency_key_creates_one_version_when_repeated(owner_actor):
    model = _model(owner_actor)
    first = commands.create_model_version(
        actor=owner_actor, model_id=model.id, data=VersionInput(), idempotency_key="k1"
    )
    again = commands.create_model_version(
        actor=owner_actor, model_id=model.id, data=VersionInput(), idempotency_key="k1"
    )
    assert again.id == first.id
    assert ModelVersion.objects.filter(model_id=model.id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_versions_stay_gapless_when_16_clients_create_concurrently(team, owner):
    owner_actor = Actor.user(owner, auth_method="token")
    model = _model(owner_actor)
    errors: list[BaseException] = []
    numbers: list[int] = []
    barrier = threading.Barrier(16)

    def client() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                numbers.append(
                    commands.create_model_version(
                        actor=owner_actor, model_id=model.id, data=VersionInput()
                    ).number
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(numbers) == list(range(1, 49))
    rows = ModelVersion.objects.filter(model_id=model.id).values_list("number", flat=True)
    assert sorted(rows) == list(range(1, 49))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("code_commit", "NOT-HEX", "a code commit is 7-64 lowercase hexadecimal characters"),
        ("artifact_sha256", "ab", "artifact_sha256 must be 64 lowercase hexadecimal characters"),
        ("artifact_size", -1, "artifact_size is a non-negative integer"),
        ("artifact_size", True, "artifact_size is a non-negative integer"),
        ("parameters", ["not", "an", "object"], "parameters must be a JSON object"),
        ("framework", "x" * 101, "framework must be text of at most 100 characters"),
        ("training_datasets", ("d@1",) * 101, "training_datasets holds at most 100 values"),
    ],
)
def test_a_version_input_that_skips_the_api_is_checked_by_the_command(
    owner_actor, field, value, message
):
    # The admin, tasks and OpenLineage reach the command without the API's serializer.
    model = _model(owner_actor)
    before = store.stream_version(model.id)
    with pytest.raises(InvalidInput, match=message):
        commands.create_model_version(
            actor=owner_actor, model_id=model.id, data=VersionInput(**{field: value})
        )
    assert store.stream_version(model.id) == before
    assert not ModelVersion.objects.filter(model_id=model.id).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("retention_days", -1, "retention_days is a non-negative integer"),
        ("pii_categories", ("x" * 101,), "pii category must be text of at most 100 characters"),
        ("schema", "columns", "schema must be a JSON object"),
    ],
)
def test_a_dataset_version_input_that_skips_the_api_is_checked_by_the_command(
    owner_actor, field, value, message
):
    dataset = commands.register_dataset(
        actor=owner_actor, name="s3://lake/checked", team="fraud-ml"
    )
    with pytest.raises(InvalidInput, match=message):
        commands.create_dataset_version(
            actor=owner_actor,
            dataset_id=dataset.id,
            data=DatasetVersionInput(uri="s3://lake/checked/1", **{field: value}),
        )
    assert streams.load_dataset(dataset.id).latest_version == 0
