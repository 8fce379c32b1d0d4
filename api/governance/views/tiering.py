"""Governance API views of a model's risk tier: the record, the owners' intake answers, an
officer's decision, and the model's suspension and reinstatement."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.governance import serializers as s
from api.governance.views.common import with_etag
from api.idempotency import IdempotentCommands, idempotency_key
from api.params import AS_OF, IDEMPOTENCY_KEY, IF_MATCH, MODEL_NAME, as_of, problems
from api.preconditions import expected_version
from core.actors import Actor
from governance import commands, queries, streams
from registry import queries as registry_queries


class RiskTierApi(APIView):
    @extend_schema(
        responses={200: s.RiskOutput, **problems(400, 404)},
        parameters=[MODEL_NAME, AS_OF],
        summary="Read a model's risk record (tier, intake answers, suspension)",
    )
    def get(self, request: Request, name: str) -> Response:
        model = registry_queries.get_model(name)
        state = queries.get_risk(model.id, **as_of(request).query)
        return with_etag(Response(s.RiskOutput(state).data), state.stream_version)


class IntakeApi(IdempotentCommands, APIView):
    @extend_schema(
        request=s.IntakeInput,
        responses={200: s.RiskOutput, **problems(400, 404, 409, 412, 413, 422)},
        parameters=[MODEL_NAME, IDEMPOTENCY_KEY, IF_MATCH],
        summary="Record the intake questionnaire; it proposes a risk tier",
    )
    def post(self, request: Request, name: str) -> Response:
        body = s.IntakeInput(data=request.data)
        body.is_valid(raise_exception=True)
        model_id = str(registry_queries.model_id_for(name))
        current = streams.load_risk(model_id)
        state = commands.record_intake(
            actor=Actor.from_request(request),
            model_id=model_id,
            answers=body.validated_data["answers"],
            expected_version=expected_version(request, current.stream_version),
            idempotency_key=idempotency_key(request),
        )
        return with_etag(Response(s.RiskOutput(state).data), state.stream_version)


class RiskTierDecisionApi(IdempotentCommands, APIView):
    @extend_schema(
        request=s.RiskTierInput,
        responses={200: s.RiskOutput, **problems(400, 404, 409, 412, 413, 422)},
        parameters=[MODEL_NAME, IDEMPOTENCY_KEY, IF_MATCH],
        summary="Confirm the proposed risk tier, or override it with a reason",
    )
    def post(self, request: Request, name: str) -> Response:
        body = s.RiskTierInput(data=request.data)
        body.is_valid(raise_exception=True)
        model_id = str(registry_queries.model_id_for(name))
        current = streams.load_risk(model_id)
        state = commands.assign_risk_tier(
            actor=Actor.from_request(request),
            model_id=model_id,
            tier=body.validated_data.get("tier"),
            reason=body.validated_data.get("reason", ""),
            expected_version=expected_version(request, current.stream_version),
            idempotency_key=idempotency_key(request),
        )
        return with_etag(Response(s.RiskOutput(state).data), state.stream_version)


def _risk_change(command, summary: str) -> type[APIView]:
    """A view that suspends or reinstates a model: the same body, reply and problems, and
    the command it calls."""

    class RiskChangeApi(IdempotentCommands, APIView):
        @extend_schema(
            request=s.SuspensionInput,
            responses={200: s.RiskOutput, **problems(400, 404, 409, 413, 422)},
            parameters=[MODEL_NAME, IDEMPOTENCY_KEY],
            summary=summary,
        )
        def post(self, request: Request, name: str) -> Response:
            body = s.SuspensionInput(data=request.data)
            body.is_valid(raise_exception=True)
            state = command(
                actor=Actor.from_request(request),
                model_id=str(registry_queries.model_id_for(name)),
                reason=body.validated_data["reason"],
                idempotency_key=idempotency_key(request),
            )
            return with_etag(Response(s.RiskOutput(state).data), state.stream_version)

    return RiskChangeApi


class SuspensionApi(
    _risk_change(commands.suspend_model, "Suspend a model: the promotion gate refuses it at once")
):
    pass


class ReinstatementApi(_risk_change(commands.reinstate_model, "Lift a model's suspension")):
    pass
