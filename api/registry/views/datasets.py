"""Datasets and their versions: list, register, create, read (also as of), and their history."""

from __future__ import annotations

import uuid

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import filters, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import StrictFilterSet, StrictOrderingFilter, TimestampFilter
from api.history import EventHistoryApi, history_schema
from api.idempotency import IdempotentCommands, idempotency_key
from api.params import AS_OF, IDEMPOTENCY_KEY, NUMBER, as_of, problems
from api.registry import serializers as s
from api.registry.views.common import _actor, _with_etag
from registry import commands, queries
from registry.commands import DatasetVersionInput
from registry.models import Dataset, DatasetVersion


@extend_schema_view(
    get=extend_schema(
        responses={200: s.DatasetOutput(many=True), **problems(400)}, summary="List datasets"
    )
)
class DatasetCollectionApi(IdempotentCommands, ListAPIView):
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
class DatasetVersionCollectionApi(IdempotentCommands, ListAPIView):
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

    def reads_whole(self, name: str) -> bool:
        return True  # a dataset and its versions, their URIs included, are read by every user


@history_schema("Dataset version history", NUMBER)
class DatasetVersionHistoryApi(EventHistoryApi):
    def stream_id(self, name: str, number: int) -> uuid.UUID:
        return uuid.UUID(queries.get_dataset_version(name, number).id)

    def reads_whole(self, name: str, number: int) -> bool:
        return True  # as the dataset's history


class DatasetVersionApi(APIView):
    @extend_schema(
        responses={200: s.DatasetVersionOutput, **problems(400, 404)},
        parameters=[AS_OF],
        summary="Read a dataset version",
    )
    def get(self, request: Request, name: str, number: int) -> Response:
        version = queries.get_dataset_version(name, number, **as_of(request).query)
        return _with_etag(Response(s.DatasetVersionOutput(version).data), version.stream_version)
