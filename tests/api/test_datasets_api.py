"""Datasets over HTTP: names with slashes, versions, and their histories."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_problem

pytestmark = pytest.mark.django_db


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
