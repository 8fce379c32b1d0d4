"""What the governance views share: a response that carries its stream's version as ETag."""

from __future__ import annotations

from rest_framework.response import Response

from api.preconditions import etag


def with_etag(response: Response, version: int) -> Response:
    response["ETag"] = etag(version)
    return response
