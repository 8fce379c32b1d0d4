"""The registry's folds, event by event, without a database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from registry import events as ev
from registry.state import (
    DatasetState,
    ModelState,
    VersionState,
    evolve_dataset,
    evolve_dataset_version,
    evolve_model,
    evolve_version,
    transition_allowed,
)
from tests.helpers.events import T0, stream

REGISTERED = ev.ModelRegistered(
    name="fraud",
    team="fraud-ml",
    description="d",
    intended_use="u",
    limitations="l",
    tags={"k": "v"},
)


def _created(**changes) -> ev.ModelVersionCreated:
    fields = {
        "model_id": "m",
        "number": 1,
        "description": "",
        "artifact_uri": "",
        "artifact_sha256": "",
        "artifact_size": None,
        "framework": "sklearn",
        "parameters": {"depth": 3},
        "metrics": {},
        "signature": {},
        "code_repo": "",
        "code_commit": "abc1234",
        "run_id": "",
        "training_datasets": ["dataset:d@1"],
        "evaluation_datasets": [],
        "tags": {},
    }
    return ev.ModelVersionCreated(**{**fields, **changes})


def test_a_model_takes_its_registration_and_the_stamps_of_its_first_event():
    events = stream(REGISTERED, actor="user:7")
    state = evolve_model.run(events)
    assert (state.name, state.team, state.tags, state.intended_use) == (
        "fraud",
        "fraud-ml",
        {"k": "v"},
        "u",
    )
    assert state.id == str(events[0].stream_id)
    assert (state.created_by, state.created_at, state.stream_version) == (
        "user:7",
        events[0].recorded_at,
        1,
    )
    assert state.exists and not ModelState().exists


def test_renames_numbers_aliases_and_archiving_fold_in_order():
    events = stream(
        REGISTERED,
        ev.ModelVersionNumbered(number=1, version_id="v1"),
        ev.ModelVersionNumbered(number=2, version_id="v2"),
        ev.AliasAssigned(alias="champion", version=1, previous_version=None),
        ev.AliasAssigned(alias="champion", version=2, previous_version=1),
        ev.AliasAssigned(alias="shadow", version=1, previous_version=None),
        ev.AliasRemoved(alias="shadow", version=1),
        ev.ModelRenamed(old_name="fraud", new_name="fraud-2"),
        ev.ModelUpdated(changes={"description": "new"}),
        ev.ModelArchived(reason="replaced"),
    )
    state = evolve_model.run(events)
    assert state.name == "fraud-2" and state.description == "new" and state.archived
    assert (state.latest_version, state.versions) == (2, {1: "v1", 2: "v2"})
    assert state.aliases == {"champion": 2}
    assert state.created_at == T0 + timedelta(minutes=1)
    assert (state.updated_at, state.stream_version) == (T0 + timedelta(minutes=10), 10)


def test_a_version_moves_through_upload_verification_and_status():
    upload = ev.ArtifactUploadAuthorized(
        key="k", uri="s3://b/k", size=3, sha256="a" * 64, method="presigned"
    )
    events = stream(
        _created(),
        upload,
        ev.ArtifactVerified(uri="s3://b/k", sha256="a" * 64, size=3),
        ev.ModelVersionStatusChanged(from_status="draft", to_status="in_review", reason=""),
    )
    after_upload = evolve_version.run(events[:2])
    assert after_upload.pending_artifact == upload.to_data()
    assert not after_upload.artifact_verified
    state = evolve_version.run(events)
    assert (state.artifact_uri, state.artifact_size, state.artifact_verified) == (
        "s3://b/k",
        3,
        True,
    )
    assert state.pending_artifact is None and state.status == "in_review"
    assert state.training_datasets == ("dataset:d@1",) and state.code_commit == "abc1234"
    assert state.exists and not VersionState().exists


def test_a_state_owns_its_containers_apart_from_the_events():
    events = stream(_created())
    state = evolve_version.run(events)
    events[0].data["parameters"]["depth"] = 99
    assert state.parameters == {"depth": 3}


def test_datasets_number_their_versions():
    events = stream(
        ev.DatasetRegistered(name="s3://lake/t", team="fraud-ml", description="", tags={}),
        ev.DatasetVersionNumbered(number=1, version_id="d1"),
    )
    state = evolve_dataset.run(events)
    assert (state.latest_version, state.versions, state.exists) == (1, {1: "d1"}, True)
    assert not DatasetState().exists
    version = evolve_dataset_version.run(
        stream(
            ev.DatasetVersionCreated(
                dataset_id="d",
                number=1,
                uri="s3://lake/t/1",
                checksum="",
                schema={},
                row_count=None,
                pii_categories=["email"],
                legal_basis="",
                owner="",
                retention_days=30,
                description="",
                tags={},
            )
        )
    )
    assert (version.pii_categories, version.retention_days) == (("email",), 30)


@pytest.mark.parametrize(
    ("current", "target", "by_review", "allowed"),
    [
        ("draft", "in_review", False, True),
        ("in_review", "approved", False, True),
        ("approved", "in_review", False, False),
        ("approved", "in_review", True, True),
        ("deployed", "in_review", True, False),
        ("retired", "draft", False, False),
    ],
)
def test_transitions_and_the_moves_only_review_makes(current, target, by_review, allowed):
    assert transition_allowed(current, target, by_review=by_review) is allowed
