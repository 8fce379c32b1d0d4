"""API tokens over HTTP: both schemes, unknown and deleted tokens, inactive users, and the
authentication method recorded on events."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from eventstore.models import Event
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


def _problem_code(response) -> str:
    return response.json()["code"]


def test_both_schemes_authenticate_and_are_recorded_when_a_version_is_created(owner, model):
    for scheme, method in (("Bearer", "bearertoken"), ("Token", "token")):
        response = client_for(owner, scheme=scheme).post(
            "/api/v1/models/fraud-detector/versions/", {}, format="json"
        )
        assert response.status_code == 201, response.content
        event = Event.objects.filter(type="registry.ModelVersionCreated").latest("position")
        assert event.metadata["auth_method"] == method
        assert event.metadata["actor"] == f"user:{owner.pk}"


def test_request_is_refused_when_the_token_is_unknown_or_deleted(owner, model):
    api = client_for(owner)
    assert api.get("/api/v1/models/").status_code == 200
    Token.objects.filter(user=owner).delete()
    response = api.get("/api/v1/models/")
    assert response.status_code == 401
    assert _problem_code(response) == "authentication_failed"
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Bearer " + "0" * 40)
    assert stranger.get("/api/v1/models/").status_code == 401


def test_request_is_refused_when_the_user_is_inactive(owner, model):
    api = client_for(owner, scheme="Token")
    owner.is_active = False
    owner.save()
    response = api.get("/api/v1/models/")
    assert response.status_code == 401
    assert _problem_code(response) == "authentication_failed"
    assert "inactive" in response.json()["detail"]
