"""A dataset's version list: filters on creation time, PII category, legal basis and owner, a
search over the text fields, and a 400 problem for any value it cannot read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import clock
from tests.api.helpers import assert_problem

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
VERSIONS = "/api/v1/datasets/s3://lake/customers/versions/"
BODIES = [
    {
        "uri": "s3://lake/customers/2026-03-02",
        "pii_categories": ["email", "postal_address"],
        "legal_basis": "contract",
        "owner": "crm-team",
        "description": "Nightly snapshot",
    },
    {
        "uri": "s3://lake/customers/2026-03-03",
        "pii_categories": [],
        "legal_basis": "",
        "owner": "analytics",
        "description": "Anonymised extract for churn modelling",
    },
    {
        "uri": "s3://lake/customers/2026-03-04",
        "pii_categories": ["email"],
        "legal_basis": "consent",
        "owner": "crm-team",
        "description": "Marketing opt-ins",
    },
]


@pytest.fixture
def versions(owner_api):
    created = owner_api.post(
        "/api/v1/datasets/", {"name": "s3://lake/customers", "team": "fraud-ml"}, format="json"
    )
    assert created.status_code == 201, created.content
    with clock.frozen(T0) as now:
        for body in BODIES:
            response = owner_api.post(VERSIONS, body, format="json")
            assert response.status_code == 201, response.content
            now.advance(DAY)


def _numbers(owner_api, **params) -> list[int]:
    response = owner_api.get(VERSIONS, params)
    assert response.status_code == 200, response.content
    return [version["number"] for version in response.json()["results"]]


@pytest.mark.parametrize(
    ("params", "numbers"),
    [
        ({}, [3, 2, 1]),
        ({"created_after": (T0 + DAY).isoformat()}, [3, 2]),
        ({"created_before": (T0 + DAY).isoformat()}, [1]),
        ({"created_after": "2026-03-03T09:00:00Z", "created_before": "2026-03-04T09:00Z"}, [2]),
        ({"created_after": "2026-03-03T10:00:00+01:00"}, [3, 2]),
        ({"created_after": "2026-03-03T09:00:00"}, [3, 2]),
        ({"created_before": "2026-03-03T09:00:00.0000019Z"}, [2, 1]),
        ({"pii_category": "email"}, [3, 1]),
        ({"pii_category": "postal_address"}, [1]),
        ({"pii_category": "health"}, []),
        ({"legal_basis": "consent"}, [3]),
        ({"owner": "crm-team"}, [3, 1]),
        ({"owner": "crm-team", "legal_basis": "contract"}, [1]),
        ({"search": "churn"}, [2]),
        ({"search": "2026-03-04"}, [3]),
        ({"search": "CRM"}, [3, 1]),
        ({"pii_category": "email", "ordering": "number"}, [1, 3]),
    ],
)
def test_dataset_versions_are_filtered_and_searched_when_asked(
    owner_api, versions, params, numbers
):
    assert _numbers(owner_api, **params) == numbers


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-03-03"]
)
def test_dataset_version_time_filters_take_any_rfc3339_moment_when_at_the_edges(
    owner_api, versions, moment
):
    assert owner_api.get(VERSIONS, {"created_after": moment}).status_code == 200
    assert owner_api.get(VERSIONS, {"created_before": moment}).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_after": ""}, "created_after"),
        ({"created_before": "2026-02-30T00:00:00Z"}, "created_before"),
        ({"ordering": "owner"}, "ordering"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_dataset_version_list_refuses_values_it_cannot_read_with_a_problem(
    owner_api, versions, params, field
):
    body = assert_problem(owner_api.get(VERSIONS, params), 400, "validation_error")
    assert [error["field"] for error in body["errors"]] == [field]


def test_dataset_version_list_of_an_unknown_dataset_is_a_404_when_filtered(owner_api):
    response = owner_api.get("/api/v1/datasets/nope/versions/", {"pii_category": "email"})
    assert response.status_code == 404
    assert response.json()["code"] == "dataset_not_found"
