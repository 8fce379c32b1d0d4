"""Governance API views of serious incidents: the lists (all, and a model's, where one is
reported), one incident, its history, the report to the authority and closure."""

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
from api.history import EventHistoryApi, history_schema
from api.idempotency import IdempotentCommands, idempotency_key
from api.params import AS_OF, IDEMPOTENCY_KEY, IF_MATCH, MODEL_NAME, as_of, problems
from api.preconditions import expected_version
from core import clock
from core.actors import Actor
from governance import art73, policy, queries
from governance.commands import incidents
from governance.models import Incident
from registry import queries as registry_queries

INCIDENT_ID = OpenApiParameter(
    "incident_id", {"type": "string", "format": "uuid"}, location=OpenApiParameter.PATH
)


class IncidentFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=[(x, x) for x in ("open", "closed")])
    tier = django_filters.ChoiceFilter(choices=[(x, x) for x in policy.TIERS])
    reporting = django_filters.ChoiceFilter(
        choices=[(x, x) for x in art73.REPORTING_STATUSES],
        method="filter_reporting",
        help_text="Where the Art. 73 report stands now: pending, overdue, reported, not_filed"
        " or not_required",
    )

    class Meta:
        model = Incident
        fields = ["status", "tier"]

    def filter_reporting(self, queryset, name, value):
        return queries.with_reporting_status(queryset, value, clock.now())


@extend_schema_view(
    get=extend_schema(
        responses={200: s.IncidentOutput(many=True), **problems(400)},
        summary="List serious incidents I may see (running Art. 73 clocks first with"
        " ordering=deadline_at)",
    )
)
class IncidentCollectionApi(ListAPIView):
    serializer_class = s.IncidentOutput
    filterset_class = IncidentFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, StrictOrderingFilter]
    ordering_fields = ["became_aware_at", "deadline_at", "opened_at"]
    ordering = "-became_aware_at"

    def get_queryset(self):
        return queries.visible_incidents(self.request.user)


@extend_schema_view(
    get=extend_schema(
        responses={200: s.IncidentOutput(many=True), **problems(400, 404)},
        parameters=[MODEL_NAME],
        summary="List a model's serious incidents",
    )
)
class ModelIncidentCollectionApi(IdempotentCommands, ListAPIView):
    serializer_class = s.IncidentOutput
    filterset_class = IncidentFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, StrictOrderingFilter]
    ordering_fields = ["became_aware_at", "deadline_at", "opened_at"]
    ordering = "-became_aware_at"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Incident.objects.none()
        model_id = registry_queries.model_id_for(self.kwargs["name"])
        return queries.visible_incidents(self.request.user).filter(model_id=model_id)

    @extend_schema(
        request=s.IncidentCreateInput,
        responses={201: s.IncidentOutput, **problems(400, 403, 404, 409, 413, 422)},
        parameters=[MODEL_NAME, IDEMPOTENCY_KEY],
        summary="Report a serious incident; on a high or critical model it starts the EU AI"
        " Act Art. 73 reporting clock",
    )
    def post(self, request: Request, name: str) -> Response:
        body = s.IncidentCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        state = incidents.report_incident(
            actor=Actor.from_request(request),
            model_id=str(registry_queries.model_id_for(name)),
            title=data["title"],
            description=data["description"],
            occurred_at=data["occurred_at"],
            became_aware_at=data["became_aware_at"],
            classes=data["classes"],
            version_number=data.get("version"),
            idempotency_key=idempotency_key(request),
        )
        response = Response(s.IncidentOutput(state).data, status=status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/incidents/{state.id}/"
        return with_etag(response, state.stream_version)


class IncidentApi(APIView):
    @extend_schema(
        responses={200: s.IncidentOutput, **problems(400, 404)},
        parameters=[INCIDENT_ID, AS_OF],
        summary="Read a serious incident (also as of a time or position)",
    )
    def get(self, request: Request, incident_id: uuid.UUID) -> Response:
        state = queries.get_incident(str(incident_id), user=request.user, **as_of(request).query)
        return with_etag(Response(s.IncidentOutput(state).data), state.stream_version)


@history_schema("A serious incident's events, oldest first", INCIDENT_ID)
class IncidentHistoryApi(EventHistoryApi):
    def stream_id(self, incident_id: uuid.UUID) -> uuid.UUID:
        queries.get_incident(str(incident_id), user=self.request.user)
        return incident_id

    def reads_whole(self, incident_id: uuid.UUID) -> bool:
        return True  # stream_id answers 404 to a caller who may not read it


class IncidentAuthorityReportApi(IdempotentCommands, APIView):
    @extend_schema(
        request=s.AuthorityReportInput,
        responses={200: s.IncidentOutput, **problems(400, 403, 404, 409, 412, 413, 422)},
        parameters=[INCIDENT_ID, IF_MATCH, IDEMPOTENCY_KEY],
        summary="Record the incident's Art. 73 report to the authority (model-risk or legal)",
    )
    def post(self, request: Request, incident_id: uuid.UUID) -> Response:
        return _incident_step(
            request, incident_id, s.AuthorityReportInput, incidents.record_authority_report
        )


class IncidentClosureApi(IdempotentCommands, APIView):
    @extend_schema(
        request=s.IncidentCloseInput,
        responses={200: s.IncidentOutput, **problems(400, 403, 404, 409, 412, 413, 422)},
        parameters=[INCIDENT_ID, IF_MATCH, IDEMPOTENCY_KEY],
        summary="Close a serious incident (its Art. 73 report filed, or a reason why not)",
    )
    def post(self, request: Request, incident_id: uuid.UUID) -> Response:
        return _incident_step(request, incident_id, s.IncidentCloseInput, incidents.close_incident)


def _incident_step(request: Request, incident_id: uuid.UUID, body_class, command) -> Response:
    """A POST that takes an incident one step (the authority report, closure): the body
    checked, the incident read as the caller may see it, the command run at If-Match."""
    body = body_class(data=request.data)
    body.is_valid(raise_exception=True)
    current = queries.get_incident(str(incident_id), user=request.user)
    state = command(
        actor=Actor.from_request(request),
        incident_id=current.id,
        expected_version=expected_version(request, current.stream_version),
        idempotency_key=idempotency_key(request),
        **body.validated_data,
    )
    return with_etag(Response(s.IncidentOutput(state).data), state.stream_version)
