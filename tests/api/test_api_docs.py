"""The API's documentation pages work offline and are for people: Swagger UI and ReDoc come
from this service's static files, a person without a session is sent to log in, the page says
how tokens work; the schema stays open to tokens; any other path under /api/ is problem+json."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.api.conftest import client_for
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


@pytest.fixture
def person(db):
    user = make_user("paula-person")
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_a_person_without_a_session_is_sent_to_log_in_and_back(client, page):
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={page}"


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_pages_load_their_assets_from_this_service_and_explain_tokens(person, page):
    response = person.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', html)
    assert assets and all(a.startswith("/static/drf_spectacular_sidecar/") for a in assets), assets
    assert "cdn." not in html and "googleapis" not in html
    assert 'id="api-token-help"' in html
    assert "Authorization: Bearer TOKEN" in html and "drf_create_token" in html
    assert "paula-person" in html


def test_the_static_assets_are_served(person):
    html = person.get("/api/docs/").content.decode()
    bundle = re.search(r'src="([^"]+swagger-ui-bundle\.js)"', html).group(1)
    response = person.get(bundle)
    assert response.status_code == 200
    assert b"SwaggerUIBundle" in b"".join(response.streaming_content)


def test_the_schema_answers_a_token_and_refuses_anyone_else(client):
    user = make_user("tomas-token")
    response = client_for(user).get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Model Ledger API"
    anonymous = client.get("/api/schema/")
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"].startswith(PROBLEM)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-thing/", "/api/nothing", "/api/", "/api/v2/models/"]
)
def test_an_unmatched_api_path_is_a_problem_404_whatever_debug_says(client, settings, debug, path):
    settings.DEBUG = debug
    for method in (client.get, client.post, client.delete):
        response = method(path)
        assert response.status_code == 404
        assert response["Content-Type"].startswith(PROBLEM)
        assert response.json()["code"] == "not_found"


def test_a_route_without_its_slash_is_redirected_on_get_and_named_otherwise(client):
    response = client.get("/api/v1/models?page_size=5")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/models/?page_size=5"
    response = client.post("/api/v1/models", {}, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["detail"].endswith("/api/v1/models/")


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/v1/models/x/versions/null,null/"])
def test_an_unmatched_path_answers_problem_json_before_any_csrf_check(path):
    """A POST with no CSRF token, as an API client or a fuzzer sends it, still learns only
    that the path does not exist: CSRF would otherwise answer first with an HTML 403."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("csrf-less"))
    response = client.post(path, {}, content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"].startswith(PROBLEM)
