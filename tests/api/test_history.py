"""Event history over HTTP: cursor pages of an object's events, oldest first, shown exactly as
the log holds them, with the page envelope the schema describes."""

from __future__ import annotations

import itertools
import uuid

import pytest
from drf_spectacular.generators import SchemaGenerator

from eventstore import store
from tests.api.helpers import assert_problem

pytestmark = pytest.mark.django_db
MODEL_HISTORY = "/api/v1/models/fraud-detector/history/"


def _describe(owner_api, text: str) -> None:
    response = owner_api.patch(
        "/api/v1/models/fraud-detector/", {"description": text}, format="json"
    )
    assert response.status_code == 200, response.content


def _walk(owner_api, url: str, **params) -> list[list[int]]:
    """The event versions of every page, following `next` to the end."""
    pages = []
    response = owner_api.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        page = response.json()
        pages.append([event["version"] for event in page["results"]])
        if page["next"] is None:
            return pages
        response = owner_api.get(page["next"])


def test_history_pages_walk_every_event_oldest_first_when_page_size_is_small(owner_api, model):
    for n in range(4):
        _describe(owner_api, f"revision {n}")
    assert _walk(owner_api, MODEL_HISTORY, page_size=2) == [[1, 2], [3, 4], [5]]
    first = owner_api.get(MODEL_HISTORY, {"page_size": 2}).json()
    assert set(first) == {"next", "previous", "results"}
    assert first["previous"] is None
    last = owner_api.get(owner_api.get(first["next"]).json()["next"]).json()
    back = owner_api.get(last["previous"]).json()
    assert [event["version"] for event in back["results"]] == [3, 4]


def test_history_is_one_page_when_it_is_shorter_than_the_default(owner_api, model):
    _describe(owner_api, "x")
    page = owner_api.get(MODEL_HISTORY).json()
    assert (page["next"], page["previous"]) == (None, None)
    assert [event["type"] for event in page["results"]] == [
        "registry.ModelRegistered",
        "registry.ModelUpdated",
    ]


def test_history_cursor_keeps_its_place_when_events_are_appended_while_paging(owner_api, model):
    for text in ("a", "b"):
        _describe(owner_api, text)
    first = owner_api.get(MODEL_HISTORY, {"page_size": 2}).json()
    for text in ("c", "d", "e"):
        _describe(owner_api, text)
    following = [first["results"]]
    url = first["next"]
    while url:
        page = owner_api.get(url).json()
        following.append(page["results"])
        url = page["next"]
    versions = [event["version"] for page in following for event in page]
    assert versions == [1, 2, 3, 4, 5, 6]


def test_history_shows_the_events_exactly_as_the_store_reads_them(owner_api, model):
    _describe(owner_api, "x")
    owner_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    shown = owner_api.get(MODEL_HISTORY, {"page_size": 1}).json()["results"]
    shown += owner_api.get(MODEL_HISTORY, {"page_size": 200}).json()["results"][1:]
    recorded = store.read_stream(uuid.UUID(model["id"]), upcast=False)
    assert [
        (e["position"], e["version"], e["type"], e["data"], e["metadata"], e["hash"]) for e in shown
    ] == [
        (e.position, e.version, e.type, e.data, e.metadata, bytes(e.hash).hex()) for e in recorded
    ]
    assert shown[0]["prev_hash"] == "0" * 64
    for earlier, later in itertools.pairwise(shown):
        assert later["prev_hash"] == earlier["hash"]


def test_a_client_follows_new_events_after_the_last_version_it_read(owner_api, model):
    _describe(owner_api, "a")
    pages = _walk(owner_api, MODEL_HISTORY, page_size=1)
    assert pages == [[1], [2]]  # the last page has no `next`: the client keeps the version
    assert _walk(owner_api, MODEL_HISTORY, after_version=2) == [[]]
    for text in ("b", "c", "d"):
        _describe(owner_api, text)
    assert _walk(owner_api, MODEL_HISTORY, after_version=2, page_size=2) == [[3, 4], [5]]
    assert _walk(owner_api, MODEL_HISTORY, after_version=0) == [[1, 2, 3, 4, 5]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"after_version": "-1"}, "after_version"),
        ({"after_version": "two"}, "after_version"),
        ({"after_version": "9" * 19}, "after_version"),
        ({"after_version": ""}, "after_version"),
    ],
)
def test_history_page_parameters_are_checked_like_every_list_when_bad(
    owner_api, model, params, field
):
    body = assert_problem(owner_api.get(MODEL_HISTORY, params), 400, "validation_error")
    assert [error["field"] for error in body["errors"]] == [field]


def test_every_history_path_is_paged_when_called(owner_api, model):
    owner_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    dataset = {"name": "s3://lake/t", "team": "fraud-ml"}
    owner_api.post("/api/v1/datasets/", dataset, format="json")
    version = {"uri": "s3://lake/t/1"}
    owner_api.post("/api/v1/datasets/s3://lake/t/versions/", version, format="json")
    for url in (
        "/api/v1/models/fraud-detector/versions/1/history/",
        "/api/v1/datasets/s3://lake/t/history/",
        "/api/v1/datasets/s3://lake/t/versions/1/history/",
    ):
        assert _walk(owner_api, url, page_size=1)[0] == [1], url


def test_history_schema_is_the_page_envelope_for_every_history_operation():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"].items()
    operations = {path: item["get"] for path, item in paths if "/history/" in path}
    assert len(operations) == 7
    page_ref = "#/components/schemas/PaginatedEventOutputList"
    for path, operation in operations.items():
        content = operation["responses"]["200"]["content"]["application/json"]
        assert content["schema"] == {"$ref": page_ref}, path
        names = {p["name"] for p in operation["parameters"]}
        assert {"cursor", "page_size", "after_version"} <= names, path
        assert "400" in operation["responses"], path
    page = schema["components"]["schemas"]["PaginatedEventOutputList"]
    assert page["required"] == ["next", "previous", "results"]
    for link in ("next", "previous"):
        assert page["properties"][link]["type"] == ["string", "null"]
    assert page["properties"]["results"]["items"] == {"$ref": "#/components/schemas/EventOutput"}
