"""NUL characters, which PostgreSQL cannot store in text, are refused with a 4xx wherever a
client can put them: the path, the query string and JSON bodies. Nothing is appended."""

from __future__ import annotations

import json

import pytest

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
