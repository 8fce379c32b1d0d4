"""Governance API views of bias audits and findings: a version's audits (and running one),
one audit, the findings (with their filters), one finding, its remediation, the acceptance of
its risk and its closure."""

from __future__ import annotations

import uuid

import django_filters
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import StrictFilterSet, StrictOrderingFilter
from api.governance import serializers as s
from api.governance.views.common import with_etag
from api.idempotency import IdempotentCommands, idempotency_key
from api.params import AS_OF, IDEMPOTENCY_KEY, IF_MATCH, MODEL_NAME, NUMBER, as_of, problems
from api.preconditions import expected_version
from core.actors import Actor
from governance import policy, queries
from governance.commands import audits, findings
from governance.events import FINDING_STATUSES
from governance.models import Finding
from registry import queries as registry_queries

AUDIT_ID = OpenApiParameter(
    "audit_id", {"type": "string", "format": "uuid"}, location=OpenApiParameter.PATH
)
FINDING_ID = OpenApiParameter(
    "finding_id", {"type": "string", "format": "uuid"}, location=OpenApiParameter.PATH
)


@extend_schema_view(
    get=extend_schema(
        responses={200: s.BiasAuditOutput(many=True), **problems(400, 404)},
        parameters=[MODEL_NAME, NUMBER],
        summary="A version's bias audits, newest first",
    )
)
class BiasAuditCollectionApi(IdempotentCommands, ListAPIView):
    serializer_class = s.BiasAuditOutput
    filter_backends = [StrictOrderingFilter]
    ordering_fields = ["recorded_at"]
    ordering = "-recorded_at"

    def get_queryset(self):
        version = registry_queries.get_version(self.kwargs["name"], self.kwargs["number"])
        return queries.visible_audits(self.request.user).filter(version_id=version.id)

    @extend_schema(
        request=s.BiasAuditCreateInput,
        responses={201: s.BiasAuditRunOutput, **problems(400, 403, 404, 409, 413, 422)},
        parameters=[MODEL_NAME, NUMBER, IDEMPOTENCY_KEY],
        summary="Run a bias audit on posted rows or the attached evaluation data",
    )
    def post(self, request: Request, name: str, number: int) -> Response:
        body = s.BiasAuditCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        outcome = audits.run_bias_audit(
            actor=Actor.from_request(request),
            model_id=str(registry_queries.model_id_for(name)),
            number=number,
            spec=data["spec"],
            rows=data.get("rows"),
            use_evidence="evidence" in data,
            idempotency_key=idempotency_key(request),
        )
        payload = {**s.BiasAuditOutput(outcome.audit).data, "finding_id": outcome.finding_id}
        response = Response(s.BiasAuditRunOutput(payload).data, status=status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/bias-audits/{outcome.audit.id}/"
        return response


class BiasAuditApi(APIView):
    @extend_schema(
        responses={200: s.BiasAuditOutput, **problems(404)},
        parameters=[AUDIT_ID],
        summary="Read a bias audit",
    )
    def get(self, request: Request, audit_id: uuid.UUID) -> Response:
        return Response(s.BiasAuditOutput(queries.get_audit(str(audit_id), user=request.user)).data)


class FindingFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=[(x, x) for x in FINDING_STATUSES])
    severity = django_filters.ChoiceFilter(choices=[(x, x) for x in policy.TIERS])

    class Meta:
        model = Finding
        fields = ["status", "severity"]


@extend_schema_view(
    get=extend_schema(
        responses={200: s.FindingOutput(many=True), **problems(400)},
        summary="List findings I may see",
    )
)
class FindingCollectionApi(ListAPIView):
    serializer_class = s.FindingOutput
    filterset_class = FindingFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, StrictOrderingFilter]
    ordering_fields = ["opened_at", "due_at"]
    ordering = "-opened_at"

    def get_queryset(self):
        return queries.visible_findings(self.request.user)


class FindingApi(APIView):
    @extend_schema(
        responses={200: s.FindingOutput, **problems(400, 404)},
        parameters=[FINDING_ID, AS_OF],
        summary="Read a finding (also as of a time or position)",
    )
    def get(self, request: Request, finding_id: uuid.UUID) -> Response:
        state = queries.get_finding(str(finding_id), user=request.user, **as_of(request).query)
        return with_etag(Response(s.FindingOutput(state).data), state.stream_version)


# A step in a finding's life (remediation, risk acceptance, closure): the body checked by
# `body`, then `command` on the finding as the caller read it (If-Match). No docstring: the
# schema describes each view by the command layer's.
class _FindingStepApi(IdempotentCommands, APIView):
    body: type
    command: staticmethod

    def post(self, request: Request, finding_id: uuid.UUID) -> Response:
        body = self.body(data=request.data)
        body.is_valid(raise_exception=True)
        current = queries.get_finding(str(finding_id), user=request.user)
        state = self.command(
            actor=Actor.from_request(request),
            finding_id=current.id,
            expected_version=expected_version(request, current.stream_version),
            idempotency_key=idempotency_key(request),
            **body.validated_data,
        )
        return with_etag(Response(s.FindingOutput(state).data), state.stream_version)


def _step_schema(body: type, summary: str):
    return extend_schema(
        request=body,
        responses={200: s.FindingOutput, **problems(400, 403, 404, 409, 412, 413, 422)},
        parameters=[FINDING_ID, IF_MATCH, IDEMPOTENCY_KEY],
        summary=summary,
    )


class FindingRemediationApi(_FindingStepApi):
    body = s.FindingRemediationInput
    command = staticmethod(findings.record_remediation)

    @_step_schema(body, "Record what was done about a finding (the model's owners)")
    def post(self, request: Request, finding_id: uuid.UUID) -> Response:
        return super().post(request, finding_id)


class FindingRiskAcceptanceApi(_FindingStepApi):
    body = s.FindingRiskAcceptInput
    command = staticmethod(findings.accept_finding_risk)

    @_step_schema(
        body, "Accept a finding's risk until a date, with a reason (a member of its boards)"
    )
    def post(self, request: Request, finding_id: uuid.UUID) -> Response:
        return super().post(request, finding_id)


class FindingClosureApi(_FindingStepApi):
    body = s.FindingCloseInput
    command = staticmethod(findings.close_finding)

    @_step_schema(body, "Close a finding with the evidence of its fix (a member of its boards)")
    def post(self, request: Request, finding_id: uuid.UUID) -> Response:
        return super().post(request, finding_id)
