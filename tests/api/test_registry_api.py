"""The registry over HTTP as a whole: authentication on every endpoint, If-Match races,
history, problem+json errors at every level, and the schema."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from eventstore.models import Event
from tests.api.conftest import client_for
from tests.api.helpers import PROBLEM, assert_problem

pytestmark = pytest.mark.django_db


def test_every_endpoint_needs_authentication_when_called_anonymously(model):
    anonymous = APIClient()
    for path in (
        "/api/v1/models/",
        "/api/v1/models/fraud-detector/",
        "/api/v1/models/fraud-detector/versions/",
        "/api/v1/models/fraud-detector/history/",
        "/api/v1/datasets/",
        "/api/schema/",
    ):
        response = anonymous.get(path)
        assert_problem(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_history_lists_events_oldest_first_with_hashes(owner_api, model):
    owner_api.patch("/api/v1/models/fraud-detector/", {"description": "x"}, format="json")
    history = owner_api.get("/api/v1/models/fraud-detector/history/").json()["results"]
    assert [e["type"] for e in history] == ["registry.ModelRegistered", "registry.ModelUpdated"]
    assert history[1]["prev_hash"] == history[0]["hash"]
    assert history[0]["metadata"]["actor"].startswith("user:")
    owner_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    version_history = owner_api.get("/api/v1/models/fraud-detector/versions/1/history/").json()
    assert [e["type"] for e in version_history["results"]] == ["registry.ModelVersionCreated"]


def test_malformed_json_wrong_media_type_and_big_bodies_get_problems(owner_api, model, settings):
    path = "/api/v1/models/fraud-detector/versions/"
    assert_problem(
        owner_api.post(path, "{not json", content_type="application/json"), 400, "malformed_request"
    )
    assert_problem(
        owner_api.post(path, "a=b", content_type="application/x-www-form-urlencoded"),
        415,
        "unsupported_media_type",
    )
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = owner_api.post(path, {"description": "x" * 5000}, format="json")
    assert_problem(big, 413, "payload_too_large")


def test_unknown_paths_and_methods_get_problems(owner_api, model):
    assert_problem(owner_api.get("/api/v1/nothing-here/"), 404, "not_found")
    assert_problem(owner_api.get("/api/v1/models/no-such-model/"), 404, "model_not_found")
    assert_problem(owner_api.delete("/api/v1/models/fraud-detector/"), 405, "method_not_allowed")
    assert_problem(
        owner_api.get("/api/v1/models/fraud-detector/versions/99/"), 404, "model_version_not_found"
    )


@pytest.mark.parametrize("method", ["get", "post", "patch"])
def test_a_host_not_served_gets_a_400_problem_before_any_view(owner_api, model, method):
    before = Event.objects.count()
    response = getattr(owner_api, method)(
        "/api/v1/models/fraud-detector/", {"description": "x"}, format="json", HTTP_HOST="evil.test"
    )
    body = assert_problem(response, 400, "bad_request")
    assert "evil.test" not in body["detail"]
    assert Event.objects.count() == before


def test_django_level_refusals_outside_the_api_keep_djangos_pages(client):
    response = client.get("/admin/login/", HTTP_HOST="evil.test")
    assert response.status_code == 400
    assert not response["Content-Type"].startswith(PROBLEM)


@pytest.mark.parametrize(
    ("exception", "status", "code"),
    [
        ("RequestDataTooBig", 413, "payload_too_large"),
        ("TooManyFieldsSent", 400, "bad_request"),
        ("SuspiciousOperation", 400, "bad_request"),
    ],
)
def test_django_level_400s_under_the_api_are_problems(rf, exception, status, code):
    from django.core import exceptions
    from django.utils.module_loading import import_string

    from config import urls

    handler = import_string(urls.handler400)
    response = handler(rf.post("/api/v1/models/"), getattr(exceptions, exception)("refused"))
    response.json = lambda: json.loads(response.content)
    assert_problem(response, status, code)


def test_django_level_403s_under_the_api_are_problems(rf):
    from django.core.exceptions import PermissionDenied
    from django.utils.module_loading import import_string

    from config import urls

    response = import_string(urls.handler403)(rf.get("/api/v1/models/"), PermissionDenied())
    response.json = lambda: json.loads(response.content)
    assert_problem(response, 403, "permission_denied")


def test_schema_and_docs_are_served_when_authenticated(owner_api):
    schema = owner_api.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/models/{name}/versions/{number}/" in paths
    assert "bearerAuth" in schema.json()["components"]["securitySchemes"]
    assert owner_api.get("/api/docs/").status_code == 200


def _wait_until_blocked_on_a_lock(thread: threading.Thread, timeout: float = 20) -> None:
    """Until another session waits on a row lock this transaction holds (or the thread ends)."""
    deadline = time.monotonic() + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # pg_locks is live; pg_stat_activity would be a snapshot for the whole transaction.
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    if thread.is_alive():
        raise AssertionError("the second PATCH neither finished nor waited on the append")


def test_racing_patches_with_the_same_if_match_give_one_200_and_one_409(transactional_db, team):
    from tests.conftest import make_user

    first, second = (
        client_for(make_user("first-owner", team)),
        client_for(make_user("second-owner", team)),
    )
    created = first.post("/api/v1/models/", {"name": "hot", "team": "fraud-ml"}, format="json")
    assert created.status_code == 201, created.content
    raced: dict[str, object] = {}

    def second_patch() -> None:
        try:
            raced["response"] = second.patch(
                "/api/v1/models/hot/", {"description": "second"}, format="json", HTTP_IF_MATCH='"1"'
            )
        finally:
            connection.close()

    # The first PATCH appends inside a transaction left open, so the second one passes its
    # If-Match check (version 1 is still what is committed) and then waits on the append.
    with transaction.atomic():
        won = first.patch(
            "/api/v1/models/hot/", {"description": "first"}, format="json", HTTP_IF_MATCH='"1"'
        )
        assert won.status_code == 200, won.content
        racer = threading.Thread(target=second_patch)
        racer.start()
        _wait_until_blocked_on_a_lock(racer)
    racer.join(timeout=30)
    body = assert_problem(raced["response"], 409, "concurrency_conflict")
    assert (body["expected_version"], body["current_version"]) == (1, 2)
    after = first.get("/api/v1/models/hot/")
    assert (after["ETag"], after.json()["description"]) == ('"2"', "first")


def test_stale_if_match_gets_412_on_alias_put_and_delete_and_version_patch(owner_api, model):
    owner_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    alias = "/api/v1/models/fraud-detector/aliases/champion/"
    assert owner_api.put(alias, {"version": 1}, format="json").status_code == 200
    current = owner_api.get("/api/v1/models/fraud-detector/")["ETag"]
    stale = '"1"'
    assert current != stale
    events = Event.objects.count()
    assert_problem(
        owner_api.put(alias, {"version": 1}, format="json", HTTP_IF_MATCH=stale),
        412,
        "precondition_failed",
    )
    assert_problem(owner_api.delete(alias, HTTP_IF_MATCH=stale), 412, "precondition_failed")
    version = "/api/v1/models/fraud-detector/versions/1/"
    assert owner_api.patch(version, {"description": "a"}, format="json").status_code == 200
    assert_problem(
        owner_api.patch(version, {"description": "b"}, format="json", HTTP_IF_MATCH='"1"'),
        412,
        "precondition_failed",
    )
    assert Event.objects.count() == events + 1
    assert owner_api.get(alias).json() == {"alias": "champion", "version": 1}
    assert owner_api.get(version).json()["description"] == "a"
    # The current ETag still works for each.
    assert owner_api.delete(alias, HTTP_IF_MATCH=current).status_code == 204
    assert (
        owner_api.patch(version, {"description": "b"}, format="json", HTTP_IF_MATCH='"2"')
    ).status_code == 200


def test_openapi_schema_is_valid_and_generates_without_a_warning(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert target.read_text().startswith("openapi: 3.1.0")
