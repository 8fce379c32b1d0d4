"""Registry API views: thin adapters. Each method parses input, calls one command or query,
and renders; rules and permissions live in registry.commands."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import django_filters
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import filters, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import LengthRequired
from api.filters import StrictFilterSet, StrictOrderingFilter, TimestampFilter
from api.history import EventHistoryApi, history_schema
from api.idempotency import idempotency_key
from api.params import (
    ALIAS,
    AS_OF,
    IDEMPOTENCY_KEY,
    IF_MATCH,
    MODEL_NAME,
    NUMBER,
    as_of,
    problems,
)
from api.preconditions import etag, expected_version
from api.registry import serializers as s
from core.actors import Actor
from governance.queries import get_risk
from registry import commands, queries
from registry.commands import DatasetVersionInput, VersionInput
from registry.errors import AliasNotFound
from registry.models import Dataset, DatasetVersion, ModelVersion, RegisteredModel


def _with_etag(response: Response, version: int) -> Response:
    response["ETag"] = etag(version)
    return response


def _actor(request: Request) -> Actor:
    return Actor.from_request(request)


@extend_schema_field({"type": "string", "enum": ["true", "false"]})
class _BooleanChoiceFilter(django_filters.TypedChoiceFilter):
    """`true` or `false` exactly; anything else is a 400, not a silently ignored filter."""


class ModelFilter(StrictFilterSet):
    team = django_filters.CharFilter()
    archived = _BooleanChoiceFilter(
        choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true"
    )
    tag = django_filters.CharFilter(method="filter_tag", help_text="key or key=value")

    class Meta:
        model = RegisteredModel
        fields = ["team", "archived"]

    def filter_tag(self, queryset, name, value):
        key, _, wanted = value.partition("=")
        if not wanted:
            return queryset.filter(tags__has_key=key)
        return (
            queryset.filter(**{f"tags__{key}": wanted}) if key.isidentifier() else queryset.none()
        )


@extend_schema_view(
    get=extend_schema(
        responses={200: s.ModelOutput(many=True), **problems(400)}, summary="List models"
    )
)
class ModelCollectionApi(ListAPIView):
    """List and register models."""

    serializer_class = s.ModelOutput
    filterset_class = ModelFilter
    filter_backends = [
        django_filters.rest_framework.DjangoFilterBackend,
        filters.SearchFilter,
        StrictOrderingFilter,
    ]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = "-created_at"

    def get_queryset(self):
        return RegisteredModel.objects.all()

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "aliases": {}}

    @extend_schema(
        request=s.ModelCreateInput,
        responses={201: s.ModelOutput, **problems(400, 409, 413, 422)},
        parameters=[IDEMPOTENCY_KEY],
        summary="Register a model",
    )
    def post(self, request: Request) -> Response:
        body = s.ModelCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        state = commands.register_model(
            actor=_actor(request), idempotency_key=idempotency_key(request), **body.validated_data
        )
        return _with_etag(
            Response(s.ModelOutput(state).data, status=status.HTTP_201_CREATED),
            state.stream_version,
        )


class ModelApi(APIView):
    """One model: read (also as of a time or position) and change."""

    @extend_schema(
        responses={200: s.ModelOutput, **problems(400, 404)},
        parameters=[AS_OF, MODEL_NAME],
        summary="Read a model",
    )
    def get(self, request: Request, name: str) -> Response:
        point = as_of(request)
        state = queries.get_model(name, **point.query)
        context: dict[str, Any] = {}
        if point.position is not None or point.moment is not None:
            # The tier lives in governance's stream: read it at the same point as the model.
            context["risk_tiers"] = {str(state.id): get_risk(state.id, **point.query).tier}
        output = s.ModelOutput(state, context=context)
        return _with_etag(Response(output.data), state.stream_version)

    @extend_schema(
        request=s.ModelUpdateInput,
        responses={200: s.ModelOutput, **problems(400, 404, 409, 412, 413, 422)},
        parameters=[IF_MATCH, MODEL_NAME],
        summary="Change, rename or archive a model",
    )
    def patch(self, request: Request, name: str) -> Response:
        body = s.ModelUpdateInput(data=request.data)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        current = queries.get_model(name)
        state = commands.change_model(
            actor=_actor(request),
            model_id=current.id,
            expected_version=expected_version(request, current.stream_version),
            name=changes.pop("name", None),
            archive=changes.pop("archived", None),
            reason=changes.pop("reason", ""),
            changes=changes,
        )
        return _with_etag(Response(s.ModelOutput(state).data), state.stream_version)


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
class ModelVersionCollectionApi(ListAPIView):
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


class ModelVersionApi(APIView):
    """One model version: read (also as of) and change description, tags or status."""

    @extend_schema(
        responses={200: s.VersionOutput, **problems(400, 404)},
        parameters=[AS_OF, MODEL_NAME, NUMBER],
        summary="Read a model version",
    )
    def get(self, request: Request, name: str, number: int) -> Response:
        version = queries.get_version(name, number, **as_of(request).query)
        return _with_etag(Response(s.VersionOutput(version).data), version.stream_version)

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
        return _with_etag(Response(s.ArtifactOutput(version).data), version.stream_version)


class ArtifactUploadUrlApi(APIView):
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


class ArtifactVerifyApi(APIView):
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


class ArtifactContentApi(APIView):
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
    if not raw.isdigit():
        raise LengthRequired("send the artifact with a Content-Length header")
    return int(raw)


def _body_stream(request: Request, size: int) -> Any:
    # DRF hands over no parsed stream at all for an empty body.
    data = request.data if size else None
    return data if hasattr(data, "read") else io.BytesIO(b"")


class AliasCollectionApi(APIView):
    """The model's aliases and the versions they point at."""

    @extend_schema(
        responses={200: s.AliasOutput(many=True), **problems(404)},
        parameters=[AS_OF, MODEL_NAME],
        summary="List a model's aliases",
        operation_id="models_aliases_list",
    )
    def get(self, request: Request, name: str) -> Response:
        state = queries.get_model(name, **as_of(request).query)
        aliases = [{"alias": a, "version": v} for a, v in sorted(state.aliases.items())]
        return _with_etag(Response(s.AliasOutput(aliases, many=True).data), state.stream_version)


class AliasApi(APIView):
    """Read, point an alias at a version, or remove it. `production` is reserved."""

    @extend_schema(
        responses={200: s.AliasOutput, **problems(404)},
        parameters=[AS_OF, MODEL_NAME, ALIAS],
        summary="Read an alias",
    )
    def get(self, request: Request, name: str, alias: str) -> Response:
        state = queries.get_model(name, **as_of(request).query)
        if alias not in state.aliases:
            raise AliasNotFound(f"model {state.name!r} has no alias {alias!r} at that point")
        response = Response({"alias": alias, "version": state.aliases[alias]})
        return _with_etag(response, state.stream_version)

    @extend_schema(
        request=s.AliasInput,
        responses={200: s.AliasOutput, **problems(400, 404, 409, 412, 413, 422)},
        parameters=[IF_MATCH, MODEL_NAME, ALIAS],
        summary="Assign an alias",
    )
    def put(self, request: Request, name: str, alias: str) -> Response:
        body = s.AliasInput(data=request.data)
        body.is_valid(raise_exception=True)
        model = queries.get_model(name)
        state = commands.assign_alias(
            actor=_actor(request),
            model_id=model.id,
            alias=alias,
            version=body.validated_data["version"],
            expected_version=expected_version(request, model.stream_version),
        )
        response = Response({"alias": alias, "version": state.aliases[alias]})
        return _with_etag(response, state.stream_version)

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Removed"), **problems(404, 409, 412)},
        parameters=[IF_MATCH, MODEL_NAME, ALIAS],
        summary="Remove an alias",
    )
    def delete(self, request: Request, name: str, alias: str) -> Response:
        model = queries.get_model(name)
        state = commands.remove_alias(
            actor=_actor(request),
            model_id=model.id,
            alias=alias,
            expected_version=expected_version(request, model.stream_version),
        )
        return _with_etag(Response(status=status.HTTP_204_NO_CONTENT), state.stream_version)


@history_schema("Model history", MODEL_NAME)
class ModelHistoryApi(EventHistoryApi):
    def stream_id(self, name: str) -> uuid.UUID:
        return queries.model_id_for(name)


@history_schema("Model version history", MODEL_NAME, NUMBER)
class ModelVersionHistoryApi(EventHistoryApi):
    def stream_id(self, name: str, number: int) -> uuid.UUID:
        return uuid.UUID(queries.get_version(name, number).id)


@extend_schema_view(
    get=extend_schema(
        responses={200: s.DatasetOutput(many=True), **problems(400)}, summary="List datasets"
    )
)
class DatasetCollectionApi(ListAPIView):
    """List and register datasets."""

    serializer_class = s.DatasetOutput
    filter_backends = [
        django_filters.rest_framework.DjangoFilterBackend,
        filters.SearchFilter,
        StrictOrderingFilter,
    ]
    filterset_fields = ["team"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]
    ordering = "-created_at"

    def get_queryset(self):
        return Dataset.objects.all()

    @extend_schema(
        request=s.DatasetCreateInput,
        responses={201: s.DatasetOutput, **problems(400, 409, 413, 422)},
        parameters=[IDEMPOTENCY_KEY],
        summary="Register a dataset",
    )
    def post(self, request: Request) -> Response:
        body = s.DatasetCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        state = commands.register_dataset(
            actor=_actor(request), idempotency_key=idempotency_key(request), **body.validated_data
        )
        return _with_etag(
            Response(s.DatasetOutput(state).data, status=status.HTTP_201_CREATED),
            state.stream_version,
        )


class DatasetApi(APIView):
    @extend_schema(
        responses={200: s.DatasetOutput, **problems(400, 404)},
        parameters=[AS_OF],
        summary="Read a dataset",
    )
    def get(self, request: Request, name: str) -> Response:
        state = queries.get_dataset(name, **as_of(request).query)
        return _with_etag(Response(s.DatasetOutput(state).data), state.stream_version)


class DatasetVersionFilter(StrictFilterSet):
    created_after = TimestampFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after this time"
    )
    created_before = TimestampFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before this time"
    )
    pii_category = django_filters.CharFilter(
        method="filter_pii_category", help_text="Versions that list this PII category"
    )
    legal_basis = django_filters.CharFilter()
    owner = django_filters.CharFilter()

    class Meta:
        model = DatasetVersion
        fields = ["legal_basis", "owner"]

    def filter_pii_category(self, queryset, name, value):
        # jsonb containment: the category is one element of the version's list.
        return queryset.filter(pii_categories__contains=[value])


@extend_schema_view(
    get=extend_schema(
        responses={200: s.DatasetVersionOutput(many=True), **problems(400, 404)},
        summary="List a dataset's versions",
    )
)
class DatasetVersionCollectionApi(ListAPIView):
    """List and create versions of a dataset; the list filters, searches and orders like the
    other registry lists."""

    serializer_class = s.DatasetVersionOutput
    filterset_class = DatasetVersionFilter
    filter_backends = [
        django_filters.rest_framework.DjangoFilterBackend,
        filters.SearchFilter,
        StrictOrderingFilter,
    ]
    search_fields = ["uri", "description", "owner", "legal_basis"]
    ordering_fields = ["number", "created_at"]
    ordering = "-number"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DatasetVersion.objects.none()
        return DatasetVersion.objects.filter(dataset_id=queries.dataset_id_for(self.kwargs["name"]))

    @extend_schema(
        request=s.DatasetVersionCreateInput,
        responses={201: s.DatasetVersionOutput, **problems(400, 404, 409, 413, 422)},
        parameters=[IDEMPOTENCY_KEY],
        summary="Create a dataset version",
    )
    def post(self, request: Request, name: str) -> Response:
        body = s.DatasetVersionCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        data["pii_categories"] = tuple(data.get("pii_categories", ()))
        version = commands.create_dataset_version(
            actor=_actor(request),
            dataset_id=str(queries.dataset_id_for(name)),
            data=DatasetVersionInput(**data),
            idempotency_key=idempotency_key(request),
        )
        return _with_etag(
            Response(s.DatasetVersionOutput(version).data, status=status.HTTP_201_CREATED),
            version.stream_version,
        )


@history_schema("Dataset history")
class DatasetHistoryApi(EventHistoryApi):
    def stream_id(self, name: str) -> uuid.UUID:
        return queries.dataset_id_for(name)


@history_schema("Dataset version history", NUMBER)
class DatasetVersionHistoryApi(EventHistoryApi):
    def stream_id(self, name: str, number: int) -> uuid.UUID:
        return uuid.UUID(queries.get_dataset_version(name, number).id)


class DatasetVersionApi(APIView):
    @extend_schema(
        responses={200: s.DatasetVersionOutput, **problems(400, 404)},
        parameters=[AS_OF],
        summary="Read a dataset version",
    )
    def get(self, request: Request, name: str, number: int) -> Response:
        version = queries.get_dataset_version(name, number, **as_of(request).query)
        return _with_etag(Response(s.DatasetVersionOutput(version).data), version.stream_version)
