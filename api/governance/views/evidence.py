"""Governance API views of a version's evidence: the list and attaching a document, where to
upload one, and waivers."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import StrictOrderingFilter
from api.governance import serializers as s
from api.governance.views.common import with_etag
from api.idempotency import IdempotentCommands, idempotency_key
from api.params import IDEMPOTENCY_KEY, MODEL_NAME, NUMBER, problems
from approvals import queries as approval_queries
from core.actors import Actor
from governance import commands
from governance.models import Evidence
from registry import queries as registry_queries


@extend_schema_view(
    get=extend_schema(
        responses={200: s.EvidenceOutput(many=True), **problems(400, 404)},
        parameters=[MODEL_NAME, NUMBER],
        summary="List a version's evidence and waivers",
    )
)
class EvidenceCollectionApi(IdempotentCommands, ListAPIView):
    serializer_class = s.EvidenceOutput
    filter_backends = [StrictOrderingFilter]
    ordering_fields = ["kind", "recorded_at"]
    ordering = "kind"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Evidence.objects.none()
        version = registry_queries.get_version(self.kwargs["name"], self.kwargs["number"])
        if not approval_queries.party_to(self.request.user, version.model_id):
            raise NotFound("no evidence for this version")
        return Evidence.objects.filter(version_id=version.id)

    @extend_schema(
        request=s.EvidenceCreateInput,
        responses={201: s.EvidenceOutput, **problems(400, 404, 409, 413, 422)},
        parameters=[MODEL_NAME, NUMBER, IDEMPOTENCY_KEY],
        summary="Attach an uploaded evidence document (its size and sha256 are checked)",
    )
    def post(self, request: Request, name: str, number: int) -> Response:
        body = s.EvidenceCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        model_id = str(registry_queries.model_id_for(name))
        data = body.validated_data
        state = commands.attach_evidence(
            actor=Actor.from_request(request),
            model_id=model_id,
            number=number,
            kind=data["kind"],
            filename=data["filename"],
            size=data["size"],
            sha256=data["sha256"],
            summary=data.get("summary"),
            idempotency_key=idempotency_key(request),
        )
        row = Evidence.objects.get(version_id=state.version_id, kind=data["kind"])
        return with_etag(
            Response(s.EvidenceOutput(row).data, status=status.HTTP_201_CREATED),
            state.stream_version,
        )


class EvidenceUploadApi(IdempotentCommands, APIView):
    @extend_schema(
        request=s.EvidenceUploadInput,
        responses={201: s.EvidenceUploadOutput, **problems(400, 404, 413, 422)},
        parameters=[MODEL_NAME, NUMBER, IDEMPOTENCY_KEY],
        summary="Get a presigned URL to upload an evidence document",
    )
    def post(self, request: Request, name: str, number: int) -> Response:
        body = s.EvidenceUploadInput(data=request.data)
        body.is_valid(raise_exception=True)
        idempotency_key(request)
        key, upload = commands.evidence_upload(
            actor=Actor.from_request(request),
            model_id=str(registry_queries.model_id_for(name)),
            number=number,
            **body.validated_data,
        )
        payload = {
            "key": key,
            "url": request.build_absolute_uri(upload.url),
            "method": upload.method,
            "headers": upload.headers,
            "expires_at": upload.expires_at,
        }
        return Response(s.EvidenceUploadOutput(payload).data, status=status.HTTP_201_CREATED)


class WaiverApi(IdempotentCommands, APIView):
    @extend_schema(
        request=s.WaiverInput,
        responses={201: s.EvidenceOutput, **problems(400, 404, 409, 413, 422)},
        parameters=[MODEL_NAME, NUMBER, IDEMPOTENCY_KEY],
        summary="Waive missing evidence until a date (chair of the model-risk board)",
    )
    def post(self, request: Request, name: str, number: int) -> Response:
        body = s.WaiverInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        state = commands.grant_waiver(
            actor=Actor.from_request(request),
            model_id=str(registry_queries.model_id_for(name)),
            number=number,
            kind=data["kind"],
            reason=data["reason"],
            expires_at=data["expires_at"],
            idempotency_key=idempotency_key(request),
        )
        row = Evidence.objects.get(version_id=state.version_id, kind=data["kind"])
        return with_etag(
            Response(s.EvidenceOutput(row).data, status=status.HTTP_201_CREATED),
            state.stream_version,
        )
