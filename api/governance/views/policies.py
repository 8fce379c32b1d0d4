"""Governance API views of policy versions: the list and one version."""

from __future__ import annotations

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import StrictOrderingFilter
from api.governance import serializers as s
from api.governance.views.common import with_etag
from api.idempotency import IdempotentCommands, idempotency_key
from api.params import IDEMPOTENCY_KEY, IF_MATCH, NUMBER, problems
from api.preconditions import expected_version
from core.actors import Actor
from governance import commands, queries
from governance.models import PolicyVersion

POLICY_NUMBER = NUMBER


@extend_schema_view(
    get=extend_schema(
        responses={200: s.PolicyOutput(many=True), **problems(400)},
        summary="List risk-tier policy versions",
    )
)
class PolicyCollectionApi(IdempotentCommands, ListAPIView):
    """Policy versions, newest first; POST records a new one."""

    serializer_class = s.PolicyOutput
    filter_backends = [StrictOrderingFilter]
    ordering_fields = ["number"]
    ordering = "-number"

    def get_queryset(self):
        return PolicyVersion.objects.all()

    @extend_schema(
        request=s.PolicyCreateInput,
        responses={201: s.PolicyOutput, **problems(400, 409, 412, 413, 422)},
        parameters=[IDEMPOTENCY_KEY, IF_MATCH],
        summary="Record a new policy version (the current one with changes)",
    )
    def post(self, request: Request) -> Response:
        body = s.PolicyCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        current = queries.current_policy()
        created = commands.record_policy_version(
            actor=Actor.from_request(request),
            changes=body.validated_data["changes"],
            reason=body.validated_data["reason"],
            expected_number=expected_version(request, current.number),
            idempotency_key=idempotency_key(request),
        )
        return with_etag(
            Response(s.PolicyOutput(created).data, status=status.HTTP_201_CREATED),
            created.number,
        )


class PolicyApi(APIView):
    @extend_schema(
        responses={200: s.PolicyOutput, **problems(404)},
        parameters=[POLICY_NUMBER],
        summary="Read one policy version",
    )
    def get(self, request: Request, number: int) -> Response:
        found = queries.get_policy(number)
        return with_etag(Response(s.PolicyOutput(found).data), found.number)
