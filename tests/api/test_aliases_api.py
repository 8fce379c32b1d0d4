"""Aliases over HTTP: assigned, moved and removed, `production` behind the gate, and read as
they were."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_problem

pytestmark = pytest.mark.django_db


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
