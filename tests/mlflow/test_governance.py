"""Governance holds on the MLflow paths: stages are lifecycle moves, Production and the
`production` alias pass the promotion gate, and only a verified artifact is promoted."""

from __future__ import annotations

import pytest

from tests.mlflow.conftest import approve, attach_model_card, refused, tier_low, unique

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::FutureWarning")]


def _tags(version) -> dict[str, str]:
    return dict(version.tags)


def test_production_needs_a_verified_artifact_and_a_complete_approval(ledger):
    name = unique("gov")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.create_model_version(name, "s3://someone-elses-bucket/model.pkl")
        # Nothing is reviewed without an artifact the service holds and has checksummed.
        error = refused(
            lambda: client.transition_model_version_stage(name, "1", "Staging"),
            "PERMISSION_DENIED",
        )
        assert "verified artifact" in str(error)
        error = refused(
            lambda: client.set_registered_model_alias(name, "production", "1"), "PERMISSION_DENIED"
        )
        assert "cannot go to production" in str(error)
        error = refused(
            lambda: client.transition_model_version_stage(name, "1", "Production"),
            "PERMISSION_DENIED",
        )
        assert "cannot go to production" in str(error)

        ledger.upload_artifact(name, 1, b"weights v1")
        assert _tags(client.get_model_version(name, "1"))["ledger.artifact_verified"] == "true"
        tier_low(ledger, name)
        attach_model_card(ledger, name, 1)
        staged = client.transition_model_version_stage(name, "1", "Staging")
        assert staged.current_stage == "Staging"
        assert _tags(staged)["ledger.status"] == "in_review"
        error = refused(
            lambda: client.transition_model_version_stage(name, "1", "Production"),
            "PERMISSION_DENIED",
        )
        assert "cannot go to production" in str(error)

    # A reviewer is no owner: the board's member cannot move the model through MLflow either.
    with ledger.client("reviewer") as client:
        refused(
            lambda: client.transition_model_version_stage(name, "1", "Production"),
            "PERMISSION_DENIED",
        )
    approve(ledger, name, 1)
    with ledger.client() as client:
        live = client.transition_model_version_stage(name, "1", "Production")
        assert live.current_stage == "Production"
        client.set_registered_model_alias(name, "production", "1")
        assert client.get_model_version_by_alias(name, "production").version == "1"

        # Version 2 goes live with archive_existing_versions: version 1 is archived after.
        client.create_model_version(name, "s3://someone-elses-bucket/model-2.pkl")
        ledger.upload_artifact(name, 2, b"weights v2")
        attach_model_card(ledger, name, 2)
        client.transition_model_version_stage(name, "2", "Staging")
        approve(ledger, name, 2)
        live = client.transition_model_version_stage(
            name, "2", "Production", archive_existing_versions=True
        )
        assert live.current_stage == "Production"
        first = client.get_model_version(name, "1")
        assert first.current_stage == "Archived"
        assert _tags(first)["ledger.status"] == "deprecated"
    moves = [
        (e["data"]["from_status"], e["data"]["to_status"])
        for e in ledger.history(name, 1)
        if e["type"] == "registry.ModelVersionStatusChanged"
    ]
    assert moves[-2:] == [("approved", "deployed"), ("deployed", "deprecated")]


def test_stage_none_withdraws_the_review_and_archived_deprecates(ledger):
    name = unique("none")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.create_model_version(name, "s3://x/m")
        ledger.upload_artifact(name, 1, b"weights")
        tier_low(ledger, name)
        attach_model_card(ledger, name, 1)
        client.transition_model_version_stage(name, "1", "Staging")
        error = refused(
            lambda: client.transition_model_version_stage(name, "1", "Archived"),
            "INVALID_PARAMETER_VALUE",
        )
        assert "withdraw" in str(error)
        draft = client.transition_model_version_stage(name, "1", "None")
        assert draft.current_stage == "None"
        assert _tags(draft)["ledger.status"] == "draft"
