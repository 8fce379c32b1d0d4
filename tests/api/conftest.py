"""API clients for the personas, authenticated the way machines do (API tokens)."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def client_for(user, scheme: str = "Bearer") -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token.key}")
    return client


@pytest.fixture
def owner_api(owner):
    return client_for(owner)


@pytest.fixture
def outsider_api(outsider):
    return client_for(outsider, scheme="Token")


@pytest.fixture
def model(owner_api):
    response = owner_api.post(
        "/api/v1/models/",
        {"name": "fraud-detector", "team": "fraud-ml", "description": "Scores transactions"},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()
