"""The registry over HTTP: every endpoint, ETags and If-Match, idempotency, pagination,
time travel and problem+json errors."""

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
from tests.approvals.conftest import INTAKE

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


def test_model_is_created_and_read_back_with_an_etag_when_registered(owner_api, model):
    assert model["name"] == "fraud-detector"
    assert model["version"] == 1
    response = owner_api.get("/api/v1/models/fraud-detector/")
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    assert response.json()["description"] == "Scores transactions"


def test_token_scheme_works_as_well_as_bearer_when_reading(outsider_api, model):
    response = outsider_api.get("/api/v1/models/fraud-detector/")
    assert response.status_code == 200


def test_stale_if_match_gets_412_and_changes_nothing(owner_api, model):
    ok = owner_api.patch(
        "/api/v1/models/fraud-detector/", {"description": "v2"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert ok.status_code == 200
    assert ok["ETag"] == '"2"'
    stale = owner_api.patch(
        "/api/v1/models/fraud-detector/", {"description": "v3"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert_problem(stale, 412, "precondition_failed")
    assert owner_api.get("/api/v1/models/fraud-detector/").json()["description"] == "v2"


@pytest.mark.parametrize("header", ["0", "1", '"abc"', "W/", '"1", "2"'])
def test_malformed_if_match_matches_nothing_and_changes_nothing(owner_api, model, header):
    response = owner_api.patch(
        "/api/v1/models/fraud-detector/", {"description": "v2"}, format="json", HTTP_IF_MATCH=header
    )
    assert_problem(response, 412, "precondition_failed")
    assert owner_api.get("/api/v1/models/fraud-detector/").json()["version"] == 1


def test_model_can_be_renamed_and_archived_when_patched(owner_api, model):
    response = owner_api.patch(
        "/api/v1/models/fraud-detector/",
        {"name": "fraud-v2", "archived": True, "reason": "replaced"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["archived"]) == ("fraud-v2", True)
    assert owner_api.get("/api/v1/models/fraud-detector/").status_code == 404
    refused = owner_api.post("/api/v1/models/fraud-v2/versions/", {}, format="json")
    assert_problem(refused, 409, "model_archived")


def _model_events(name: str) -> list[tuple[int, str]]:
    from registry.models import RegisteredModel

    model_id = RegisteredModel.objects.get(name=name).id
    return list(
        Event.objects.filter(stream_id=model_id).order_by("version").values_list("version", "type")
    )


@pytest.fixture
def appends(monkeypatch) -> list[list[str]]:
    """The event types of each call to the event store's append (which still runs)."""
    from eventstore import store

    calls: list[list[str]] = []
    real = store.append

    def counting(stream, expected_version, events, *args, **kwargs):
        result = real(stream, expected_version, events, *args, **kwargs)
        calls.append([getattr(e, "event_type", getattr(e, "type", "")) for e in events])
        return result

    monkeypatch.setattr(store, "append", counting)
    return calls


def test_combined_patch_changes_nothing_when_the_new_name_is_taken(owner_api, model, appends):
    owner_api.post("/api/v1/models/", {"name": "churn", "team": "fraud-ml"}, format="json")
    before = _model_events("fraud-detector")
    appends.clear()
    response = owner_api.patch(
        "/api/v1/models/fraud-detector/",
        {"description": "changed", "tags": {"k": "v"}, "name": "Churn", "archived": True},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert_problem(response, 409, "name_taken")
    assert appends == []
    assert _model_events("fraud-detector") == before
    after = owner_api.get("/api/v1/models/fraud-detector/")
    assert after["ETag"] == '"1"'
    assert (after.json()["description"], after.json()["archived"]) == ("Scores transactions", False)


def test_combined_patch_changes_nothing_when_the_new_team_is_not_the_actors(owner_api, model):
    from django.contrib.auth.models import Group

    Group.objects.create(name="other-team")
    response = owner_api.patch(
        "/api/v1/models/fraud-detector/",
        {"description": "changed", "team": "other-team", "archived": True},
        format="json",
    )
    assert response.status_code == 403, response.content
    assert [t for _, t in _model_events("fraud-detector")] == ["registry.ModelRegistered"]


def test_combined_patch_appends_all_its_events_in_one_append(owner_api, model, appends):
    response = owner_api.patch(
        "/api/v1/models/fraud-detector/",
        {"description": "changed", "name": "fraud-v2", "archived": True, "reason": "replaced"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"4"'
    body = response.json()
    assert (body["name"], body["description"], body["archived"]) == ("fraud-v2", "changed", True)
    events = _model_events("fraud-v2")
    assert events == [
        (1, "registry.ModelRegistered"),
        (2, "registry.ModelUpdated"),
        (3, "registry.ModelRenamed"),
        (4, "registry.ModelArchived"),
    ]
    assert appends == [["registry.ModelUpdated", "registry.ModelRenamed", "registry.ModelArchived"]]


def test_versions_are_created_listed_filtered_and_paginated(owner_api, model):
    for framework in ("sklearn", "xgboost", "sklearn"):
        response = owner_api.post(
            "/api/v1/models/fraud-detector/versions/", {"framework": framework}, format="json"
        )
        assert response.status_code == 201
    assert response["Location"] == "/api/v1/models/fraud-detector/versions/3/"
    page = owner_api.get("/api/v1/models/fraud-detector/versions/?page_size=2").json()
    assert [v["number"] for v in page["results"]] == [3, 2]
    rest = owner_api.get(page["next"]).json()
    assert [v["number"] for v in rest["results"]] == [1]
    filtered = owner_api.get("/api/v1/models/fraud-detector/versions/?framework=sklearn").json()
    assert sorted(v["number"] for v in filtered["results"]) == [1, 3]
    bad_size = owner_api.get("/api/v1/models/fraud-detector/versions/?page_size=abc")
    assert bad_size.status_code == 400
    assert bad_size["Content-Type"] == "application/problem+json"


def test_model_list_searches_filters_and_orders(owner_api, model):
    owner_api.post("/api/v1/models/", {"name": "churn", "team": "fraud-ml"}, format="json")
    names = [m["name"] for m in owner_api.get("/api/v1/models/?ordering=name").json()["results"]]
    assert names == ["churn", "fraud-detector"]
    found = owner_api.get("/api/v1/models/?search=transactions").json()["results"]
    assert [m["name"] for m in found] == ["fraud-detector"]
    assert owner_api.get("/api/v1/models/?team=nobody").json()["results"] == []


def test_version_lifecycle_moves_only_along_legal_transitions(owner_api, model):
    owner_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    path = "/api/v1/models/fraud-detector/versions/1/"
    assert_problem(
        owner_api.patch(path, {"status": "deployed"}, format="json"), 409, "invalid_transition"
    )
    moved = owner_api.patch(path, {"status": "in_review"}, format="json", HTTP_IF_MATCH='"1"')
    assert moved.status_code == 200
    assert moved.json()["status"] == "in_review"
    assert_problem(
        owner_api.patch(path, {"status": "approved"}, format="json"), 403, "sod_violation"
    )


def test_time_travel_returns_the_earlier_state_when_as_of_is_given(owner_api, model):
    first = Event.objects.filter(type="registry.ModelRegistered").latest("position").position
    owner_api.patch("/api/v1/models/fraud-detector/", {"description": "later"}, format="json")
    earlier = owner_api.get(f"/api/v1/models/fraud-detector/?as_of={first}").json()
    assert earlier["description"] == "Scores transactions"
    assert earlier["version"] == 1
    long_ago = owner_api.get("/api/v1/models/fraud-detector/?as_of=2001-01-01T00:00:00Z")
    assert_problem(long_ago, 404, "model_not_found")
    assert_problem(
        owner_api.get("/api/v1/models/fraud-detector/?as_of=yesterday"), 400, "validation_error"
    )


def test_aliases_are_assigned_moved_and_removed_and_production_needs_the_gate(owner_api, model):
    for _ in range(2):
        owner_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    path = "/api/v1/models/fraud-detector/aliases/champion/"
    assert owner_api.put(path, {"version": 1}, format="json").json() == {
        "alias": "champion",
        "version": 1,
    }
    assert owner_api.put(path, {"version": 2}, format="json").status_code == 200
    assert owner_api.get("/api/v1/models/fraud-detector/").json()["aliases"] == {"champion": 2}
    reserved = owner_api.put(
        "/api/v1/models/fraud-detector/aliases/production/", {"version": 2}, format="json"
    )
    assert_problem(reserved, 409, "promotion_blocked")
    assert owner_api.delete(path).status_code == 204
    assert_problem(owner_api.delete(path), 404, "alias_not_found")
    assert_problem(
        owner_api.put(path, {"version": 9}, format="json"), 404, "model_version_not_found"
    )


def test_history_lists_events_oldest_first_with_hashes(owner_api, model):
    owner_api.patch("/api/v1/models/fraud-detector/", {"description": "x"}, format="json")
    history = owner_api.get("/api/v1/models/fraud-detector/history/").json()["results"]
    assert [e["type"] for e in history] == ["registry.ModelRegistered", "registry.ModelUpdated"]
    assert history[1]["prev_hash"] == history[0]["hash"]
    assert history[0]["metadata"]["actor"].startswith("user:")
    owner_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    version_history = owner_api.get("/api/v1/models/fraud-detector/versions/1/history/").json()
    assert [e["type"] for e in version_history["results"]] == ["registry.ModelVersionCreated"]


def test_repeated_post_with_the_same_idempotency_key_creates_once(owner_api, model):
    path = "/api/v1/models/fraud-detector/versions/"
    first = owner_api.post(path, {"framework": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = owner_api.post(path, {"framework": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.json() == again.json()
    assert owner_api.get(path).json()["results"][0]["number"] == 1
    different = owner_api.post(path, {"framework": "y"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert_problem(different, 422, "idempotency_key_reused")


def test_outsiders_read_but_cannot_change_when_not_in_the_team(outsider_api, model):
    assert outsider_api.get("/api/v1/models/fraud-detector/versions/").status_code == 200
    denied = outsider_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    assert_problem(denied, 403, "not_owner")
    assert_problem(
        outsider_api.patch("/api/v1/models/fraud-detector/", {"description": "x"}, format="json"),
        403,
        "not_owner",
    )


def test_datasets_with_slashes_in_their_names_are_registered_and_versioned(owner_api):
    created = owner_api.post(
        "/api/v1/datasets/", {"name": "s3://lake/customers", "team": "fraud-ml"}, format="json"
    )
    assert created.status_code == 201, created.content
    version = owner_api.post(
        "/api/v1/datasets/s3://lake/customers/versions/",
        {"uri": "s3://lake/customers/2026-11", "row_count": 10, "pii_categories": ["email"]},
        format="json",
    )
    assert version.status_code == 201, version.content
    assert (
        owner_api.get("/api/v1/datasets/s3://lake/customers/versions/1/").json()["row_count"] == 10
    )
    assert owner_api.get("/api/v1/datasets/s3://lake/customers/").json()["latest_version"] == 1
    listed = owner_api.get("/api/v1/datasets/s3://lake/customers/versions/").json()["results"]
    assert [v["number"] for v in listed] == [1]


BAD_MODEL_BODIES = [
    ({"team": "fraud-ml"}, "validation_error"),
    ({"name": "x", "team": "fraud-ml", "colour": "red"}, "validation_error"),
    ({"name": 5, "team": "fraud-ml"}, "validation_error"),
    ({"name": True, "team": "fraud-ml"}, "validation_error"),
    ({"name": ["x"], "team": "fraud-ml"}, "validation_error"),
    ({"name": "../../etc/passwd", "team": "fraud-ml"}, "validation_error"),
    ({"name": "a\u202eb", "team": "fraud-ml"}, "validation_error"),
    ({"name": "x", "team": "fraud-ml", "tags": {"k": 1}}, "validation_error"),
    ({"name": "x", "team": "fraud-ml", "tags": "nope"}, "validation_error"),
    ({"name": "x", "team": "fraud-ml", "description": "nul\x00byte"}, "validation_error"),
]


@pytest.mark.parametrize(("body", "code"), BAD_MODEL_BODIES)
def test_bad_model_bodies_get_400_problem_and_append_nothing(owner_api, team, body, code):
    before = Event.objects.count()
    response = owner_api.post("/api/v1/models/", body, format="json")
    assert_problem(response, 400, code)
    assert Event.objects.count() == before


def _nested(depth: int) -> list:
    value: list = [1]
    for _ in range(depth - 1):
        value = [value]
    return value


BAD_VERSION_BODIES = [
    ({"artifact_sha256": "xyz"}, 400, "validation_error"),
    ({"artifact_sha256": "A" * 64}, 400, "validation_error"),
    ({"artifact_size": -1}, 400, "validation_error"),
    ({"artifact_size": "big"}, 400, "validation_error"),
    ({"code_commit": "not-a-sha"}, 400, "validation_error"),
    ({"metrics": {"auc": 2**60}}, 400, "invalid_input"),
    ({"metrics": []}, 400, "validation_error"),
    ({"training_datasets": ["nope"]}, 400, "validation_error"),
    ({"training_datasets": ["missing@1"]}, 422, "unknown_dataset_version"),
    ({"parameters": {"deep": _nested(66)}}, 400, "invalid_input"),
    ({"status": "approved"}, 400, "validation_error"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_VERSION_BODIES)
def test_bad_version_bodies_get_their_problem_and_append_nothing(
    owner_api, model, body, status, code
):
    before = Event.objects.count()
    response = owner_api.post("/api/v1/models/fraud-detector/versions/", body, format="json")
    problem = assert_problem(response, status, code)
    if code == "validation_error":
        # The problem names the offending field.
        assert [e["field"].split(".")[0].split("[")[0] for e in problem["errors"]] == list(body)
    assert Event.objects.count() == before


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


@pytest.mark.django_db(transaction=True)
def test_16_concurrent_api_clients_get_gapless_version_numbers(team, owner):
    client_for(owner).post("/api/v1/models/", {"name": "hot", "team": "fraud-ml"}, format="json")
    numbers: list[int] = []
    errors: list[object] = []
    barrier = threading.Barrier(16)

    def worker() -> None:
        try:
            api = client_for(owner)
            barrier.wait()
            for _ in range(3):
                response = api.post("/api/v1/models/hot/versions/", {}, format="json")
                if response.status_code != 201:
                    errors.append(response.content)
                else:
                    numbers.append(response.json()["number"])
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(numbers) == list(range(1, 49))


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


def _lifecycle_path(owner_api, path: str, route: list[str]) -> None:
    """Walk a new version along legal moves to the start of a transition under test."""
    for status in route:
        response = owner_api.patch(path, {"status": status}, format="json")
        assert response.status_code == 200, response.content


# From each status a version reaches by PATCH alone, the legal route there from draft.
ROUTES = {"draft": [], "in_review": ["in_review"], "retired": ["retired"]}


@pytest.mark.parametrize("start", sorted(ROUTES))
def test_patch_status_walks_the_lifecycle_table_from_every_reachable_status(
    owner_api, model, start
):
    from registry.state import REVIEW_OUTCOMES, STATUSES, transition_allowed

    for target in STATUSES:
        if target == start:
            continue
        created = owner_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
        path = f"/api/v1/models/fraud-detector/versions/{created.json()['number']}/"
        _lifecycle_path(owner_api, path, ROUTES[start])
        before = owner_api.get(path)
        response = owner_api.patch(path, {"status": target}, format="json")
        if not transition_allowed(start, target):
            assert_problem(response, 409, "invalid_transition")
        elif target in REVIEW_OUTCOMES:
            # approved and rejected are an approval request's outcome, never a PATCH.
            assert_problem(response, 403, "sod_violation")
        else:
            assert response.status_code == 200, (start, target, response.content)
            assert response.json()["status"] == target
            continue
        after = owner_api.get(path)
        assert (after["ETag"], after.json()["status"]) == (before["ETag"], start)


def test_deployment_and_production_wait_for_the_promotion_gate(owner_api, model):
    owner_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    path = "/api/v1/models/fraud-detector/versions/1/"
    # deployed is reached only from approved (or deprecated); approved only through an approval.
    assert_problem(
        owner_api.patch(path, {"status": "deployed"}, format="json"), 409, "invalid_transition"
    )
    assert_problem(
        owner_api.put(
            "/api/v1/models/fraud-detector/aliases/production/", {"version": 1}, format="json"
        ),
        409,
        "promotion_blocked",
    )
    assert owner_api.get(path).json()["status"] == "draft"
    assert owner_api.get("/api/v1/models/fraud-detector/aliases/").json() == []


@pytest.mark.parametrize(
    "status", ["", "Draft", "deleted", "in-review", 1, None, ["draft"], {"to": "draft"}]
)
def test_patch_status_outside_the_vocabulary_is_a_validation_error(owner_api, model, status):
    owner_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    path = "/api/v1/models/fraud-detector/versions/1/"
    response = owner_api.patch(path, {"status": status}, format="json")
    problem = assert_problem(response, 400, "validation_error")
    assert [e["field"] for e in problem["errors"]] == ["status"]
    assert owner_api.get(path)["ETag"] == '"1"'


LOW_RISK_INTAKE = INTAKE["low"]


def test_time_travel_reports_the_risk_tier_as_it_was(owner_api, owner_actor, model):
    from core.actors import Actor
    from governance import commands as governance
    from tests.conftest import make_user

    officer = Actor.user(make_user("rafa-risk", superuser=True), auth_method="session")
    governance.record_intake(actor=owner_actor, model_id=model["id"], answers=LOW_RISK_INTAKE)
    before_tier = Event.objects.order_by("-position").values_list("position", flat=True)[0]
    governance.assign_risk_tier(actor=officer, model_id=model["id"])
    confirmed_low = Event.objects.order_by("-position").values_list("position", flat=True)[0]
    governance.assign_risk_tier(
        actor=officer, model_id=model["id"], tier="high", reason="feeds credit decisions"
    )
    path = "/api/v1/models/fraud-detector/"
    assert owner_api.get(path).json()["risk_tier"] == "high"
    assert owner_api.get(f"{path}?as_of={confirmed_low}").json()["risk_tier"] == "low"
    assert owner_api.get(f"{path}?as_of={before_tier}").json()["risk_tier"] == ""
    moment = Event.objects.get(position=confirmed_low).recorded_at.isoformat()
    assert owner_api.get(path, {"as_of": moment}).json()["risk_tier"] == "low"


def test_aliases_are_listed_and_read_as_they_were(owner_api, model):
    for _ in range(2):
        owner_api.post("/api/v1/models/fraud-detector/versions/", {}, format="json")
    path = "/api/v1/models/fraud-detector/aliases/"
    owner_api.put(path + "champion/", {"version": 1}, format="json")
    history = owner_api.get("/api/v1/models/fraud-detector/history/").json()["results"]
    then = history[-1]["position"]
    owner_api.put(path + "champion/", {"version": 2}, format="json")
    owner_api.put(path + "challenger/", {"version": 1}, format="json")
    assert owner_api.get(path).json() == [
        {"alias": "challenger", "version": 1},
        {"alias": "champion", "version": 2},
    ]
    current = owner_api.get(path + "champion/")
    assert (current.json()["version"], current["ETag"]) == (2, '"6"')
    assert owner_api.get(path + f"champion/?as_of={then}").json()["version"] == 1
    assert owner_api.get(path + f"?as_of={then}").json() == [{"alias": "champion", "version": 1}]
    assert_problem(owner_api.get(path + "shadow/"), 404, "alias_not_found")
    assert_problem(owner_api.get(path + f"challenger/?as_of={then}"), 404, "alias_not_found")


def test_dataset_and_dataset_version_histories_are_their_events(owner_api):
    owner_api.post(
        "/api/v1/datasets/", {"name": "s3://lake/history", "team": "fraud-ml"}, format="json"
    )
    owner_api.post(
        "/api/v1/datasets/s3://lake/history/versions/", {"uri": "s3://lake/h/1"}, format="json"
    )
    history = owner_api.get("/api/v1/datasets/s3://lake/history/history/").json()["results"]
    assert [e["type"] for e in history] == [
        "registry.DatasetRegistered",
        "registry.DatasetVersionNumbered",
    ]
    assert history[1]["prev_hash"] == history[0]["hash"]
    versions = owner_api.get("/api/v1/datasets/s3://lake/history/versions/1/history/").json()
    assert [e["type"] for e in versions["results"]] == ["registry.DatasetVersionCreated"]
    assert_problem(owner_api.get("/api/v1/datasets/nope/history/"), 404, "dataset_not_found")


def test_openapi_schema_is_valid_and_generates_without_a_warning(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert target.read_text().startswith("openapi: 3.1.0")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/models/", {"name": "churn-model", "team": "fraud-ml"}),
        ("/api/v1/datasets/", {"name": "s3://lake/churn", "team": "fraud-ml"}),
    ],
)
def test_repeated_registration_with_the_same_idempotency_key_registers_once(owner_api, path, body):
    first = owner_api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    assert first.status_code == 201, first.content
    appended = Event.objects.count()
    again = owner_api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    assert again.status_code == first.status_code, again.content
    assert again.json() == first.json()
    assert Event.objects.count() == appended
    changed = owner_api.post(
        path, {**body, "description": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="reg-1"
    )
    assert_problem(changed, 422, "idempotency_key_reused")
    assert Event.objects.count() == appended
