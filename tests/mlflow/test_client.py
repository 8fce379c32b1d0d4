"""The unmodified MLflow client (mlflow-skinny) against the service: a test per registry method
of MlflowClient, paging, MLflow's error codes, and what each call leaves in the event log."""

from __future__ import annotations

import pytest
import requests
from mlflow.entities.model_registry import ModelVersion, RegisteredModel

from tests.mlflow.conftest import TEAM, refused, unique

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::FutureWarning")]


def _tags(entity) -> dict[str, str]:
    return dict(entity.tags)


def test_create_registered_model_belongs_to_the_default_team(ledger):
    name = unique("create")
    with ledger.client() as client:
        model = client.create_registered_model(name, tags={"domain": "fraud"}, description="d")
    assert isinstance(model, RegisteredModel)
    assert model.name == name
    assert model.description == "d"
    assert _tags(model) == {"domain": "fraud"}
    assert model.creation_timestamp > 1_600_000_000_000  # milliseconds
    body = ledger.api("GET", f"/api/v1/models/{name}/").json()
    assert body["team"] == TEAM


def test_every_call_is_an_event_under_the_tokens_user_with_the_clients_user_agent(ledger):
    name = unique("history")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.create_model_version(name, "s3://elsewhere/model.pkl", run_id="a" * 32)
    (registered, numbered) = ledger.history(name)
    assert registered["type"] == "registry.ModelRegistered"
    assert numbered["type"] == "registry.ModelVersionNumbered"
    owner = ledger.users["owner"]
    for event in (registered, numbered, *ledger.history(name, 1)):
        assert event["metadata"]["actor"] == f"user:{owner.pk}"
        assert event["metadata"]["user_agent"].startswith("mlflow-python-client/")


def test_get_registered_model(ledger):
    name = unique("get")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.create_model_version(name, "s3://elsewhere/m")
        model = client.get_registered_model(name)
    assert model.name == name
    (latest,) = model.latest_versions
    assert latest.version == "1" and latest.current_stage == "None"


def test_rename_registered_model(ledger):
    name, new_name = unique("old"), unique("new")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.rename_registered_model(name, new_name)
        assert client.get_registered_model(new_name).name == new_name
        refused(lambda: client.get_registered_model(name), "RESOURCE_DOES_NOT_EXIST")


def test_update_registered_model(ledger):
    name = unique("update")
    with ledger.client() as client:
        client.create_registered_model(name, description="before")
        updated = client.update_registered_model(name, description="after")
    assert updated.description == "after"


def test_delete_registered_model_archives_it_and_keeps_its_name(ledger):
    name = unique("delete")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.delete_registered_model(name)
        assert name not in [m.name for m in client.search_registered_models(f"name = '{name}'")]
        error = refused(lambda: client.create_registered_model(name), "RESOURCE_ALREADY_EXISTS")
    assert "archived" in str(error) and "reserved" in str(error)
    assert ledger.api("GET", f"/api/v1/models/{name}/").json()["archived"] is True


def test_search_registered_models_filters_and_orders(ledger):
    stem = unique("srch")
    with ledger.client() as client:
        for suffix, tag in (("b", "x"), ("a", "y"), ("c", "x")):
            client.create_registered_model(f"{stem}-{suffix}", tags={"kind": tag})
        found = client.search_registered_models(f"name LIKE '{stem}-%'", order_by=["name DESC"])
        assert [m.name for m in found] == [f"{stem}-c", f"{stem}-b", f"{stem}-a"]
        upper = stem.upper()
        found = client.search_registered_models(f"name ILIKE '{upper}-%' AND tags.kind = 'x'")
        assert sorted(m.name for m in found) == [f"{stem}-b", f"{stem}-c"]
        found = client.search_registered_models(f"name = '{stem}-a'")
        assert [m.name for m in found] == [f"{stem}-a"]


def test_search_pages_with_max_results_and_tokens(ledger):
    stem = unique("page")
    with ledger.client() as client:
        for index in range(5):
            client.create_registered_model(f"{stem}-{index}")
        seen, token, pages = [], None, 0
        while True:
            found = client.search_registered_models(
                f"name LIKE '{stem}-%'", max_results=2, page_token=token
            )
            seen += [m.name for m in found]
            pages += 1
            token = found.token
            if not token:
                break
        assert seen == [f"{stem}-{i}" for i in range(5)]
        assert pages == 3
        versions_seen, token = [], None
        client.create_model_version(f"{stem}-0", "s3://x/1")
        client.create_model_version(f"{stem}-0", "s3://x/2")
        client.create_model_version(f"{stem}-0", "s3://x/3")
        while True:
            found = client.search_model_versions(
                f"name = '{stem}-0'", max_results=2, page_token=token
            )
            versions_seen += [v.version for v in found]
            token = found.token
            if not token:
                break
        assert versions_seen == ["3", "2", "1"]


def test_get_latest_versions(ledger):
    name = unique("latest")
    with ledger.client() as client:
        client.create_registered_model(name)
        for index in range(3):
            client.create_model_version(name, f"s3://elsewhere/{index}")
        client.transition_model_version_stage(name, "1", "Archived")
        latest = client.get_latest_versions(name)
        assert sorted((v.current_stage, v.version) for v in latest) == [
            ("Archived", "1"),
            ("None", "3"),
        ]
        (archived,) = client.get_latest_versions(name, stages=["archived"])
        assert archived.version == "1"


def test_set_and_delete_registered_model_tag(ledger):
    name = unique("mtag")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.set_registered_model_tag(name, "owner", "fraud")
        assert _tags(client.get_registered_model(name)) == {"owner": "fraud"}
        client.delete_registered_model_tag(name, "owner")
        assert _tags(client.get_registered_model(name)) == {}
        refused(lambda: client.delete_registered_model_tag(name, "gone"), "RESOURCE_DOES_NOT_EXIST")


def test_create_model_version_keeps_source_and_run_and_says_unverified(ledger):
    name = unique("ver")
    run_id = "0123456789abcdef0123456789abcdef"
    with ledger.client() as client:
        client.create_registered_model(name)
        version = client.create_model_version(
            name, "s3://other-bucket/path/model", run_id=run_id, tags={"t": "1"}, description="v"
        )
    assert isinstance(version, ModelVersion)
    assert version.version == "1"
    assert version.status == "READY"
    assert version.source == "s3://other-bucket/path/model"
    assert version.run_id == run_id
    assert version.description == "v"
    tags = _tags(version)
    assert tags["t"] == "1"
    assert tags["ledger.artifact_verified"] == "false"
    assert tags["ledger.status"] == "draft"
    upstream = ledger.api("GET", f"/api/v1/lineage/upstream/?node=model:{name}@1&depth=1")
    assert upstream.status_code == 200, upstream.text
    assert f"run:{run_id}" in upstream.text


def test_get_model_version_and_download_uri(ledger):
    name = unique("getv")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.create_model_version(name, "gs://bucket/model")
        version = client.get_model_version(name, "1")
        assert version.version == "1" and version.current_stage == "None"
        assert client.get_model_version_download_uri(name, "1") == "gs://bucket/model"
        refused(lambda: client.get_model_version(name, "9"), "RESOURCE_DOES_NOT_EXIST")


def test_update_model_version(ledger):
    name = unique("updv")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.create_model_version(name, "s3://x/m")
        updated = client.update_model_version(name, "1", description="new text")
    assert updated.description == "new text"


def test_delete_model_version_retires_it(ledger):
    name = unique("delv")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.create_model_version(name, "s3://x/m")
        client.delete_model_version(name, "1")
        version = client.get_model_version(name, "1")
    assert version.current_stage == "Archived"
    assert _tags(version)["ledger.status"] == "retired"


def test_search_model_versions_by_run_id_and_source(ledger):
    name = unique("sv")
    runs = [f"{index:032x}" for index in range(3)]
    with ledger.client() as client:
        client.create_registered_model(name)
        for index, run in enumerate(runs):
            client.create_model_version(name, f"s3://x/{name}/{index}", run_id=run)
        found = client.search_model_versions(f"run_id IN ('{runs[0]}', '{runs[2]}')")
        assert sorted(v.version for v in found) == ["1", "3"]
        found = client.search_model_versions(f"run_id = '{runs[1]}'")
        assert [v.version for v in found] == ["2"]
        found = client.search_model_versions(f"source_path = 's3://x/{name}/2'")
        assert [v.version for v in found] == ["3"]
        found = client.search_model_versions(
            f"name = '{name}'", order_by=["version_number ASC"], max_results=10
        )
        assert [v.version for v in found] == ["1", "2", "3"]


def test_set_and_delete_model_version_tag(ledger):
    name = unique("vtag")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.create_model_version(name, "s3://x/m")
        client.set_model_version_tag(name, "1", "validated", "yes")
        assert _tags(client.get_model_version(name, "1"))["validated"] == "yes"
        client.delete_model_version_tag(name, "1", "validated")
        assert "validated" not in _tags(client.get_model_version(name, "1"))
        error = refused(
            lambda: client.set_model_version_tag(name, "1", "ledger.status", "deployed"),
            "INVALID_PARAMETER_VALUE",
        )
    assert "read-only" in str(error)


def test_set_get_and_delete_alias(ledger):
    name = unique("alias")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.create_model_version(name, "s3://x/1")
        client.create_model_version(name, "s3://x/2")
        client.set_registered_model_alias(name, "champion", "2")
        assert client.get_model_version_by_alias(name, "champion").version == "2"
        model = client.get_registered_model(name)
        assert model.aliases == {"champion": "2"}
        assert client.get_model_version(name, "2").aliases == ["champion"]
        client.delete_registered_model_alias(name, "champion")
        refused(
            lambda: client.get_model_version_by_alias(name, "champion"), "RESOURCE_DOES_NOT_EXIST"
        )


def test_transition_stages_map_onto_the_lifecycle(ledger):
    name = unique("stage")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.create_model_version(name, "s3://x/1")
        archived = client.transition_model_version_stage(name, "1", "Archived")
        assert archived.current_stage == "Archived"
        assert _tags(archived)["ledger.status"] == "retired"
        refused(
            lambda: client.transition_model_version_stage(name, "1", "Bogus"),
            "INVALID_PARAMETER_VALUE",
        )


def test_copy_model_version(ledger):
    name, target = unique("copy"), unique("copied")
    with ledger.client() as client:
        client.create_registered_model(name)
        client.create_model_version(name, "s3://x/m")
        unverified = client.copy_model_version(f"models:/{name}/1", target)
        assert unverified.name == target and unverified.version == "1"
        assert _tags(unverified)["ledger.artifact_verified"] == "false"
        stored = ledger.upload_artifact(name, 1, b"weights to copy")
        copied = client.copy_model_version(f"models:/{name}/1", target)
        assert copied.version == "2"
        assert _tags(copied)["ledger.artifact_verified"] == "true"
        by_uri = client.create_model_version(target, stored["uri"])
        assert _tags(by_uri)["ledger.artifact_verified"] == "true"
    artifact = ledger.api("GET", f"/api/v1/models/{target}/versions/2/artifact/").json()
    assert artifact["verified"] is True
    assert artifact["sha256"] == stored["sha256"]
    assert artifact["uri"] != stored["uri"]  # its own content-addressed key


@pytest.mark.parametrize(
    "source",
    [
        "/etc/passwd",
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "../../../../etc/shadow",
        "runs:/0123456789abcdef0123456789abcdef/model",
        "models:/no-such-model/1",
    ],
)
def test_sources_elsewhere_are_recorded_unverified_and_never_read(ledger, source):
    name = unique("src")
    with ledger.client() as client:
        client.create_registered_model(name)
        version = client.create_model_version(name, source)
    assert version.source == source
    assert _tags(version)["ledger.artifact_verified"] == "false"
    assert "not verified" in version.status_message
    artifact = ledger.api("GET", f"/api/v1/models/{name}/versions/1/artifact/").json()
    assert artifact["verified"] is False and artifact["sha256"] == ""


def test_error_codes(ledger):
    name = unique("errors")
    with ledger.client() as client:
        client.create_registered_model(name)
        refused(lambda: client.create_registered_model(name), "RESOURCE_ALREADY_EXISTS")
        refused(lambda: client.get_registered_model(unique("none")), "RESOURCE_DOES_NOT_EXIST")
        refused(lambda: client.create_registered_model("bad name!"), "INVALID_PARAMETER_VALUE")
    with ledger.client("outsider") as client:
        refused(lambda: client.create_model_version(name, "s3://x/m"), "PERMISSION_DENIED")
    ledger.tokens["nobody"] = "0" * 40
    with ledger.client("nobody") as client:
        refused(lambda: client.get_registered_model(name), "UNAUTHENTICATED")


def test_no_default_team_says_how_to_choose_one(ledger):
    with ledger.client("no-default") as client:
        error = refused(
            lambda: client.create_registered_model(unique("orphan")), "INVALID_PARAMETER_VALUE"
        )
    assert "/api/v1/users/me/default-team/" in str(error)


def test_statuses_and_shape_of_errors_over_http(ledger):
    response = ledger.api(
        "GET", "/api/2.0/mlflow/registered-models/get", params={"name": unique("x")}
    )
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    response = ledger.api("GET", "/api/2.0/mlflow/registered-models/nothing-here")
    assert response.status_code == 404
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    response = requests.get(ledger.url + "/api/2.0/mlflow/registered-models/search", timeout=30)
    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHENTICATED"
    response = ledger.api("GET", "/ajax-api/2.0/mlflow/registered-models/search")
    assert response.status_code == 200 and "registered_models" in response.json()
    response = ledger.api("DELETE", "/api/2.0/mlflow/registered-models/delete", json={})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_tag_like_filters(ledger):
    stem = unique("tlike")
    with ledger.client() as client:
        client.create_registered_model(f"{stem}-1", tags={"team.area": "Fraud-EU"})
        client.create_registered_model(f"{stem}-2", tags={"team.area": "fraud-us"})
        client.create_registered_model(f"{stem}-3")
        area = f"name LIKE '{stem}%' AND tags.`team.area`"
        found = client.search_registered_models(f"{area} LIKE 'fraud%'")
        assert [m.name for m in found] == [f"{stem}-2"]
        found = client.search_registered_models(f"{area} ILIKE 'FRAUD%'")
        assert [m.name for m in found] == [f"{stem}-1", f"{stem}-2"]


def test_register_model_from_a_run_needs_a_tracking_server(ledger):
    """`mlflow.register_model("runs:/...")` resolves the run on a tracking server first; the
    ledger serves none, so with the ledger alone the client refuses and records no version."""
    import mlflow

    name = unique("runs")
    with ledger.client():
        mlflow.set_tracking_uri(ledger.url)
        try:
            with pytest.raises(mlflow.exceptions.MlflowException):
                mlflow.register_model(f"runs:/{'c' * 32}/model", name)
        finally:
            mlflow.set_tracking_uri(None)
    response = ledger.api("GET", f"/api/v1/models/{name}/versions/")
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert response.json()["results"] == []
