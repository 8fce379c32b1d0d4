"""Governance API views: thin adapters over governance and approvals commands."""

from __future__ import annotations

import uuid

import django_filters
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import StrictFilterSet, StrictOrderingFilter
from api.governance import serializers as s
from api.history import EventHistoryApi, history_schema
from api.idempotency import idempotency_key
from api.params import AS_OF, IDEMPOTENCY_KEY, IF_MATCH, MODEL_NAME, NUMBER, as_of, problems
from api.preconditions import etag, expected_version
from core import clock
from core.actors import Actor
from governance import art73, commands, policy, queries, streams
from governance.commands import audits, findings, incidents, reviews
from governance.models import Evidence, Finding, Incident, PeriodicReview, PolicyVersion
from registry import queries as registry_queries
from registry.models import RegisteredModel

POLICY_NUMBER = NUMBER


def _with_etag(response: Response, version: int) -> Response:
    response["ETag"] = etag(version)
    return response


@extend_schema_view(
    get=extend_schema(
        responses={200: s.PolicyOutput(many=True), **problems(400)},
        summary="List risk-tier policy versions",
    )
)
class PolicyCollectionApi(ListAPIView):
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
        return _with_etag(
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
        return _with_etag(Response(s.PolicyOutput(found).data), found.number)


class RiskTierApi(APIView):
    @extend_schema(
        responses={200: s.RiskOutput, **problems(400, 404)},
        parameters=[MODEL_NAME, AS_OF],
        summary="Read a model's risk record (tier, intake answers, suspension)",
    )
    def get(self, request: Request, name: str) -> Response:
        model = registry_queries.get_model(name)
        state = queries.get_risk(model.id, **as_of(request).query)
        return _with_etag(Response(s.RiskOutput(state).data), state.stream_version)


class IntakeApi(APIView):
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
        return _with_etag(Response(s.RiskOutput(state).data), state.stream_version)


class RiskTierDecisionApi(APIView):
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
        return _with_etag(Response(s.RiskOutput(state).data), state.stream_version)


class SuspensionApi(APIView):
    @extend_schema(
        request=s.SuspensionInput,
        responses={200: s.RiskOutput, **problems(400, 404, 409, 413, 422)},
        parameters=[MODEL_NAME, IDEMPOTENCY_KEY],
        summary="Suspend a model: the promotion gate refuses it at once",
    )
    def post(self, request: Request, name: str) -> Response:
        body = s.SuspensionInput(data=request.data)
        body.is_valid(raise_exception=True)
        state = commands.suspend_model(
            actor=Actor.from_request(request),
            model_id=str(registry_queries.model_id_for(name)),
            reason=body.validated_data["reason"],
            idempotency_key=idempotency_key(request),
        )
        return _with_etag(Response(s.RiskOutput(state).data), state.stream_version)


class ReinstatementApi(APIView):
    @extend_schema(
        request=s.SuspensionInput,
        responses={200: s.RiskOutput, **problems(400, 404, 409, 413, 422)},
        parameters=[MODEL_NAME, IDEMPOTENCY_KEY],
        summary="Lift a model's suspension",
    )
    def post(self, request: Request, name: str) -> Response:
        body = s.SuspensionInput(data=request.data)
        body.is_valid(raise_exception=True)
        state = commands.reinstate_model(
            actor=Actor.from_request(request),
            model_id=str(registry_queries.model_id_for(name)),
            reason=body.validated_data["reason"],
            idempotency_key=idempotency_key(request),
        )
        return _with_etag(Response(s.RiskOutput(state).data), state.stream_version)


@extend_schema_view(
    get=extend_schema(
        responses={200: s.EvidenceOutput(many=True), **problems(400, 404)},
        parameters=[MODEL_NAME, NUMBER],
        summary="List a version's evidence and waivers",
    )
)
class EvidenceCollectionApi(ListAPIView):
    serializer_class = s.EvidenceOutput
    filter_backends = [StrictOrderingFilter]
    ordering_fields = ["kind", "recorded_at"]
    ordering = "kind"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Evidence.objects.none()
        version = registry_queries.get_version(self.kwargs["name"], self.kwargs["number"])
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
        return _with_etag(
            Response(s.EvidenceOutput(row).data, status=status.HTTP_201_CREATED),
            state.stream_version,
        )


class EvidenceUploadApi(APIView):
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


class WaiverApi(APIView):
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
        return _with_etag(
            Response(s.EvidenceOutput(row).data, status=status.HTTP_201_CREATED),
            state.stream_version,
        )


# -- periodic reviews --------------------------------------------------------------------

REVIEW_ID = OpenApiParameter(
    "review_id", {"type": "string", "format": "uuid"}, location=OpenApiParameter.PATH
)


@extend_schema_field({"type": "string", "enum": ["true", "false"]})
class TrueFalseFilter(django_filters.ChoiceFilter):
    """`true` or `false` exactly; anything else is a 400, not a silently ignored filter."""

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=[("true", "true"), ("false", "false")], **kwargs)


class ReviewFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=[(x, x) for x in ("open", "completed")])
    tier = django_filters.ChoiceFilter(choices=[(x, x) for x in policy.TIERS])
    timing = django_filters.ChoiceFilter(
        choices=[(x, x) for x in ("upcoming", "due", "overdue")],
        method="filter_timing",
        help_text="Open reviews: upcoming, due (inside the reminder period) or overdue",
    )
    escalated = TrueFalseFilter(
        method="filter_escalated",
        help_text="true: escalated to a chair or a model-risk officer",
    )
    non_compliant = TrueFalseFilter(method="filter_non_compliant")
    model = django_filters.CharFilter(
        method="filter_model", max_length=200, help_text="The model's name"
    )

    class Meta:
        model = PeriodicReview
        fields = ["status", "tier"]

    def filter_timing(self, queryset, name, value):
        return queries.with_timing(queryset, value, clock.now())

    def filter_escalated(self, queryset, name, value):
        if value == "true":
            return queryset.filter(escalation_level__gt=0)
        return queryset.filter(escalation_level=0)

    def filter_non_compliant(self, queryset, name, value):
        return queryset.filter(non_compliant=value == "true")

    def filter_model(self, queryset, name, value):
        return queryset.filter(
            model_id__in=RegisteredModel.objects.filter(name__iexact=value).values("id")
        )


@extend_schema_view(
    get=extend_schema(
        responses={200: s.ReviewOutput(many=True), **problems(400)},
        summary="List periodic reviews I may see (due, overdue, escalated, ...)",
    )
)
class ReviewCollectionApi(ListAPIView):
    serializer_class = s.ReviewOutput
    filterset_class = ReviewFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, StrictOrderingFilter]
    ordering_fields = ["due_at", "opened_at", "updated_at"]
    ordering = "due_at"

    def get_queryset(self):
        return queries.visible_reviews(self.request.user)


class ReviewApi(APIView):
    @extend_schema(
        responses={200: s.ReviewOutput, **problems(400, 404)},
        parameters=[REVIEW_ID, AS_OF],
        summary="Read a periodic review (also as of a time or position)",
    )
    def get(self, request: Request, review_id: uuid.UUID) -> Response:
        state = queries.get_review(str(review_id), user=request.user, **as_of(request).query)
        return _with_etag(Response(s.ReviewOutput(state).data), state.stream_version)


@history_schema("A periodic review's events, oldest first", REVIEW_ID)
class ReviewHistoryApi(EventHistoryApi):
    def stream_id(self, review_id: uuid.UUID) -> uuid.UUID:
        queries.get_review(str(review_id), user=self.request.user)
        return review_id


class ReviewCompletionApi(APIView):
    @extend_schema(
        request=s.ReviewCompleteInput,
        responses={200: s.ReviewOutput, **problems(400, 403, 404, 409, 412, 413, 422)},
        parameters=[REVIEW_ID, IF_MATCH, IDEMPOTENCY_KEY],
        summary="Complete a periodic review (a member of one of its boards)",
    )
    def post(self, request: Request, review_id: uuid.UUID) -> Response:
        body = s.ReviewCompleteInput(data=request.data)
        body.is_valid(raise_exception=True)
        current = queries.get_review(str(review_id), user=request.user)
        state = reviews.complete_review(
            actor=Actor.from_request(request),
            review_id=current.id,
            expected_version=expected_version(request, current.stream_version),
            idempotency_key=idempotency_key(request),
            **body.validated_data,
        )
        return _with_etag(Response(s.ReviewOutput(state).data), state.stream_version)


# -- bias audits and findings ------------------------------------------------------------

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
class BiasAuditCollectionApi(ListAPIView):
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
    status = django_filters.ChoiceFilter(choices=[(x, x) for x in ("open", "closed")])
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
        return _with_etag(Response(s.FindingOutput(state).data), state.stream_version)


class FindingClosureApi(APIView):
    @extend_schema(
        request=s.FindingCloseInput,
        responses={200: s.FindingOutput, **problems(400, 403, 404, 409, 412, 413, 422)},
        parameters=[FINDING_ID, IF_MATCH, IDEMPOTENCY_KEY],
        summary="Close a finding with the evidence of its fix (a member of its boards)",
    )
    def post(self, request: Request, finding_id: uuid.UUID) -> Response:
        body = s.FindingCloseInput(data=request.data)
        body.is_valid(raise_exception=True)
        current = queries.get_finding(str(finding_id), user=request.user)
        state = findings.close_finding(
            actor=Actor.from_request(request),
            finding_id=current.id,
            expected_version=expected_version(request, current.stream_version),
            idempotency_key=idempotency_key(request),
            **body.validated_data,
        )
        return _with_etag(Response(s.FindingOutput(state).data), state.stream_version)


# -- serious incidents -------------------------------------------------------------------

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
class ModelIncidentCollectionApi(ListAPIView):
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
        return _with_etag(response, state.stream_version)


class IncidentApi(APIView):
    @extend_schema(
        responses={200: s.IncidentOutput, **problems(400, 404)},
        parameters=[INCIDENT_ID, AS_OF],
        summary="Read a serious incident (also as of a time or position)",
    )
    def get(self, request: Request, incident_id: uuid.UUID) -> Response:
        state = queries.get_incident(str(incident_id), user=request.user, **as_of(request).query)
        return _with_etag(Response(s.IncidentOutput(state).data), state.stream_version)


@history_schema("A serious incident's events, oldest first", INCIDENT_ID)
class IncidentHistoryApi(EventHistoryApi):
    def stream_id(self, incident_id: uuid.UUID) -> uuid.UUID:
        queries.get_incident(str(incident_id), user=self.request.user)
        return incident_id


class IncidentAuthorityReportApi(APIView):
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


class IncidentClosureApi(APIView):
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
    return _with_etag(Response(s.IncidentOutput(state).data), state.stream_version)
