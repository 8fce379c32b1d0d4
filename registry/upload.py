"""The local artifact store's upload endpoint: a PUT of the raw body to a signed upload URL."""

from __future__ import annotations

import re
from typing import BinaryIO, cast

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from core.errors import DomainError, InvalidInput, NotFound
from registry.artifacts import LocalArtifactStore, get_store


class _MethodNotAllowed(DomainError):
    code = "method_not_allowed"
    status = 405
    title = "Method not allowed"


def problem(error: DomainError) -> JsonResponse:
    """An RFC 9457 body for a refused upload."""
    body = {"type": f"/problems/{error.code}", "status": error.status, **error.as_problem()}
    return JsonResponse(body, status=error.status, content_type="application/problem+json")


# The signed token is the credential: there is no session whose CSRF token could protect it.
@csrf_exempt
def artifact_upload(request: HttpRequest, token: str) -> JsonResponse:
    try:
        if request.method != "PUT":
            raise _MethodNotAllowed("send the artifact with PUT")
        store = get_store()
        if not isinstance(store, LocalArtifactStore):
            raise NotFound("this service stores artifacts in S3; use the URL it handed out")
        key, size = store.accept_upload(
            token, cast(BinaryIO, request), content_length=_content_length(request)
        )
    except DomainError as error:
        response = problem(error)
        if isinstance(error, _MethodNotAllowed):
            response["Allow"] = "PUT"
        return response
    return JsonResponse({"key": key, "size": size}, status=201)


def _content_length(request: HttpRequest) -> int | None:
    raw = request.META.get("CONTENT_LENGTH")
    if raw in (None, ""):
        return None
    # ASCII digits only: int() also takes "٣", " 1" or "1_0".
    if not re.fullmatch("[0-9]{1,18}", raw):
        raise InvalidInput("Content-Length must be a number of bytes")
    return int(raw)


urlpatterns = [
    path("api/v1/artifact-uploads/<str:token>", artifact_upload, name="artifact-upload"),
]
