"""Event history over the API: one object's events, oldest first, a cursor page at a time."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView

from api.pagination import EventCursorPagination
from api.params import problems
from api.serializers import EventOutput
from eventstore.models import Event


class EventHistoryApi(ListAPIView):
    """Base of every `.../history/` view: a subclass names the stream (and checks that the
    caller may see the object, which raises the object's 404 otherwise).

    History is one of the few reads that go to the log itself (README, Layers); the events
    are read as stored, never upcast, so their hashes can be checked against what is shown."""

    serializer_class = EventOutput
    pagination_class = EventCursorPagination
    filter_backends: list[Any] = []

    def stream_id(self, **kwargs: Any) -> uuid.UUID:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Event]:
        if getattr(self, "swagger_fake_view", False):
            return Event.objects.none()
        events = Event.objects.filter(stream_id=self.stream_id(**self.kwargs))
        after = self.request.query_params.get(AFTER_VERSION.name)
        if after is not None:
            if not re.fullmatch(f"[0-9]{{1,{MAX_DIGITS}}}", after):
                raise ValidationError({AFTER_VERSION.name: "a stream version (a whole number)"})
            events = events.filter(version__gt=int(after))
        return events


MAX_DIGITS = 18  # below 2^63: a bigint
# A client that has read up to a version (the last page's `next` is null) follows on with the
# events recorded since: `?after_version=<the version of the last event it holds>`.
AFTER_VERSION = OpenApiParameter(
    "after_version",
    {"type": "integer", "minimum": 0, "maximum": 10**MAX_DIGITS - 1},
    OpenApiParameter.QUERY,
    description="Only the events after this stream version: how a client follows new events.",
)


def history_schema(summary: str, *parameters: OpenApiParameter) -> Any:
    """The schema of a history view: a page of events (drf-spectacular wraps the list in the
    pagination envelope and adds `cursor` and `page_size`), or a 400 for a bad parameter, or
    the object's 404."""
    return extend_schema_view(
        get=extend_schema(
            responses={200: EventOutput(many=True), **problems(400, 404)},
            parameters=[*parameters, AFTER_VERSION],
            summary=summary,
        )
    )
