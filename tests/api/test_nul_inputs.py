"""NUL characters, which PostgreSQL cannot store in text, are refused with a 4xx wherever a
client can put them: the path, the query string and JSON bodies. Nothing is appended, and the
OpenAPI schema says so: every input string has a rule that excludes NUL."""

from __future__ import annotations

import json

import pytest

from api.schema import NUL_FREE
from eventstore.models import Event

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/models/a%00b/"),
        ("get", "/api/v1/approvals/6f1c3a52-0d4b-4f0e-9a57-3d2b8c1e7a10%00/"),
        ("post", "/api/v1/reviews/6f1c3a52-0d4b-4f0e-9a57-3d2b8c1e7a10%00/completion/"),
        ("post", "/api/v1/models/a%00b/versions/"),
        ("get", "/api/v1/models/fraud-detector/versions/?status=dr%00aft"),
        ("get", "/api/v1/models/?search=x%00y"),
        ("get", "/api/v1/models/?team=x%00y"),
        ("get", "/api/v1/models/?tag=k%00=v"),
        ("get", "/api/v1/datasets/a%00b/versions/"),
        ("get", "/api/v1/lineage/upstream/?node=model:a%00b@1"),
        ("get", "/api/v1/models/fraud-detector/?as_of=2026%00"),
        ("put", "/api/v1/models/fraud-detector/aliases/ch%00amp/"),
    ],
)
def test_nul_in_the_path_or_query_is_a_4xx_when_sent(owner_api, model, method, path):
    before = Event.objects.count()
    send = getattr(owner_api, method)
    response = send(path) if method == "get" else send(path, {"version": 1}, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "nul_character"
    assert Event.objects.count() == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/models/", {"name": "n", "team": "fraud\u0000ml"}),
        ("/api/v1/models/", {"name": "n\u0000", "team": "fraud-ml"}),
        ("/api/v1/models/fraud-detector/versions/", {"framework": "x\u0000"}),
        ("/api/v1/models/fraud-detector/versions/", {"tags": {"k\u0000": "v"}}),
        ("/api/v1/datasets/", {"name": "d", "team": "fraud-ml", "description": "\u0000"}),
        ("/api/v1/lineage/edges/", {"source": "model:a\u0000@1", "target": "x", "type": "y"}),
        ("/api/v1/models/fraud-detector/versions/", {"parameters": {"lr": "\u0000"}}),
        ("/api/v1/models/fraud-detector/versions/", {"metrics": {"\u0000": 1}}),
        (
            "/api/v1/lineage",
            {
                "eventType": "START",
                "eventTime": "2026-11-23T12:00:00Z",
                "run": {"runId": "r-1"},
                "job": {"namespace": "n", "name": "j"},
                "inputs": [
                    {
                        "namespace": "s3://lake",
                        "name": "raw",
                        "facets": {"version": {"datasetVersion": "v\u0000"}},
                    }
                ],
            },
        ),
    ],
)
def test_nul_in_a_json_body_is_a_4xx_when_posted(owner_api, model, path, body):
    before = Event.objects.count()
    response = owner_api.post(path, json.dumps(body), content_type="application/json")
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert Event.objects.count() == before


def test_nul_in_the_idempotency_key_is_a_4xx_when_posted(owner_api, model):
    response = owner_api.post(
        "/api/v1/models/fraud-detector/versions/", {}, format="json", HTTP_IDEMPOTENCY_KEY="k\x00"
    )
    assert 400 <= response.status_code < 500, response.content


def _inputs(schema: dict) -> list[tuple[str, dict]]:
    """Every schema a client fills in: request bodies, path and query parameters, followed
    through $refs, each with a readable place."""
    components = schema["components"]["schemas"]
    found: list[tuple[str, dict]] = []
    seen: set[str] = set()

    def walk(node, place: str) -> None:
        if isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{place}[{index}]")
            return
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                walk(components[name], name)
            return
        found.append((place, node))
        for key, value in node.items():
            if key == "properties":
                for name, child in value.items():
                    walk(child, f"{place}.{name}")
            elif key in ("items", "additionalProperties", "propertyNames", "anyOf", "oneOf"):
                walk(value, f"{place}/{key}")

    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] in ("path", "query"):
                    walk(parameter["schema"], f"{method} {path} {parameter['name']}")
            for media in operation.get("requestBody", {}).get("content", {}).values():
                walk(media["schema"], f"{method} {path} body")
    return found


def _types(node: dict) -> list:
    kinds = node.get("type")
    return kinds if isinstance(kinds, list) else [kinds]


@pytest.fixture
def openapi() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_gives_every_input_string_and_map_key_a_rule_that_refuses_nul(openapi):
    closed = ("pattern", "enum", "const", "format")
    open_strings = [
        place
        for place, node in _inputs(openapi)
        if "string" in _types(node) and not any(key in node for key in closed)
    ]
    # Maps whose values may be anything (OpenLineage facets) are passed over unread, NUL keys
    # and all; every other map is stored, so its keys need the rule as well.
    open_keys = [
        place
        for place, node in _inputs(openapi)
        if "object" in _types(node)
        and node.get("additionalProperties") not in (None, False, {})
        and not any(key in node.get("propertyNames", {}) for key in closed)
    ]
    assert open_strings == []
    assert open_keys == []


def _may_match_nul(items) -> bool:
    """Whether a parsed regular expression has an atom that can match U+0000: exact for the
    constructs the schema uses, and "yes" for any it does not know."""
    for op, arg in items:
        name = str(op)
        if name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # anchors and lookarounds consume nothing
        if name == "LITERAL":
            found = arg == 0
        elif name == "NOT_LITERAL":
            found = arg != 0
        elif name == "IN":
            found = _class_has_nul(arg)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            found = _may_match_nul(arg[2])
        elif name == "SUBPATTERN":
            found = _may_match_nul(arg[-1])
        elif name == "ATOMIC_GROUP":
            found = _may_match_nul(arg)
        elif name == "BRANCH":
            found = any(_may_match_nul(branch) for branch in arg[1])
        else:
            found = True  # ANY ('.') and whatever else: assume the worst
        if found:
            return True
    return False


def _class_has_nul(items) -> bool:
    negated = hit = False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negated = True
        elif name == "LITERAL":
            hit = hit or arg == 0
        elif name == "RANGE":
            hit = hit or arg[0] == 0
        elif name == "CATEGORY":
            hit = hit or "_NOT_" in str(arg)  # NUL is no digit, space or word character
        else:
            hit = True
    return hit != negated


def test_schema_patterns_of_inputs_match_no_text_with_a_nul(openapi):
    from re import _parser  # the stdlib's own parse of a pattern (sre_parse before 3.11)

    patterns = sorted({node["pattern"] for _, node in _inputs(openapi) if "pattern" in node})
    assert NUL_FREE in patterns
    admitting = [p for p in patterns if _may_match_nul(_parser.parse(p))]
    assert admitting == []
    probes = ("^.*$", "^[^@]{1,5}$", "^(a|[\\x00-z])$", "^\\S+$", "^[^\\u0000-\\u001f]+$")
    assert [_may_match_nul(_parser.parse(p)) for p in probes] == [True, True, True, True, False]
