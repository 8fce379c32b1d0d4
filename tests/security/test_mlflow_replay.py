"""The red-team attacks replayed through MLflow's registry API with the unmodified client: the
same refusals hold as on /api/v1/. An artifact swapped behind the server's back is found at
promotion, a version cannot promote itself past the gate by stage or alias, and no one outside
the owning team changes a model."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.mlflow.conftest import (
    approve,
    attach_model_card,
    refused,
    running_ledger,
    tier_low,
    unique,
)

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::FutureWarning")]

WEIGHTS = b"verified model weights \x00\x01" * 500
SWAPPED = b"swapped model weights! \x00\x01" * 500  # same size, other bytes


@pytest.fixture(scope="module")
def ledger(django_db_setup, django_db_blocker, tmp_path_factory):
    with running_ledger(django_db_blocker, tmp_path_factory) as world:
        yield world


def _events(ledger, name: str, number: int | None = None) -> list[str]:
    return [e["type"] for e in ledger.history(name, number)]


def test_an_artifact_swapped_in_the_store_is_never_promoted(ledger):
    name = unique("swap")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.create_model_version(name, "s3://elsewhere/model.bin")
    stored = ledger.upload_artifact(name, 1, WEIGHTS)
    path = Path(unquote(urlsplit(stored["uri"]).path))
    assert path.read_bytes() == WEIGHTS
    path.chmod(0o644)
    path.write_bytes(SWAPPED)  # someone with a shell on the volume: no URL, no event
    with ledger.client() as client:
        error = refused(
            lambda: client.set_registered_model_alias(name, "production", "1"),
            "PERMISSION_DENIED",
        )
        assert error.json["ledger_code"] == "artifact_tampered"
        # Found once, refused for good: Production answers the same.
        error = refused(
            lambda: client.transition_model_version_stage(name, "1", "Production"),
            "PERMISSION_DENIED",
        )
    assert "registry.ArtifactTamperDetected" in _events(ledger, name, 1)


def test_no_self_promotion_by_stage_or_alias(ledger):
    name = unique("self")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.create_model_version(name, "s3://elsewhere/model.bin")
        ledger.upload_artifact(name, 1, WEIGHTS)
        before = _events(ledger, name, 1)
        for attempt in (
            lambda: client.transition_model_version_stage(name, "1", "Production"),
            lambda: client.set_registered_model_alias(name, "production", "1"),
            lambda: client.transition_model_version_stage(
                name, "1", "Production", archive_existing_versions=True
            ),
        ):
            error = refused(attempt, "PERMISSION_DENIED")
            assert error.json["ledger_code"] == "promotion_blocked"
            assert error.json["reasons"], error.json
        refused(
            lambda: client.delete_registered_model_alias(name, "production"), "PERMISSION_DENIED"
        )
        assert client.get_model_version(name, "1").current_stage == "None"
    assert _events(ledger, name, 1) == before


def test_outsiders_change_nothing(ledger):
    name = unique("owned")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.create_model_version(name, "s3://elsewhere/model.bin")
    before = (_events(ledger, name), _events(ledger, name, 1))
    with ledger.client("outsider") as client:
        for attempt in (
            lambda: client.update_registered_model(name, description="mine now"),
            lambda: client.rename_registered_model(name, unique("stolen")),
            lambda: client.delete_registered_model(name),
            lambda: client.set_registered_model_tag(name, "owner", "me"),
            lambda: client.set_registered_model_alias(name, "champion", "1"),
            lambda: client.create_model_version(name, "s3://mine/model.bin"),
            lambda: client.update_model_version(name, "1", description="x"),
            lambda: client.set_model_version_tag(name, "1", "k", "v"),
            lambda: client.transition_model_version_stage(name, "1", "Archived"),
            lambda: client.transition_model_version_stage(name, "1", "Staging"),
            lambda: client.transition_model_version_stage(name, "1", "Production"),
            lambda: client.delete_model_version(name, "1"),
        ):
            refused(attempt, "PERMISSION_DENIED")
    assert (_events(ledger, name), _events(ledger, name, 1)) == before


def _approved(ledger, client, name: str) -> None:
    """Version 1 verified, tiered low, with its model card, staged and approved."""
    client.create_registered_model(name)
    client.create_model_version(name, "s3://elsewhere/model.bin")
    ledger.upload_artifact(name, 1, WEIGHTS)
    tier_low(ledger, name)
    attach_model_card(ledger, name, 1)
    client.transition_model_version_stage(name, "1", "Staging")
    approve(ledger, name, 1)
    assert client.get_model_version(name, "1").tags["ledger.status"] == "approved"


def test_an_approver_who_joined_the_owning_team_no_longer_counts(ledger):
    from django.contrib.auth.models import Group

    from tests.mlflow.conftest import TEAM

    name = unique("sod")
    with ledger.client() as client:
        _approved(ledger, client, name)
        reviewer = ledger.users["reviewer"]
        # Added in the admin, which records no event: judged against memberships now.
        ledger.run(lambda: reviewer.groups.add(Group.objects.get(name=TEAM)))
        try:
            error = refused(
                lambda: client.transition_model_version_stage(name, "1", "Production"),
                "PERMISSION_DENIED",
            )
            assert "approvals_not_counted" in error.json["reasons"], error.json
            refused(
                lambda: client.set_registered_model_alias(name, "production", "1"),
                "PERMISSION_DENIED",
            )
        finally:
            ledger.run(lambda: reviewer.groups.remove(Group.objects.get(name=TEAM)))


def test_evidence_changed_after_approval_holds_the_promotion(ledger):
    name = unique("bound")
    with ledger.client() as client:
        _approved(ledger, client, name)
        attach_model_card(ledger, name, 1, revision="a revised card")
        error = refused(
            lambda: client.transition_model_version_stage(name, "1", "Production"),
            "PERMISSION_DENIED",
        )
        assert error.json["ledger_code"] == "promotion_blocked"
        assert client.get_model_version(name, "1").current_stage == "Staging"
