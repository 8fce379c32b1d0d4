"""What an adversary sends to get a 5xx: JSON nested thousands of levels deep, digits that
str.isdigit() accepts and int() refuses, Django lookups smuggled into a tag filter. Each is a
4xx problem+json with a stable code, and nothing is appended."""

from __future__ import annotations

import json

import pytest

from api.parsers import MAX_JSON_DEPTH, json_depth_exceeds
from eventstore.models import Event

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def _refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == code


def _nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def _nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


# -- JSON nested too deep -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/models/", _nested(5000)),
        ("/api/v1/models/", '{"name": "deep", "team": "fraud-ml", "tags": ' + _nested(5000) + "}"),
        ("/api/v1/models/", _nested_objects(5000)),
        ("/api/v1/models/fraud-detector/versions/", '{"parameters": ' + _nested(3000) + "}"),
        ("/api/v1/lineage/edges/", _nested(100_000)),
        ("/api/v1/lineage", '{"eventType": "START", "run": ' + _nested_objects(4000) + "}"),
        ("/api/v1/datasets/", _nested(5000)),
    ],
)
def test_json_nested_thousands_deep_is_a_400_too_deep(owner_api, model, path, body):
    before = Event.objects.count()
    response = owner_api.post(path, body, content_type="application/json")
    _refused(response, 400, "too_deep")
    assert Event.objects.count() == before


def test_json_nested_too_deep_in_a_patch_is_a_400_too_deep(owner_api, model):
    before = Event.objects.count()
    body = '{"description": "x", "tags": ' + _nested_objects(2000) + "}"
    response = owner_api.patch(
        "/api/v1/models/fraud-detector/", body, content_type="application/json"
    )
    _refused(response, 400, "too_deep")
    assert Event.objects.count() == before


def test_brackets_inside_strings_do_not_count_as_depth(owner_api, model):
    description = "[" * 5000 + '{"\\"[' * 100
    body = json.dumps({"description": description, "tags": {"k": "]]]]}}}}"}})
    response = owner_api.post(
        "/api/v1/models/fraud-detector/versions/", body, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["description"] == description


def test_nesting_up_to_the_limit_is_parsed(owner_api, model):
    # The body's object is the first level, `parameters` and what it holds the rest: parsed,
    # then refused by the ledger's own (shallower) bound on a recorded value.
    body = '{"parameters": ' + _nested_objects(MAX_JSON_DEPTH - 1) + "}"
    response = owner_api.post(
        "/api/v1/models/fraud-detector/versions/", body, content_type="application/json"
    )
    _refused(response, 400, "invalid_input")


def test_one_level_over_the_limit_is_too_deep(owner_api, model):
    body = '{"parameters": ' + _nested_objects(MAX_JSON_DEPTH) + "}"
    before = Event.objects.count()
    response = owner_api.post(
        "/api/v1/models/fraud-detector/versions/", body, content_type="application/json"
    )
    assert Event.objects.count() == before
    _refused(response, 400, "too_deep")


def test_malformed_json_stays_malformed_request(owner_api, model):
    response = owner_api.post("/api/v1/models/", '{"name": [}', content_type="application/json")
    _refused(response, 400, "malformed_request")
    response = owner_api.post("/api/v1/models/", '{"a": NaN}', content_type="application/json")
    _refused(response, 400, "malformed_request")


@pytest.mark.parametrize(
    ("text", "deeper"),
    [
        ("[]", False),
        ("[[]]", False),
        ('["[[[[[[[["]', False),
        ('["\\\\", [[[]]]]', False),  # an escaped backslash ends before the quote
        ('["\\"[[[[[[", 1]', False),  # an escaped quote does not end the string
        ('{"a": {"b": [1, {"c": 2}]}}', False),
        ("[[[[[", True),
        ('[{"a": [{"b": []}]}]', True),
    ],
)
def test_json_depth_is_counted_outside_strings(text, deeper):
    assert json_depth_exceeds(text, limit=4) is deeper


# -- digits that are not ASCII ------------------------------------------------------------

NOT_ASCII_DIGITS = ["²", "①", "٣", "\U0001d7d9", "1²", "²0", "1_0", " 1", "+1"]


@pytest.mark.parametrize("raw", NOT_ASCII_DIGITS)
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/models/?page_size=", "page_size"),
        ("/api/v1/models/fraud-detector/?as_of=", "as_of"),
        ("/api/v1/models/fraud-detector/aliases/?as_of=", "as_of"),
        ("/api/v1/models/fraud-detector/history/?after_version=", "after_version"),
        ("/api/v1/models/fraud-detector/history/?page_size=", "page_size"),
        ("/api/v1/lineage/upstream/?node=model:fraud-detector@1&depth=", "depth"),
    ],
)
def test_digits_are_ascii_only_in_query_parameters(owner_api, model, path, name, raw):
    created = owner_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    assert created.status_code == 201, created.content
    before = Event.objects.count()
    response = owner_api.get(path + raw)
    _refused(response, 400, "validation_error")
    assert [e["field"] for e in response.json()["errors"]] == [name]
    assert Event.objects.count() == before


def test_ascii_digits_are_still_whole_numbers(owner_api, model):
    assert owner_api.get("/api/v1/models/?page_size=7").status_code == 200
    assert owner_api.get("/api/v1/models/fraud-detector/?as_of=1").status_code in (200, 404)
    response = owner_api.get("/api/v1/models/fraud-detector/history/?after_version=0")
    assert response.status_code == 200


@pytest.mark.parametrize("tag", ['"²"', '"٣"', 'W/"①"'])
def test_if_match_takes_ascii_digits_only(owner_api, model, tag):
    before = Event.objects.count()
    response = owner_api.patch(
        "/api/v1/models/fraud-detector/",
        {"description": "changed"},
        format="json",
        HTTP_IF_MATCH=tag,
    )
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert Event.objects.count() == before


@pytest.mark.parametrize("length", ["²", "٣", "1²"])
def test_an_artifact_content_length_takes_ascii_digits_only(owner_api, model, length):
    created = owner_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    assert created.status_code == 201, created.content
    before = Event.objects.count()
    response = owner_api.generic(
        "PUT",
        "/api/v1/models/fraud-detector/versions/1/artifact/content/model.bin?sha256=" + "0" * 64,
        b"x",
        content_type="application/octet-stream",
        CONTENT_LENGTH=length,
    )
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert Event.objects.count() == before


@pytest.mark.parametrize("length", ["²", "٣", " 1", "1_0", "-1"])
def test_the_local_upload_content_length_takes_ascii_digits_only(rf, length):
    from core.errors import InvalidInput
    from registry.upload import _content_length

    with pytest.raises(InvalidInput):
        _content_length(rf.put("/", CONTENT_LENGTH=length))
    assert _content_length(rf.put("/", CONTENT_LENGTH="12")) == 12


# -- lookups smuggled into the tag filter --------------------------------------------------


@pytest.mark.parametrize(
    "tag",
    [
        "x__isnull=1",
        "x__isnull=true",
        "x__regex=(",
        "x__iregex=[",
        "x__contains=1",
        "x__gt=0",
        "x__in=1",
        "__isnull=1",
        "team__startswith=f",
        "x__0=1",
        "x__has_key=a",
    ],
)
def test_tag_filters_never_take_a_client_lookup(owner_api, model, tag):
    before = Event.objects.count()
    response = owner_api.get("/api/v1/models/", {"tag": tag})
    assert response.status_code == 200, response.content
    assert response.json()["results"] == []
    assert Event.objects.count() == before


def test_tag_filters_match_by_containment(owner_api, model):
    response = owner_api.patch(
        "/api/v1/models/fraud-detector/",
        {"tags": {"domain": "fraud", "x__isnull": "1", "odd key": "v=w"}},
        format="json",
    )
    assert response.status_code == 200, response.content

    def names(tag: str) -> list[str]:
        response = owner_api.get("/api/v1/models/", {"tag": tag})
        assert response.status_code == 200, response.content
        return [m["name"] for m in response.json()["results"]]

    assert names("domain=fraud") == ["fraud-detector"]
    assert names("domain") == ["fraud-detector"]
    assert names("domain=other") == []
    assert names("x__isnull=1") == ["fraud-detector"]  # a key like any other
    assert names("odd key=v=w") == ["fraud-detector"]
    assert names("odd key") == ["fraud-detector"]
    assert names("missing") == []
