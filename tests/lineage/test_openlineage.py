"""OpenLineage round trip: the real openlineage-python client posts RunEvents over HTTP to the
running service with a Bearer token; the ledger then answers lineage queries about them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    dataset_version_dataset,
    datasource_dataset,
    schema_dataset,
)
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport
from rest_framework.authtoken.models import Token

from eventstore import store
from lineage import queries, rules
from registry.models import Dataset, DatasetVersion

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"


@pytest.fixture
def client(live_server, owner) -> OpenLineageClient:
    token, _ = Token.objects.get_or_create(user=owner)
    config = HttpConfig(
        url=live_server.url,
        endpoint="api/v1/lineage",
        auth=ApiKeyTokenProvider({"apiKey": token.key}),
        retry={"total": 0},
    )
    return OpenLineageClient(transport=HttpTransport(config))


def _event(state: RunState, run_id: str, inputs=(), outputs=()) -> RunEvent:
    return RunEvent(
        eventType=state,
        eventTime=datetime(2026, 11, 23, 12, 0, tzinfo=UTC).isoformat(),
        run=Run(runId=run_id),
        job=Job(namespace="spark", name="build_features"),
        producer=PRODUCER,
        inputs=list(inputs),
        outputs=list(outputs),
    )


def test_run_events_from_the_real_client_become_datasets_runs_and_edges(client, owner):
    run_id = str(uuid.uuid4())
    customers = InputDataset(
        namespace="s3://lake",
        name="customers/2026-11",
        facets={
            "version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion="v7"),
            "dataSource": datasource_dataset.DatasourceDatasetFacet(
                name="lake", uri="s3://lake/customers/2026-11"
            ),
        },
    )
    features = OutputDataset(
        namespace="s3://lake",
        name="features",
        facets={
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[
                    schema_dataset.SchemaDatasetFacetFields(name="customer_id", type="BIGINT"),
                    schema_dataset.SchemaDatasetFacetFields(name="score", type="DOUBLE"),
                ]
            )
        },
    )
    for state in (RunState.START, RunState.RUNNING, RunState.COMPLETE):
        client.emit(_event(state, run_id, [customers], [features]))

    claim, *run_events = store.read_stream(rules.run_node_id(run_id))
    assert claim.type == "lineage.RunClaimed" and claim.data["team"] == "fraud-ml"
    assert [e.type for e in run_events] == ["lineage.RunEventReceived"] * 3
    assert [e.data["run_state"] for e in run_events] == ["START", "RUNNING", "COMPLETE"]
    assert run_events[0].metadata["auth_method"] == "bearertoken"
    # The input's version facet maps to one dataset version, created once.
    source = Dataset.objects.get(name="s3://lake/customers/2026-11")
    (version,) = DatasetVersion.objects.filter(dataset_id=source.id)
    assert version.tags == {"openlineage.version": "v7"}
    assert version.uri == "s3://lake/customers/2026-11"
    # The completed run produced a new version of its output, with the schema facet's fields.
    output = Dataset.objects.get(name="s3://lake/features")
    (made,) = DatasetVersion.objects.filter(dataset_id=output.id)
    assert made.schema == {
        "fields": [{"name": "customer_id", "type": "BIGINT"}, {"name": "score", "type": "DOUBLE"}]
    }
    node = queries.get_node("dataset:s3://lake/features@1")
    up = queries.closure(node.id, direction="upstream", depth=5)
    keys = {n.key: up.nodes[i] for i, n in queries.nodes(up.nodes).items()}
    assert keys == {
        "dataset:s3://lake/features@1": 0,
        f"run:{run_id}": 1,
        "dataset:s3://lake/customers/2026-11@1": 2,
    }


def test_a_failed_run_records_what_it_read_but_produces_nothing(client):
    run_id = str(uuid.uuid4())
    raw = InputDataset(namespace="postgres://db", name="public.events")
    out = OutputDataset(namespace="postgres://db", name="public.daily")
    client.emit(_event(RunState.START, run_id, [raw], [out]))
    client.emit(_event(RunState.FAIL, run_id, [raw], [out]))
    run = queries.get_node(f"run:{run_id}")
    assert set(queries.nodes(queries.closure(run.id, direction="upstream", depth=1).nodes)) == {
        run.id,
        queries.get_node("dataset:postgres://db/public.events").id,
    }
    assert queries.closure(run.id, direction="downstream", depth=1).nodes == {run.id: 0}


def test_malformed_run_events_are_problems_and_change_nothing(live_server, owner):
    token, _ = Token.objects.get_or_create(user=owner)
    url = f"{live_server.url}/api/v1/lineage"
    headers = {"Authorization": f"Bearer {token.key}"}
    before = Dataset.objects.count()
    for body in (
        {"eventType": "EXPLODE", "eventTime": "x", "run": {"runId": "r"}, "job": {}},
        {"eventType": "START", "eventTime": "2026-11-23T12:00:00Z", "run": {}, "job": {}},
        {
            "eventType": "COMPLETE",
            "eventTime": "2026-11-23T12:00:00Z",
            "run": {"runId": "r"},
            "job": {"namespace": "n", "name": "j"},
            "producer": "p",
            "outputs": [{"namespace": "n", "name": "has space"}],
        },
        [1, 2, 3],
    ):
        response = requests.post(url, json=body, headers=headers, timeout=30)
        assert response.status_code == 400, response.text
        assert response.headers["Content-Type"] == "application/problem+json"
    assert requests.post(url, json={}, timeout=30).status_code == 401
    assert Dataset.objects.count() == before


@pytest.mark.django_db
def test_text_postgresql_cannot_store_is_refused_before_any_query(owner):
    from api.lineage import openlineage
    from core.actors import Actor
    from lineage.errors import InvalidRunEvent

    actor = Actor.user(owner, auth_method="token")
    base = {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-23T12:00:00Z",
        "run": {"runId": "r-1"},
        "job": {"namespace": "n", "name": "j"},
        "producer": "p",
    }
    for dataset in (
        {"namespace": "n", "name": "a\x00b"},
        {"namespace": "n", "name": "a\ud800b"},
        {"namespace": "n", "name": "ok", "facets": {"version": {"datasetVersion": "v\x00"}}},
    ):
        with pytest.raises(InvalidRunEvent):
            openlineage.ingest_run_event(actor=actor, event={**base, "outputs": [dataset]})
    assert not Dataset.objects.exists()


@pytest.mark.django_db
def test_a_repeated_run_event_with_an_idempotency_key_changes_nothing(owner_api):
    body = {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-23T12:00:00Z",
        "run": {"runId": "r-7"},
        "job": {"namespace": "spark", "name": "etl"},
        "producer": PRODUCER,
        "inputs": [{"namespace": "s3://lake", "name": "raw"}],
        "outputs": [{"namespace": "s3://lake", "name": "clean"}],
    }
    headers = {"HTTP_IDEMPOTENCY_KEY": "ol-r-7-complete"}
    first = owner_api.post("/api/v1/lineage", body, format="json", **headers)
    again = owner_api.post("/api/v1/lineage", body, format="json", **headers)
    assert first.status_code == again.status_code == 201, again.content
    assert first.json()["outputs"] == again.json()["outputs"] == ["dataset:s3://lake/clean@1"]
    assert DatasetVersion.objects.count() == 1
    assert len(store.read_stream(rules.run_node_id("r-7"))) == 2  # the claim and the event
    changed = owner_api.post(
        "/api/v1/lineage", {**body, "eventTime": "2026-11-24T12:00:00Z"}, format="json", **headers
    )
    assert changed.status_code == 422 and changed.json()["code"] == "idempotency_key_reused"
    assert DatasetVersion.objects.count() == 1
