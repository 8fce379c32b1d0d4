"""Model versions: list, create, read (also as of), change, and their history."""

from __future__ import annotations

import uuid

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import StrictFilterSet, StrictOrderingFilter
from api.history import EventHistoryApi, history_schema
from api.idempotency import IdempotentCommands, idempotency_key
from api.params import AS_OF, IDEMPOTENCY_KEY, IF_MATCH, MODEL_NAME, NUMBER, as_of, problems
from api.preconditions import expected_version
from api.registry import serializers as s
from api.registry.views.common import _actor, _with_etag
from approvals import queries as approval_queries
from registry import commands, queries
from registry.commands import VersionInput
from registry.models import ModelVersion


class VersionFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=[(x, x) for x in s.STATUSES])
    framework = django_filters.CharFilter()

    class Meta:
        model = ModelVersion
        fields = ["status", "framework"]


@extend_schema_view(
    get=extend_schema(
        responses={200: s.VersionOutput(many=True), **problems(400, 404)},
        parameters=[MODEL_NAME],
        summary="List a model's versions",
    )
)
class ModelVersionCollectionApi(IdempotentCommands, ListAPIView):
    """List and create versions of a model."""

    serializer_class = s.VersionOutput
    filterset_class = VersionFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, StrictOrderingFilter]
    ordering_fields = ["number", "created_at"]
    ordering = "-number"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ModelVersion.objects.none()
        model_id = queries.model_id_for(self.kwargs["name"])
        return ModelVersion.objects.filter(model_id=model_id)

    @extend_schema(
        request=s.VersionCreateInput,
        responses={201: s.VersionOutput, **problems(400, 404, 409, 413, 422)},
        parameters=[IDEMPOTENCY_KEY, MODEL_NAME],
        summary="Create a model version (numbered by the server, gapless)",
    )
    def post(self, request: Request, name: str) -> Response:
        body = s.VersionCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        for key in ("training_datasets", "evaluation_datasets"):
            data[key] = tuple(data.get(key, ()))
        version = commands.create_model_version(
            actor=_actor(request),
            model_name=name,
            data=VersionInput(**data),
            idempotency_key=idempotency_key(request),
        )
        response = Response(s.VersionOutput(version).data, status=status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/models/{name}/versions/{version.number}/"
        return _with_etag(response, version.stream_version)


class ModelVersionApi(IdempotentCommands, APIView):
    """One model version: read (also as of) and change description, tags or status."""

    @extend_schema(
        responses={200: s.VersionOutput, **problems(400, 404)},
        parameters=[AS_OF, MODEL_NAME, NUMBER],
        summary="Read a model version",
    )
    def get(self, request: Request, name: str, number: int) -> Response:
        version = queries.get_version(name, number, **as_of(request).query)
        body = s.VersionOutput(version, context={"request": request}).data
        return _with_etag(Response(body), version.stream_version)

    @extend_schema(
        request=s.VersionUpdateInput,
        responses={200: s.VersionOutput, **problems(400, 404, 409, 412, 413, 422)},
        parameters=[IF_MATCH, MODEL_NAME, NUMBER],
        summary="Change a model version or move its lifecycle status",
    )
    def patch(self, request: Request, name: str, number: int) -> Response:
        body = s.VersionUpdateInput(data=request.data)
        body.is_valid(raise_exception=True)
        current = queries.get_version(name, number)
        version = commands.update_model_version(
            actor=_actor(request),
            version_id=current.id,
            expected_version=expected_version(request, current.stream_version),
            changes=dict(body.validated_data),
        )
        return _with_etag(Response(s.VersionOutput(version).data), version.stream_version)


@history_schema("Model version history", MODEL_NAME, NUMBER)
class ModelVersionHistoryApi(EventHistoryApi):
    def stream_id(self, name: str, number: int) -> uuid.UUID:
        return uuid.UUID(queries.get_version(name, number).id)

    def reads_whole(self, name: str, number: int) -> bool:
        model_id = queries.get_version(name, number).model_id
        return approval_queries.party_to(self.request.user, model_id)
