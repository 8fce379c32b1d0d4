"""Strict filters: an empty choice is a 400 whose field error has a code, as the schema says."""

import pytest

pytestmark = pytest.mark.django_db


def test_empty_choice_filter_is_a_problem_with_a_coded_field_error(owner_api, model):
    response = owner_api.get(f"/api/v1/models/{model['name']}/versions/", {"status": ""})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error == {
        "field": "status",
        "message": "an empty value is not one of the choices",
        "code": "invalid_choice",
    }
