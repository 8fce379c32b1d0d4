"""Throttles: per user once authenticated, per client address before that.

DRF checks throttles only after authentication and permissions pass, so a request without
credentials or with a bad token would never be counted. `throttle_refusal` closes that gap: the
exception handler runs the view's throttles on every 401, so a client that keeps guessing
tokens gets 429 once over the anonymous rate. Rates are read from settings on each request."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class _SettingsRate:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


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
