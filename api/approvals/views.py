"""Approvals API views: thin adapters over the commands and queries of boards and approvals."""

from __future__ import annotations

import uuid
from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.approvals import serializers as s
from api.filters import StrictFilterSet, StrictOrderingFilter
from api.history import EventHistoryApi, history_schema
from api.idempotency import IdempotentCommands, idempotency_key
from api.params import AS_OF, IDEMPOTENCY_KEY, IF_MATCH, MODEL_NAME, NUMBER, as_of, problems
from api.preconditions import etag, expected_version
from approvals import commands, gate, queries
from approvals.models import ApprovalRequest
from boards import commands as board_commands
from boards import queries as board_queries
from boards import rules as board_rules
from boards.models import Board
from core.actors import Actor
from registry import queries as registry_queries

BOARD = OpenApiParameter(
    "board",
    {"type": "string", "pattern": board_rules.BOARD_NAME.pattern},
    location=OpenApiParameter.PATH,
    description="The board's name.",
)
REQUEST_ID = OpenApiParameter(
    "request_id", {"type": "string", "format": "uuid"}, location=OpenApiParameter.PATH
)
USER_ID = OpenApiParameter(
    "user_id",
    {"type": "integer", "minimum": 1, "maximum": 2147483647},
    location=OpenApiParameter.PATH,
)


def _with_etag(response: Response, version: int) -> Response:
    response["ETag"] = etag(version)
    return response


def _actor(request: Request) -> Actor:
    return Actor.from_request(request)


# -- boards ------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        responses={200: s.BoardOutput(many=True), **problems(400)}, summary="List review boards"
    )
)
class BoardCollectionApi(IdempotentCommands, ListAPIView):
    serializer_class = s.BoardOutput
    filter_backends = [StrictOrderingFilter]
    ordering_fields = ["name", "created_at"]
    ordering = "name"

    def get_queryset(self):
        return Board.objects.all()

    @extend_schema(
        request=s.BoardCreateInput,
        responses={201: s.BoardOutput, **problems(400, 409, 413, 422)},
        parameters=[IDEMPOTENCY_KEY],
        summary="Create a review board",
    )
    def post(self, request: Request) -> Response:
        body = s.BoardCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        board = board_commands.create_board(
            actor=_actor(request), idempotency_key=idempotency_key(request), **body.validated_data
        )
        return _with_etag(
            Response(s.BoardOutput(board).data, status=status.HTTP_201_CREATED),
            board.stream_version,
        )


class BoardApi(APIView):
    @extend_schema(
        responses={200: s.BoardOutput, **problems(404)},
        parameters=[BOARD],
        summary="Read a review board",
    )
    def get(self, request: Request, board: str) -> Response:
        state = board_queries.get_board(board)
        return _with_etag(Response(s.BoardOutput(state).data), state.stream_version)


class BoardMemberCollectionApi(IdempotentCommands, APIView):
    @extend_schema(
        request=s.BoardMemberInput,
        responses={200: s.BoardOutput, **problems(400, 404, 409, 412, 413, 422)},
        parameters=[BOARD, IF_MATCH, IDEMPOTENCY_KEY],
        summary="Add a member to a board",
    )
    def post(self, request: Request, board: str) -> Response:
        body = s.BoardMemberInput(data=request.data)
        body.is_valid(raise_exception=True)
        idempotency_key(request)
        current = board_queries.get_board(board)
        state = board_commands.add_board_member(
            actor=_actor(request),
            board=current.name,
            user_id=body.validated_data["user_id"],
            expected_version=expected_version(request, current.stream_version),
        )
        return _with_etag(Response(s.BoardOutput(state).data), state.stream_version)


class BoardMemberApi(IdempotentCommands, APIView):
    @extend_schema(
        request=None,
        responses={200: s.BoardOutput, **problems(404, 409, 412)},
        parameters=[BOARD, USER_ID, IF_MATCH],
        summary="Remove a member from a board",
    )
    def delete(self, request: Request, board: str, user_id: int) -> Response:
        current = board_queries.get_board(board)
        state = board_commands.remove_board_member(
            actor=_actor(request),
            board=current.name,
            user_id=user_id,
            expected_version=expected_version(request, current.stream_version),
        )
        return _with_etag(Response(s.BoardOutput(state).data), state.stream_version)


class BoardChairApi(IdempotentCommands, APIView):
    @extend_schema(
        request=s.BoardMemberInput,
        responses={200: s.BoardOutput, **problems(400, 404, 409, 412, 413, 422)},
        parameters=[BOARD, IF_MATCH],
        summary="Appoint a board's chair (a member)",
    )
    def put(self, request: Request, board: str) -> Response:
        body = s.BoardMemberInput(data=request.data)
        body.is_valid(raise_exception=True)
        current = board_queries.get_board(board)
        state = board_commands.appoint_chair(
            actor=_actor(request),
            board=current.name,
            user_id=body.validated_data["user_id"],
            expected_version=expected_version(request, current.stream_version),
        )
        return _with_etag(Response(s.BoardOutput(state).data), state.stream_version)


# -- approval requests -------------------------------------------------------------------


class ApprovalFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(
        choices=[(x, x) for x in ("open", "changes_requested", "approved", "rejected", "withdrawn")]
    )
    tier = django_filters.ChoiceFilter(
        choices=[(x, x) for x in ("low", "medium", "high", "critical")]
    )
    mine = django_filters.ChoiceFilter(
        choices=[("pending", "pending")],
        method="filter_mine",
        help_text="pending: requests of my boards without my decision on the current evidence",
    )

    class Meta:
        model = ApprovalRequest
        fields = ["status", "tier"]

    def filter_mine(self, queryset, name, value):
        return queryset.filter(id__in=queries.pending_for(self.request.user).values("id"))


@extend_schema_view(
    get=extend_schema(
        responses={200: s.ApprovalOutput(many=True), **problems(400)},
        summary="List approval requests I may see",
    )
)
class ApprovalCollectionApi(IdempotentCommands, ListAPIView):
    serializer_class = s.ApprovalOutput
    filterset_class = ApprovalFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, StrictOrderingFilter]
    ordering_fields = ["created_at", "updated_at"]
    ordering = "-created_at"

    def get_queryset(self):
        return queries.visible_requests(self.request.user)

    @extend_schema(
        request=s.ApprovalCreateInput,
        responses={201: s.ApprovalDetailOutput, **problems(400, 404, 409, 413, 422)},
        parameters=[IDEMPOTENCY_KEY],
        summary="Request approval of a model version for a target (production)",
    )
    def post(self, request: Request) -> Response:
        body = s.ApprovalCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        state = commands.request_approval(
            actor=_actor(request),
            model_id=str(registry_queries.model_id_for(data["model"])),
            number=data["version"],
            target=data.get("target", "production"),
            notes=data.get("notes", ""),
            idempotency_key=idempotency_key(request),
        )
        response = Response(s.ApprovalDetailOutput(state).data, status=status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/approvals/{state.id}/"
        return _with_etag(response, state.stream_version)


class ApprovalApi(APIView):
    @extend_schema(
        responses={200: s.ApprovalDetailOutput, **problems(400, 404)},
        parameters=[REQUEST_ID, AS_OF],
        summary="Read an approval request (also as of a time or position)",
    )
    def get(self, request: Request, request_id: uuid.UUID) -> Response:
        state = queries.get_request(str(request_id), user=request.user, **as_of(request).query)
        return _with_etag(Response(s.ApprovalDetailOutput(state).data), state.stream_version)


@history_schema("An approval request's events, oldest first", REQUEST_ID)
class ApprovalHistoryApi(EventHistoryApi):
    def stream_id(self, request_id: uuid.UUID) -> uuid.UUID:
        queries.get_request(str(request_id), user=self.request.user)
        return request_id

    def reads_whole(self, request_id: uuid.UUID) -> bool:
        return True  # stream_id answers 404 to a caller who may not read it


def _visible(request: Request, request_id: uuid.UUID):
    return queries.get_request(str(request_id), user=request.user)


class DecisionCollectionApi(IdempotentCommands, APIView):
    @extend_schema(
        request=s.DecisionInput,
        responses={201: s.ApprovalDetailOutput, **problems(400, 404, 409, 412, 413, 422)},
        parameters=[REQUEST_ID, IF_MATCH, IDEMPOTENCY_KEY],
        summary="Record a board member's decision: approve, reject or request_changes",
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        body = s.DecisionInput(data=request.data)
        body.is_valid(raise_exception=True)
        current = _visible(request, request_id)
        data = body.validated_data
        state = commands.record_decision(
            actor=_actor(request),
            request_id=current.id,
            board=data["board"],
            decision=data["decision"],
            rationale=data["rationale"],
            conditions=data.get("conditions", []),
            expected_version=expected_version(request, current.stream_version),
            idempotency_key=idempotency_key(request),
        )
        return _with_etag(
            Response(s.ApprovalDetailOutput(state).data, status=status.HTTP_201_CREATED),
            state.stream_version,
        )


class WithdrawApi(IdempotentCommands, APIView):
    @extend_schema(
        request=s.ApprovalReasonInput,
        responses={200: s.ApprovalDetailOutput, **problems(400, 404, 409, 412, 413, 422)},
        parameters=[REQUEST_ID, IF_MATCH, IDEMPOTENCY_KEY],
        summary="Withdraw an approval request",
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        body = s.ApprovalReasonInput(data=request.data)
        body.is_valid(raise_exception=True)
        current = _visible(request, request_id)
        state = commands.withdraw_request(
            actor=_actor(request),
            request_id=current.id,
            reason=body.validated_data["reason"],
            expected_version=expected_version(request, current.stream_version),
            idempotency_key=idempotency_key(request),
        )
        return _with_etag(Response(s.ApprovalDetailOutput(state).data), state.stream_version)


class _ApprovalReasonApi(IdempotentCommands, APIView):
    """A change of an approval that takes only a reason: suspension or reinstatement."""

    command: Any = None

    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        body = s.ApprovalReasonInput(data=request.data)
        body.is_valid(raise_exception=True)
        current = _visible(request, request_id)
        state = self.command(
            actor=_actor(request),
            request_id=current.id,
            reason=body.validated_data["reason"],
            idempotency_key=idempotency_key(request),
        )
        return _with_etag(Response(s.ApprovalDetailOutput(state).data), state.stream_version)


def _reason_schema(summary: str) -> Any:
    return extend_schema_view(
        post=extend_schema(
            request=s.ApprovalReasonInput,
            responses={200: s.ApprovalDetailOutput, **problems(400, 404, 409, 413, 422)},
            parameters=[REQUEST_ID, IDEMPOTENCY_KEY],
            summary=summary,
        )
    )


@_reason_schema("Suspend an approval (model-risk board); the gate honours it at once")
class ApprovalSuspensionApi(_ApprovalReasonApi):
    command = staticmethod(commands.suspend_approval)


@_reason_schema("Lift an approval's suspension (model-risk board)")
class ApprovalReinstatementApi(_ApprovalReasonApi):
    command = staticmethod(commands.reinstate_approval)


class PromotionApi(APIView):
    @extend_schema(
        responses={200: s.PromotionOutput, **problems(404)},
        parameters=[MODEL_NAME, NUMBER],
        summary="What the promotion gate finds for this version and production",
    )
    def get(self, request: Request, name: str, number: int) -> Response:
        version = registry_queries.get_version(name, number)
        assessment = gate.assess_promotion(model_id=version.model_id, number=number)
        described = gate.describe(assessment)
        if not queries.party_to(request.user, version.model_id):
            described["request_id"] = None  # which request it is: for those party to the model
        return Response(s.PromotionOutput(described).data)
