"""API tokens over HTTP: both schemes, unknown and deleted tokens, inactive users, and the
authentication method recorded on events; the one-statement token lookup and rate count held
to DRF's ORM query and the throttle's own upsert."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api import throttling
from api.authentication import token_and_user
from core import clock
from eventstore.models import Event
from tests.api.conftest import client_for
from tests.conftest import make_user

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


# -- the one-statement lookup against DRF's ORM query --------------------------------------


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_one_statement_lookup_returns_what_drfs_orm_query_returns(owner, outsider, settings):
    inactive = make_user("ivan-inactive")
    inactive.is_active = False
    inactive.save()
    boss = make_user("sara-super", superuser=True)
    keys = [Token.objects.create(user=user).key for user in (owner, outsider, inactive, boss)]
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "1000/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    for key in [*keys, "0" * 40, keys[0].upper(), ""]:
        plain = Token.objects.select_related("user").filter(key=key).first()
        for count_request in (False, True):
            found = token_and_user(key, count_request=count_request)
            if plain is None:
                assert found is None, key
                continue
            token, user = found
            assert token.user is user
            assert _fields(token) == _fields(plain), key
            assert _fields(user) == _fields(plain.user), key
            assert type(user) is type(plain.user)
            assert not token._state.adding and token._state.db == plain._state.db


def test_fused_count_and_the_plain_upsert_keep_one_count(owner, settings):
    """The count taken by the lookup statement and the throttle's own upsert (what a request
    without a token pays) advance the same row the same way, interleaved."""
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "1000/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    key = Token.objects.create(user=owner).key
    throttle_key = throttling.user_key(owner.pk)
    with clock.frozen(datetime(2026, 6, 1, 12, 0, 10, tzinfo=UTC)):
        start, expires = throttling.user_rate_window(clock.now())
        hits = []
        for fused in (True, False, True, True, False):
            if fused:
                token, _ = token_and_user(key, count_request=True)
                assert token.counted_request[:2] == (throttle_key, start)
                hits.append(token.counted_request[2])
            else:
                with connection.cursor() as cursor:
                    cursor.execute(throttling.COUNT, [throttle_key, start, expires])
                    hits.append(cursor.fetchone()[0])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT window_start, hits, expires_at FROM core_throttle WHERE key = %s",
                [throttle_key],
            )
            assert cursor.fetchall() == [(start, 5, expires)]
    assert hits == [1, 2, 3, 4, 5]
