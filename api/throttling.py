"""Throttles: per user once authenticated, per client address before that.

Requests are counted in fixed windows of the rate's period in PostgreSQL (`core_throttle`),
one upsert per request, so every web worker shares the count with no extra service and
nothing grows with the rate: a client may send up to its rate in each window (at most twice
the rate across a window boundary).

DRF checks throttles only after authentication and permissions pass, so a request without
credentials or with a bad token would never be counted. `throttle_refusal` closes that gap: the
exception handler runs the view's throttles on every 401, so a client that keeps guessing
tokens gets 429 once over the anonymous rate. Rates are read from settings on each request."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import connection
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from core import clock

# One request in this many also deletes the rows of windows that have ended.
_SWEEP_ONE_IN = 1000

_COUNT = """
INSERT INTO core_throttle AS t (key, window_start, hits, expires_at) VALUES (%s, %s, 1, %s)
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN t.window_start = EXCLUDED.window_start THEN t.hits + 1 ELSE 1 END,
    window_start = EXCLUDED.window_start,
    expires_at = EXCLUDED.expires_at
RETURNING hits
"""


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
        start = int(now.timestamp()) // self.duration * self.duration
        ends = start + self.duration
        self._wait = max(ends - now.timestamp(), 1.0)
        expires = now + timedelta(seconds=ends - now.timestamp())
        with connection.cursor() as cursor:
            cursor.execute(_COUNT, [key, start, expires])
            (hits,) = cursor.fetchone()
            if random.randrange(_SWEEP_ONE_IN) == 0:  # noqa: S311 (not security relevant)
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
