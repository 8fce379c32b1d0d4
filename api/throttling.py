"""Throttles: per user once authenticated, per client address before that.

Requests are counted in fixed windows of the rate's period in PostgreSQL (`core_throttle`),
one upsert per request, so every web worker shares the count with no extra service and
nothing grows with the rate: a client may send up to its rate in each window (at most twice
the rate across a window boundary). A request with an API token is counted by the statement
that looks the token up (api.authentication), so the user rate costs no query of its own.

DRF checks throttles only after authentication and permissions pass, so a request without
credentials or with a bad token would never be counted. `throttle_refusal` closes that gap: the
exception handler runs the view's throttles on every 401, so a client that keeps guessing
tokens gets 429 once over the anonymous rate. Rates are read from settings on each request."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from core import clock

# One request in this many also deletes the rows of windows that have ended.
_SWEEP_ONE_IN = 1000

_UPSERT = """
INSERT INTO core_throttle AS t (key, window_start, hits, expires_at) {rows}
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN t.window_start = EXCLUDED.window_start THEN t.hits + 1 ELSE 1 END,
    window_start = EXCLUDED.window_start,
    expires_at = EXCLUDED.expires_at
RETURNING hits
"""
COUNT = _UPSERT.format(rows="VALUES (%s, %s, 1, %s)")


def count_rows(rows: str) -> str:
    """The counting upsert for rows (key, window_start, 1, expires_at) from a query."""
    return _UPSERT.format(rows=rows)


def window(duration: int, now: datetime) -> tuple[int, datetime]:
    """The fixed window `now` falls in: its start (epoch seconds) and when its count expires."""
    start = int(now.timestamp()) // duration * duration
    return start, now + timedelta(seconds=start + duration - now.timestamp())


def user_rate_window(now: datetime) -> tuple[int, datetime] | None:
    """The window of the `user` rate now, or None where that rate is off."""
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(UserThrottle.scope)
    if rate is None:
        return None
    return window(UserThrottle().parse_rate(rate)[1], now)


def user_key(user_pk: object) -> str:
    return UserThrottle.cache_format % {"scope": UserThrottle.scope, "ident": user_pk}


class _SettingsRate:
    """Rates read from settings on each request; counts kept in core_throttle."""

    scope: str
    num_requests: int
    duration: int

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = clock.now()
        start, expires = window(self.duration, now)
        self._wait = max(start + self.duration - now.timestamp(), 1.0)
        # (key, window start, hits) when authentication already counted this request.
        counted = getattr(request.auth, "counted_request", None)
        if counted is not None and counted[:2] == (key, start):
            hits = counted[2]
        else:
            with connection.cursor() as cursor:
                cursor.execute(COUNT, [key, start, expires])
                (hits,) = cursor.fetchone()
        if random.randrange(_SWEEP_ONE_IN) == 0:  # noqa: S311 (not security relevant)
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM core_throttle WHERE expires_at < %s", [now])
        return hits <= self.num_requests

    def wait(self) -> float:
        return self._wait


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    """Requests without valid credentials, per client address (the `anon` rate)."""


class UserThrottle(_SettingsRate, UserRateThrottle):
    """Authenticated requests, per user (the `user` rate)."""


def throttle_refusal(exc: Exception, context: dict[str, Any]) -> Exception:
    """A 401 becomes a 429 when the unauthenticated client is over its rate."""
    if not isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return exc
    view, request = context.get("view"), context.get("request")
    if view is None or request is None:
        return exc
    try:
        view.check_throttles(request)
    except exceptions.Throttled as throttled:
        return throttled
    return exc
