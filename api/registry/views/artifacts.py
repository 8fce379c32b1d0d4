"""A model version's artifact: its record, a presigned upload URL, verification, and a small
artifact sent in the request body."""

from __future__ import annotations

import io
import re
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import LengthRequired
from api.idempotency import IdempotentCommands, idempotency_key
from api.params import AS_OF, IDEMPOTENCY_KEY, MODEL_NAME, NUMBER, as_of, problems
from api.registry import serializers as s
from api.registry.views.common import _actor, _with_etag
from approvals import queries as approval_queries
from registry import commands, queries


class OctetStreamParser(BaseParser):
    """The raw body as a stream: an artifact is never read whole into memory by the parser."""

    media_type = "application/octet-stream"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return stream if stream is not None else io.BytesIO(b"")


FILENAME = OpenApiParameter(
    "filename",
    {"type": "string", "pattern": s.ARTIFACT_FILENAME, "maxLength": 200},
    location=OpenApiParameter.PATH,
    description="The artifact's file name.",
)
SHA256 = OpenApiParameter(
    "sha256",
    {"type": "string", "pattern": s.SHA256_HEX},
    location=OpenApiParameter.QUERY,
    required=True,
    description="SHA-256 of the body, hexadecimal; the server checks it before recording.",
)


class ArtifactApi(APIView):
    """A version's artifact: where it is, whether the server has checked it, what is pending."""

    @extend_schema(
        responses={200: s.ArtifactOutput, **problems(404)},
        parameters=[AS_OF, MODEL_NAME, NUMBER],
        summary="Read a version's artifact record",
    )
    def get(self, request: Request, name: str, number: int) -> Response:
        version = queries.get_version(name, number, **as_of(request).query)
        if not approval_queries.party_to(request.user, version.model_id):
            raise NotFound("no artifact record for this version")
        return _with_etag(Response(s.ArtifactOutput(version).data), version.stream_version)


class ArtifactUploadUrlApi(IdempotentCommands, APIView):
    """A presigned URL to PUT the artifact to (S3, or this service for the local store)."""

    @extend_schema(
        request=s.ArtifactUploadInput,
        responses={201: s.ArtifactUploadOutput, **problems(404, 409, 413, 422)},
        parameters=[IDEMPOTENCY_KEY, MODEL_NAME, NUMBER],
        summary="Get a presigned upload URL for the version's artifact",
    )
    def post(self, request: Request, name: str, number: int) -> Response:
        body = s.ArtifactUploadInput(data=request.data)
        body.is_valid(raise_exception=True)
        fields = body.validated_data
        current = queries.get_version(name, number)
        version, upload = commands.authorize_artifact_upload(
            actor=_actor(request),
            version_id=current.id,
            filename=fields["filename"],
            size=fields["size"],
            sha256=fields["sha256"],
            expires_seconds=fields.get("expires_in"),
            idempotency_key=idempotency_key(request),
        )
        payload = {
            "url": request.build_absolute_uri(upload.url),
            "method": upload.method,
            "headers": upload.headers,
            "expires_at": upload.expires_at,
            "artifact": version,
        }
        response = Response(s.ArtifactUploadOutput(payload).data, status=status.HTTP_201_CREATED)
        return _with_etag(response, version.stream_version)


class ArtifactVerifyApi(IdempotentCommands, APIView):
    """Check the uploaded bytes against the declared size and sha256, and record the result."""

    @extend_schema(
        request=None,
        responses={200: s.ArtifactOutput, **problems(404, 409, 422)},
        parameters=[IDEMPOTENCY_KEY, MODEL_NAME, NUMBER],
        summary="Verify an uploaded artifact",
    )
    def post(self, request: Request, name: str, number: int) -> Response:
        current = queries.get_version(name, number)
        version = commands.verify_artifact(
            actor=_actor(request),
            version_id=current.id,
            idempotency_key=idempotency_key(request),
        )
        return _with_etag(Response(s.ArtifactOutput(version).data), version.stream_version)


class ArtifactContentApi(IdempotentCommands, APIView):
    """A small artifact sent in the request body, stored and verified in one step."""

    parser_classes = [OctetStreamParser]

    @extend_schema(
        request={"application/octet-stream": {"type": "string", "format": "binary"}},
        responses={201: s.ArtifactOutput, **problems(404, 409, 411, 413, 422)},
        parameters=[MODEL_NAME, NUMBER, FILENAME, SHA256],
        summary="Upload a small artifact directly (up to ARTIFACT_MAX_DIRECT_UPLOAD bytes)",
    )
    def put(self, request: Request, name: str, number: int, filename: str) -> Response:
        if not re.fullmatch(s.ARTIFACT_FILENAME, filename):
            raise ValidationError({"filename": "letters, digits and ._+=@,- only; no path"})
        sha256 = request.query_params.get("sha256", "")
        if not re.fullmatch(s.SHA256_HEX, sha256):
            raise ValidationError({"sha256": "the body's SHA-256, 64 hexadecimal characters"})
        size = _content_length(request)
        current = queries.get_version(name, number)
        version = commands.upload_artifact(
            actor=_actor(request),
            version_id=current.id,
            filename=filename,
            size=size,
            sha256=sha256,
            data=_body_stream(request, size),
        )
        response = Response(s.ArtifactOutput(version).data, status=status.HTTP_201_CREATED)
        return _with_etag(response, version.stream_version)


def _content_length(request: Request) -> int:
    """The body's declared length. No header and no chunked body means an empty body."""
    raw = request.META.get("CONTENT_LENGTH") or ""
    if raw == "" and "HTTP_TRANSFER_ENCODING" not in request.META:
        return 0
    if not re.fullmatch("[0-9]{1,18}", raw):
        raise LengthRequired("send the artifact with a Content-Length header")
    return int(raw)


def _body_stream(request: Request, size: int) -> Any:
    # DRF hands over no parsed stream at all for an empty body.
    data = request.data if size else None
    return data if hasattr(data, "read") else io.BytesIO(b"")
