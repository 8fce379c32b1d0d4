"""What runs before any view: refusals, and the time zone of the person reading the admin."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone

from api.errors import problem
from registry.queries import time_zone_of


class RejectNulCharacters:
    """PostgreSQL cannot store or compare text holding NUL, so a path or query string with one
    could only fail deeper down: it is a 400 here, for every URL, before anything is read."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return problem(
                400,
                "nul_character",
                "NUL characters are not accepted",
                "The path or the query string contains a NUL character (%00).",
            )
        return self.get_response(request)


class ViewerTimeZone:
    """The admin's pages and the evidence documents show times in the signed-in user's own time
    zone (registry.UserPreferences), else in the server's TIME_ZONE. Only for those pages:
    the API speaks UTC."""

    PATHS = ("/admin/", "/evidence/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = None
        if request.path.startswith(self.PATHS) and request.user.is_authenticated:
            chosen = time_zone_of(request.user)
        if chosen:
            try:
                timezone.activate(zoneinfo.ZoneInfo(chosen))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
