"""Models: list, register, read (also as of), change, and their history."""

from __future__ import annotations

import uuid
from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import filters, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import StrictFilterSet, StrictOrderingFilter
from api.history import EventHistoryApi, history_schema
from api.idempotency import IdempotentCommands, idempotency_key
from api.params import AS_OF, IDEMPOTENCY_KEY, IF_MATCH, MODEL_NAME, as_of, problems
from api.preconditions import expected_version
from api.registry import serializers as s
from api.registry.views.common import _actor, _with_etag
from approvals import queries as approval_queries
from governance.queries import get_risk
from registry import commands, queries
from registry.models import RegisteredModel


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
        """`key` or `key=value`, matched by containment: the key is data, never part of a
        lookup (`x__isnull=1` or `x__regex=(` name a tag like any other)."""
        key, _, wanted = value.partition("=")
        if not wanted:
            return queryset.filter(tags__has_key=key)
        return queryset.filter(tags__contains={key: wanted})


@extend_schema_view(
    get=extend_schema(
        responses={200: s.ModelOutput(many=True), **problems(400)}, summary="List models"
    )
)
class ModelCollectionApi(IdempotentCommands, ListAPIView):
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


class ModelApi(IdempotentCommands, APIView):
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


@history_schema("Model history", MODEL_NAME)
class ModelHistoryApi(EventHistoryApi):
    def stream_id(self, name: str) -> uuid.UUID:
        return queries.model_id_for(name)

    def reads_whole(self, name: str) -> bool:
        return approval_queries.party_to(self.request.user, queries.model_id_for(name))
