"""Throttling over HTTP: per user once authenticated, per client address before that (bad
tokens included), counted in PostgreSQL where every worker process shares the count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core import clock
from tests.api.conftest import client_for
from tests.api.helpers import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    """Small rates for the test; counters from earlier tests are cleared first."""

    def set_rates(**rates: str) -> None:
        current = settings.REST_FRAMEWORK
        merged = {**current["DEFAULT_THROTTLE_RATES"], **rates}
        settings.REST_FRAMEWORK = {**current, "DEFAULT_THROTTLE_RATES": merged}

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_throttle")
    return set_rates


def user_hits(user) -> int | None:
    """The user's count in the current window, None when nothing was counted."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT hits FROM core_throttle WHERE key = %s", [f"throttle_user_{user.pk}"]
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def assert_throttled(response) -> None:
    body = assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    assert body["detail"]


def test_authenticated_client_gets_429_with_retry_after_when_over_its_rate(rates, owner, outsider):
    rates(user="3/minute")
    client = client_for(owner)
    for _ in range(3):
        assert client.get("/api/v1/models/").status_code == 200
    assert_throttled(client.get("/api/v1/models/"))
    assert_throttled(client.post("/api/v1/models/", {"name": "x", "team": "t"}, format="json"))
    # The limit is per user: another client is still served.
    assert client_for(outsider).get("/api/v1/models/").status_code == 200


def test_anonymous_client_gets_429_when_over_the_anonymous_rate(rates):
    rates(anon="3/minute")
    anonymous = APIClient()
    for _ in range(3):
        assert_problem(anonymous.get("/api/v1/models/"), 401, "not_authenticated")
    assert_throttled(anonymous.get("/api/v1/models/"))
    assert_throttled(anonymous.post("/api/v1/models/", {}, format="json"))


def test_bad_tokens_get_429_when_over_the_anonymous_rate(rates):
    rates(anon="3/minute")
    guesser = APIClient()
    for attempt in range(3):
        guesser.credentials(HTTP_AUTHORIZATION=f"Bearer wrong-{attempt}")
        assert_problem(guesser.get("/api/v1/models/"), 401, "authentication_failed")
    guesser.credentials(HTTP_AUTHORIZATION="Token wrong-again")
    assert_throttled(guesser.get("/api/v1/models/"))
    # A made-up forwarding header is not a new client.
    assert_throttled(guesser.get("/api/v1/models/", HTTP_X_FORWARDED_FOR="203.0.113.9"))


def test_anonymous_refusals_do_not_use_up_an_authenticated_clients_rate(rates, owner):
    rates(anon="2/minute", user="2/minute")
    for _ in range(3):
        APIClient().get("/api/v1/models/")
    client = client_for(owner)
    assert client.get("/api/v1/models/").status_code == 200
    assert client.get("/api/v1/models/").status_code == 200
    assert_throttled(client.get("/api/v1/models/"))


def test_throttle_counters_live_in_postgresql_where_every_worker_shares_them(rates, owner):
    rates(user="5/minute")
    client = client_for(owner)
    client.get("/api/v1/models/")
    client.get("/api/v1/models/")
    assert user_hits(owner) == 2


def test_counting_starts_again_when_the_next_window_begins(rates, owner):
    rates(user="2/minute")
    client = client_for(owner)
    start = datetime(2026, 6, 1, 12, 0, 10, tzinfo=UTC)
    with clock.frozen(start) as now:
        assert client.get("/api/v1/models/").status_code == 200
        assert client.get("/api/v1/models/").status_code == 200
        refused = client.get("/api/v1/models/")
        assert_throttled(refused)
        assert int(refused["Retry-After"]) == 50
        now.advance(timedelta(seconds=50))
        assert client.get("/api/v1/models/").status_code == 200


def test_a_token_request_is_counted_by_the_statement_that_looks_the_token_up(rates, owner):
    rates(user="5/minute")
    client = client_for(owner)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/models/").status_code == 200
    counting = [q["sql"] for q in queries.captured_queries if "core_throttle" in q["sql"]]
    assert len(counting) == 1
    assert "authtoken_token" in counting[0]
    assert user_hits(owner) == 1


def test_an_inactive_users_token_is_refused_and_not_counted_as_theirs(rates, owner):
    rates(user="5/minute")
    client = client_for(owner)
    owner.is_active = False
    owner.save()
    assert_problem(client.get("/api/v1/models/"), 401, "authentication_failed")
    assert user_hits(owner) is None
