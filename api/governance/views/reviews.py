"""Governance API views of periodic reviews: the list (with its filters), one review, its
history and its completion."""

from __future__ import annotations

import uuid

import django_filters
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import StrictFilterSet, StrictOrderingFilter
from api.governance import serializers as s
from api.governance.views.common import with_etag
from api.history import EventHistoryApi, history_schema
from api.idempotency import IdempotentCommands, idempotency_key
from api.params import AS_OF, IDEMPOTENCY_KEY, IF_MATCH, as_of, problems
from api.preconditions import expected_version
from core import clock
from core.actors import Actor
from governance import policy, queries
from governance.commands import reviews
from governance.models import PeriodicReview
from registry.models import RegisteredModel

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
        return with_etag(Response(s.ReviewOutput(state).data), state.stream_version)


@history_schema("A periodic review's events, oldest first", REVIEW_ID)
class ReviewHistoryApi(EventHistoryApi):
    def stream_id(self, review_id: uuid.UUID) -> uuid.UUID:
        queries.get_review(str(review_id), user=self.request.user)
        return review_id

    def reads_whole(self, review_id: uuid.UUID) -> bool:
        return True  # stream_id answers 404 to a caller who may not read it


class ReviewCompletionApi(IdempotentCommands, APIView):
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
        return with_etag(Response(s.ReviewOutput(state).data), state.stream_version)
