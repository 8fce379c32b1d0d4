"""A model's aliases: list, read, assign and remove."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import IdempotentCommands
from api.params import ALIAS, AS_OF, IF_MATCH, MODEL_NAME, as_of, problems
from api.preconditions import expected_version
from api.registry import serializers as s
from api.registry.views.common import _actor, _with_etag
from registry import commands, queries
from registry.errors import AliasNotFound


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


class AliasApi(IdempotentCommands, APIView):
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
