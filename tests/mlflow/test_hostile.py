"""Hostile input on the MLflow paths: every refusal is MLflow's INVALID_PARAMETER_VALUE (or
MALFORMED_REQUEST) with a 400, never a 5xx, and changes nothing."""

from __future__ import annotations

import json

import pytest

from tests.mlflow.conftest import refused, unique

pytestmark = pytest.mark.django_db

MODELS = "/api/2.0/mlflow/registered-models"
VERSIONS = "/api/2.0/mlflow/model-versions"


def _refusal(response, code: str = "INVALID_PARAMETER_VALUE", status: int = 400) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    return body["message"]


@pytest.fixture(scope="module")
def named(ledger):
    """Models whose names hold LIKE's wildcards and their look-alikes."""
    stem = unique("wild")
    names = [f"{stem}-a_b", f"{stem}-axb", f"{stem}-100pct", f"{stem}-100"]
    with ledger.client() as client:
        for name in names:
            client.create_registered_model(name, tags={"x__isnull": "1"})
    return stem, names


def test_a_deep_json_body_is_refused(ledger):
    deep = "[" * 5000 + "]" * 5000
    response = ledger.api(
        "POST",
        f"{MODELS}/create",
        data=json.dumps({"name": unique("deep")})[:-1] + f', "tags": {deep}}}',
        headers={"Content-Type": "application/json"},
    )
    _refusal(response, "MALFORMED_REQUEST")


@pytest.mark.parametrize("value", ["²", "٣", " 5", "1_0", "-1", "0", "1001", "1e3", "99999999999"])
def test_max_results_is_ascii_digits_within_bounds(ledger, value):
    response = ledger.api("GET", f"{MODELS}/search", params={"max_results": value})
    assert "max_results" in _refusal(response)


def test_search_model_versions_bounds_max_results(ledger):
    response = ledger.api("GET", f"{VERSIONS}/search", params={"max_results": "10001"})
    assert "10000" in _refusal(response)


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "eyJvIjowLCJzIjoieCJ9:forged:signature",
        "A" * 600,
    ],
)
def test_forged_page_tokens_are_refused(ledger, token):
    response = ledger.api("GET", f"{MODELS}/search", params={"page_token": token})
    assert "page token" in _refusal(response)


def test_a_page_token_continues_only_its_own_search(ledger, named):
    stem, _ = named
    first = ledger.api(
        "GET", f"{MODELS}/search", params={"filter": f"name LIKE '{stem}%'", "max_results": "1"}
    ).json()
    token = first["next_page_token"]
    response = ledger.api(
        "GET",
        f"{MODELS}/search",
        params={"filter": "name LIKE '%'", "max_results": "1", "page_token": token},
    )
    assert "another search" in _refusal(response)


def test_like_wildcards_escaped_with_a_backslash_match_themselves(ledger, named):
    stem, _ = named
    with ledger.client() as client:
        found = client.search_registered_models(f"name LIKE '{stem}-a\\_b'")
        assert [m.name for m in found] == [f"{stem}-a_b"]
        found = client.search_registered_models(f"name LIKE '{stem}-a_b'")
        assert sorted(m.name for m in found) == [f"{stem}-a_b", f"{stem}-axb"]
        found = client.search_registered_models(f"name LIKE '{stem}-100%'")
        assert sorted(m.name for m in found) == [f"{stem}-100", f"{stem}-100pct"]
        found = client.search_registered_models(f"name LIKE '{stem}-100\\%'")
        assert list(found) == []
        # A tag key is data, never a lookup.
        found = client.search_registered_models(f"name LIKE '{stem}%' AND tags.`x__isnull` = '1'")
        assert len(found) == 4


@pytest.mark.parametrize(
    "text",
    [
        "name = 'x' OR 1 = 1",
        "name = 'x'; DROP TABLE registry_registeredmodel",
        "name = x",
        "id = '1'",
        "name ~ 'x'",
        "name = 'x' AND",
        "name IN 'x'",
        "name LIKE 'x" + "a" * 600 + "'",
        "tags.x = 'unterminated",
        "name = 'x' " + "AND name = 'x' " * 140,
    ],
)
def test_filters_outside_the_grammar_are_refused(ledger, text):
    response = ledger.api("GET", f"{MODELS}/search", params={"filter": text})
    _refusal(response)


def test_version_search_refuses_a_version_number_that_is_not_one(ledger):
    response = ledger.api("GET", f"{VERSIONS}/search", params={"filter": "version_number = '²'"})
    _refusal(response)


@pytest.mark.parametrize("version", ["²", "1e3", "-1", "", "1.0", "9999999999"])
def test_a_version_that_is_not_a_number_is_refused(ledger, version):
    response = ledger.api("GET", f"{VERSIONS}/get", params={"name": "x", "version": version})
    _refusal(response)


def test_a_body_that_is_not_an_object_is_refused(ledger):
    response = ledger.api("POST", f"{MODELS}/create", json=["name", "x"])
    _refusal(response)


def test_a_nul_character_is_refused_before_any_view(ledger):
    response = ledger.api("GET", f"{MODELS}/get?name=a%00b")
    assert response.status_code == 400


def test_tag_lists_of_the_wrong_shape_are_refused(ledger):
    for tags in ("x", [1], [{"key": 1}], [{"key": "k", "value": 2}]):
        response = ledger.api("POST", f"{MODELS}/create", json={"name": unique("t"), "tags": tags})
        _refusal(response)


def test_an_unknown_order_is_refused(ledger):
    with ledger.client() as client:
        refused(
            lambda: client.search_registered_models(order_by=["name; DROP TABLE x"]),
            "INVALID_PARAMETER_VALUE",
        )


def test_a_retried_create_with_an_idempotency_key_registers_once(ledger):
    name = unique("retry")
    sent = {"json": {"name": name}, "headers": {"Idempotency-Key": f"create-{name}"}}
    first = ledger.api("POST", f"{MODELS}/create", **sent)
    again = ledger.api("POST", f"{MODELS}/create", **sent)
    assert first.status_code == again.status_code == 200, again.text
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [e["type"] for e in ledger.history(name)] == ["registry.ModelRegistered"]
