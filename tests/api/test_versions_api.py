"""Model versions over HTTP: created (gapless, also under concurrency), listed, filtered and
paginated, bad bodies, and the lifecycle with its promotion gate."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from eventstore.models import Event
from tests.api.conftest import client_for
from tests.api.helpers import assert_problem

pytestmark = pytest.mark.django_db


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


def test_repeated_post_with_the_same_idempotency_key_creates_once(owner_api, model):
    path = "/api/v1/models/fraud-detector/versions/"
    first = owner_api.post(path, {"framework": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = owner_api.post(path, {"framework": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.json() == again.json()
    assert owner_api.get(path).json()["results"][0]["number"] == 1
    different = owner_api.post(path, {"framework": "y"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert_problem(different, 422, "idempotency_key_reused")


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
