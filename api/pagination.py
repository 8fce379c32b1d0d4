"""Cursor pagination: stable under concurrent inserts, with a page size from 1 to 200."""

import re
from typing import Any

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class LedgerCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-created_at"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # ASCII digits only: str.isdigit() takes "²", which int() refuses.
        if not re.fullmatch("[0-9]{1,3}", raw) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: f"a whole number from 1 to {self.max_page_size}"}
            )
        return int(raw)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {self.cursor_query_param: "not a cursor this API issued"}
            ) from None

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The page as it is sent: `next` and `previous` are always present and null at either
        end. DRF's own description marks them optional and uses OpenAPI 3.0's `nullable`, which
        OpenAPI 3.1 (this schema's version) no longer has: a strict 3.1 validator refuses a null
        link that the old description claimed to allow."""

        def link(direction: str) -> dict[str, Any]:
            return {
                "type": ["string", "null"],
                "format": "uri",
                "description": f"The {direction} page (the same query with a `cursor`); null "
                "when there is none.",
            }

        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": link("next"),
                "previous": link("previous"),
                "results": schema,
            },
        }


class EventCursorPagination(LedgerCursorPagination):
    """An object's events, oldest first, keyed on the event's version in its stream: versions
    are unique and gapless per stream, so a cursor never skips or repeats an event, and events
    appended while a client pages through arrive on the pages still to come."""

    ordering = "version"


class CheckpointCursorPagination(LedgerCursorPagination):
    """Signed checkpoints, newest first: tree sizes are unique and grow with every checkpoint."""

    ordering = "-tree_size"
