"""Refusals made before any view runs."""

from __future__ import annotations

from api.errors import problem


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
