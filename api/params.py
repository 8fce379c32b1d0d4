"""Query parameters shared by the API: `as_of` (time travel) and history paging."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from dateutil.parser import isoparse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from api.errors import PROBLEM_CONTENT_TYPE as PROBLEM
from api.serializers import Problem
from registry import rules as registry_rules

# Whole numbers in a query are ASCII digits only: str.isdigit() also takes "²" or "①", which
# int() refuses, and int() takes "٣", " 1" or "1_0", which the schema's pattern does not.
POSITION = re.compile("[0-9]{1,18}")


@dataclass(frozen=True)
class AsOf:
    position: int | None = None
    moment: datetime | None = None

    @property
    def query(self) -> dict[str, object]:
        """Keyword arguments for the registry's *_as_of queries."""
        return {"up_to_position": self.position, "as_of": self.moment}


def parse_timestamp(raw: str) -> datetime | None:
    """An ISO 8601 / RFC 3339 timestamp, UTC when it names no offset; None if it is not one."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        try:
            moment = isoparse(raw)  # RFC 3339 forms fromisoformat refuses (long fractions)
        except (ValueError, OverflowError):
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def as_of(request: Request) -> AsOf:
    raw = request.query_params.get("as_of")
    if raw is None:
        return AsOf()
    if POSITION.fullmatch(raw):
        return AsOf(position=int(raw))
    moment = parse_timestamp(raw)
    if moment is None:
        raise ValidationError(
            {"as_of": "an ISO 8601 timestamp or a global position (a whole number)"}
        )
    return AsOf(moment=moment)


AS_OF = OpenApiParameter(
    "as_of",
    {
        "oneOf": [
            {"type": "string", "format": "date-time"},
            {"type": "string", "pattern": "^[0-9]{1,18}$"},
        ]
    },
    description="Read the object as it was at an RFC 3339 timestamp or a global log position.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": '^(\\*|(W/)?"[0-9]{1,18}")$', "examples": ['"1"', "*"]},
    location=OpenApiParameter.HEADER,
    description='The ETag (stream version, e.g. "3") the change expects; 412 if stale.',
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": "^[!-~]([ -~]{0,198}[!-~])?$"},
    location=OpenApiParameter.HEADER,
    description=(
        "Repeat a request safely: the same key from the same caller returns the first result."
    ),
)


def problems(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error responses for the schema: every listed status answers problem+json."""
    described = {
        400: "Invalid input",
        401: "Not authenticated",
        403: "Not allowed",
        404: "Not found",
        405: "Method not allowed",
        406: "Not acceptable",
        409: "Conflict with the current state",
        411: "Content-Length is required",
        412: "If-Match does not match the current version",
        413: "Request body too large",
        415: "Unsupported media type",
        422: "Idempotency key reused for a different request",
        429: "Throttled",
    }
    return {
        (status, PROBLEM): OpenApiResponse(Problem, description=described.get(status, "Error"))
        for status in sorted({400, 401, 403, 405, 406, 415, 429, *statuses})
    }


MODEL_NAME = OpenApiParameter(
    "name",
    {"type": "string", "pattern": registry_rules.NAME_PATTERN.pattern},
    location=OpenApiParameter.PATH,
    description="The model's name.",
)
ALIAS = OpenApiParameter(
    "alias",
    {"type": "string", "pattern": registry_rules.ALIAS_PATTERN.pattern},
    location=OpenApiParameter.PATH,
)
NUMBER = OpenApiParameter(
    "number",
    {"type": "integer", "minimum": 1, "maximum": 2147483647},
    location=OpenApiParameter.PATH,
)
