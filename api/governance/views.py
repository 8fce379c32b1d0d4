"""Governance API views: thin adapters over governance and approvals commands."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import StrictOrderingFilter
from api.governance import serializers as s
from api.idempotency import idempotency_key
from api.params import AS_OF, IDEMPOTENCY_KEY, IF_MATCH, MODEL_NAME, NUMBER, as_of, problems
from api.preconditions import etag, expected_version
from approvals import commands as approvals
from core.actors import Actor
from governance import commands, queries
from governance.models import Evidence, PolicyVersion
from registry import commands as registry
from registry import queries as registry_queries

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
        commands.ensure_default_policy()
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
        current = commands.current_policy()
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
        model_id = str(registry.model_id_for(name))
        current = commands.load_risk(model_id)
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
        model_id = str(registry.model_id_for(name))
        current = commands.load_risk(model_id)
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
            model_id=str(registry.model_id_for(name)),
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
            model_id=str(registry.model_id_for(name)),
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
        model_id = str(registry.model_id_for(name))
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
            model_id=str(registry.model_id_for(name)),
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
        state = approvals.grant_waiver(
            actor=Actor.from_request(request),
            model_id=str(registry.model_id_for(name)),
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
