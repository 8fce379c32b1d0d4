"""What every registry view does alike: name the actor, and tag a response with its ETag."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from api.preconditions import etag
from core.actors import Actor


def _with_etag(response: Response, version: int) -> Response:
    response["ETag"] = etag(version)
    return response


def _actor(request: Request) -> Actor:
    return Actor.from_request(request)
