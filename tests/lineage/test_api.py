"""The lineage API: edges, traversal, and auditor-only streamed exports that are recorded."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import Group

from eventstore import store
from eventstore.audit.trailer import trail_complete, without_trailer
from lineage.models import LineageEdge
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def graph(ledger):
    (train,) = ledger.dataset("transactions")
    (holdout,) = ledger.dataset("holdout")
    base, tuned = ledger.model(
        "fraud", 2, training_datasets=("transactions@1",), evaluation_datasets=("holdout@1",)
    )
    return {"train": train, "holdout": holdout, "base": base, "tuned": tuned}


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_posting_an_edge_records_it_once_and_traversal_finds_it(owner_api, graph):
    body = {"source": graph["base"], "target": graph["tuned"], "type": "fine_tuned_from"}
    first = owner_api.post("/api/v1/lineage/edges/", body, format="json")
    again = owner_api.post("/api/v1/lineage/edges/", body, format="json")
    assert first.status_code == 201, first.content
    assert again.status_code == 200 and again.json()["created"] is False
    up = owner_api.get("/api/v1/lineage/upstream/", {"node": graph["tuned"], "form": "graph"})
    assert up.status_code == 200, up.content
    ids = {n["id"]: n["depth"] for n in up.json()["nodes"]}
    # Both versions were trained and evaluated on the same data.
    assert ids == {graph["tuned"]: 0, graph["base"]: 1, graph["train"]: 1, graph["holdout"]: 1}
    assert {e["type"] for e in up.json()["edges"]} == {
        "fine_tuned_from",
        "trained_on",
        "evaluated_on",
    }
    only = owner_api.get(
        "/api/v1/lineage/upstream/", {"node": graph["tuned"], "type": "fine_tuned_from"}
    )
    assert {n["id"] for n in only.json()["nodes"]} == {graph["tuned"], graph["base"]}
    down = owner_api.get("/api/v1/lineage/downstream/", {"node": graph["train"], "depth": 1})
    assert {n["id"] for n in down.json()["nodes"]} == {
        graph["train"],
        graph["base"],
        graph["tuned"],
    }
    listed = owner_api.get("/api/v1/lineage/edges/", {"node": graph["base"]})
    assert len(listed.json()) == 3


def test_traversal_as_of_a_position_ignores_later_edges(owner_api, graph):
    before = LineageEdge.objects.order_by("-position").first().position
    owner_api.post(
        "/api/v1/lineage/edges/",
        {"source": graph["base"], "target": graph["tuned"], "type": "distilled_from"},
        format="json",
    )
    now = owner_api.get("/api/v1/lineage/upstream/", {"node": graph["tuned"]})
    then = owner_api.get("/api/v1/lineage/upstream/", {"node": graph["tuned"], "as_of": before})
    assert len(now.json()["nodes"]) == 4
    assert {n["id"] for n in then.json()["nodes"]} == {
        graph["tuned"],
        graph["train"],
        graph["holdout"],
    }
    early = owner_api.get("/api/v1/lineage/upstream/", {"node": graph["tuned"], "as_of": "1"})
    assert early.status_code == 404


def test_bad_edges_are_problems_and_append_nothing(owner_api, graph):
    positions = LineageEdge.objects.count()
    cases = [
        (
            {"source": graph["base"], "target": graph["base"], "type": "fine_tuned_from"},
            422,
            "lineage_self_loop",
        ),
        (
            {"source": graph["base"], "target": graph["train"], "type": "trained_on"},
            422,
            "invalid_edge",
        ),
        (
            {"source": "model:nope@1", "target": graph["base"], "type": "fine_tuned_from"},
            404,
            "node_not_found",
        ),
        (
            {"source": "table:x", "target": graph["base"], "type": "trained_on"},
            400,
            "validation_error",
        ),
    ]
    for body, code, problem in cases:
        response = owner_api.post("/api/v1/lineage/edges/", body, format="json")
        assert response.status_code == code, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == problem
    assert LineageEdge.objects.count() == positions


def test_exports_are_for_auditors_only(owner_api, graph):
    for url in (
        "/api/v1/exports/lineage/",
        "/api/v1/exports/audit-trail/",
        "/api/v1/exports/audit-bundle/",
    ):
        response = owner_api.get(url, {"node": graph["base"], "model": "fraud"})
        assert response.status_code == 403, url
        assert response.json()["code"] == "not_auditor"


def test_lineage_exports_stream_every_format_and_are_recorded(auditor, graph):
    api = client_for(auditor)
    formats = {}
    for fmt in ("json", "csv", "prov", "graphml"):
        response = api.get("/api/v1/exports/lineage/", {"node": graph["base"], "format": fmt})
        assert response.status_code == 200, response.content
        assert response.streaming
        formats[fmt] = _body(response)
        export = store.read_stream(__import__("uuid").UUID(response["X-Export-Id"]))
        assert [e.type for e in export] == ["lineage.ExportStarted", "lineage.ExportCompleted"]
        assert export[0].metadata["actor"] == f"user:{auditor.pk}"
        import hashlib

        assert export[1].data["sha256"] == hashlib.sha256(formats[fmt]).hexdigest()
    graph_json = json.loads(formats["json"])
    assert {n["id"] for n in graph_json["nodes"]} == {
        graph["base"],
        graph["train"],
        graph["holdout"],
    }
    assert trail_complete(formats["csv"], "csv")
    rows = list(csv.reader(io.StringIO(without_trailer(formats["csv"], "csv").decode())))
    assert {r[0] for r in rows[1:]} == {"node", "edge"} and len(rows) == 1 + 3 + 2
    assert formats["csv"].endswith(b",complete,,,,\n")  # the trailer row, as wide as the header
    assert b"<graphml" in formats["graphml"] and formats["graphml"].count(b"<edge ") == 2


def test_audit_trail_holds_the_models_streams_and_its_lineage(auditor, graph, owner_api):
    api = client_for(auditor)
    response = api.get("/api/v1/exports/audit-trail/", {"model": "fraud"})
    assert response.status_code == 200
    body = _body(response)
    assert trail_complete(body, "jsonl")
    events = [json.loads(line) for line in without_trailer(body, "jsonl").splitlines()]
    types = {e["type"] for e in events}
    assert {
        "registry.ModelRegistered",
        "registry.ModelVersionCreated",
        "registry.DatasetRegistered",
        "registry.DatasetVersionCreated",
    } <= types
    positions = [e["position"] for e in events]
    assert positions == sorted(positions)
    as_csv = api.get("/api/v1/exports/audit-trail/", {"model": "fraud", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(without_trailer(_body(as_csv), "csv").decode())))
    assert [int(r["position"]) for r in rows] == positions
    everything = api.get("/api/v1/exports/audit-trail/", {"since": "2000-01-01T00:00:00Z"})
    assert len(without_trailer(_body(everything), "jsonl").splitlines()) >= len(events)
    bad = api.get("/api/v1/exports/audit-trail/", {"since": "yesterday"})
    assert bad.status_code == 400


def test_auditors_group_exists_after_migrations():
    assert Group.objects.filter(name="auditors").exists()


def test_bad_traversal_parameters_are_problems(owner_api, graph):
    for params in (
        {"node": graph["base"], "depth": "²"},
        {"node": graph["base"], "depth": "101"},
        {"node": graph["base"], "type": "flew_over"},
        {"node": graph["base"], "form": "tree"},
        {"node": graph["base"], "as_of": "yesterday"},
        {"node": "table:x"},
        {},
    ):
        response = owner_api.get("/api/v1/lineage/downstream/", params)
        assert response.status_code == 400, (params, response.content)
        assert response["Content-Type"] == "application/problem+json"
    missing = owner_api.get("/api/v1/lineage/downstream/", {"node": "dataset:nothing@1"})
    assert missing.status_code == 404 and missing.json()["code"] == "node_not_found"


def test_a_dataset_node_traverses_from_all_its_versions(owner_api, ledger):
    from django.db.models import Max

    from eventstore.models import Event
    from lineage import commands, queries

    ledger.dataset("raw")
    ledger.dataset("lake", 2)
    ledger.model("fraud", training_datasets=("lake@1",))
    cut = Event.objects.aggregate(last=Max("position"))["last"]
    ledger.model("churn", training_datasets=("lake@2",))
    commands.record_edge(
        actor=ledger.actor,
        source="dataset:raw@1",
        target="dataset:lake@1",
        edge_type="derived_from",
    )
    commands.record_edge(
        actor=ledger.actor, source="run:etl-7", target="dataset:lake", edge_type="produced"
    )

    def reached(direction: str, **params) -> dict[str, int]:
        response = owner_api.get(
            f"/api/v1/lineage/{direction}/", {"node": "dataset:lake", "depth": 1, **params}
        )
        assert response.status_code == 200, response.content
        return {n["id"]: n["depth"] for n in response.json()["nodes"]}

    versions = {"dataset:lake": 0, "dataset:lake@1": 0, "dataset:lake@2": 0}
    assert reached("downstream") == {**versions, "model:fraud@1": 1, "model:churn@1": 1}
    assert reached("upstream") == {**versions, "dataset:raw@1": 1, "run:etl-7": 1}
    assert reached("downstream", as_of=str(cut)) == {
        "dataset:lake": 0,
        "dataset:lake@1": 0,
        "dataset:lake@2": 0,
        "model:fraud@1": 1,
    }
    graph = owner_api.get(
        "/api/v1/lineage/downstream/", {"node": "dataset:lake", "form": "graph"}
    ).json()
    assert {(e["source"], e["target"]) for e in graph["edges"]} == {
        ("dataset:lake@1", "model:fraud@1"),
        ("dataset:lake@2", "model:churn@1"),
    }
    lake = queries.get_node("dataset:lake")
    walks = [
        queries.closure(lake.id, direction="downstream", depth=3, strategy=strategy, **options)
        for strategy, options in (
            ("frontier", {}),
            ("frontier", {"with_edges": False}),
            ("cte", {}),
        )
    ]
    assert walks[0].nodes == walks[1].nodes == walks[2].nodes
    assert len(walks[0].nodes) == 5
