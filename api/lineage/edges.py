"""The edge collection: record an edge (change rights on its target, read rights on its source,
a run's team for a run end: lineage.commands.record_edge) and list the edges of a node a cursor
page at a time, oldest first."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Q, Subquery
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from api.idempotency import IdempotentCommands, idempotency_key
from api.lineage import serializers as s
from api.lineage.views import NODE
from api.pagination import LedgerCursorPagination
from api.params import AS_OF, IDEMPOTENCY_KEY, as_of, problems
from core.actors import Actor
from lineage import commands, queries
from lineage.models import LineageEdge, LineageNode


class EdgeCursorPagination(LedgerCursorPagination):
    """A node's edges, oldest first: log positions are unique, so a cursor never skips or
    repeats an edge, and edges recorded while a client pages arrive on the pages to come."""

    ordering = "position"


def _key(column: str) -> Subquery:
    return Subquery(LineageNode.objects.filter(id=OuterRef(column)).values("key")[:1])


@extend_schema_view(
    get=extend_schema(
        responses={200: s.EdgeOutput(many=True), **problems(400, 404)},
        parameters=[NODE, AS_OF],
        summary="Edges into and out of a node, oldest first, a page at a time",
    )
)
class EdgeCollectionApi(IdempotentCommands, ListAPIView):
    """Record an edge between two nodes; list the edges that touch a node."""

    serializer_class = s.EdgeOutput
    pagination_class = EdgeCursorPagination
    filter_backends: list[Any] = []

    def get_queryset(self):
        raw = self.request.query_params.get("node")
        if raw is None:
            raise ValidationError({"node": "This parameter is required."})
        node = queries.get_node(raw)
        point = as_of(self.request)
        edges = LineageEdge.objects.filter(Q(source_id=node.id) | Q(target_id=node.id))
        if point.position is not None:
            edges = edges.filter(position__lte=point.position)
        if point.moment is not None:
            edges = edges.filter(recorded_at__lte=point.moment)
        return edges.annotate(source=_key("source_id"), target=_key("target_id"))

    @extend_schema(
        request=s.EdgeCreateInput,
        responses={
            201: s.EdgeCreatedOutput,
            200: OpenApiResponse(s.EdgeCreatedOutput, description="The edge was already there"),
            **problems(400, 403, 404, 409, 413, 422),
        },
        parameters=[IDEMPOTENCY_KEY],
        summary="Record a lineage edge (data flows from source to target)",
        description="Needs change rights on the target (whose upstream lineage the edge"
        " changes) and read rights on the source. A run end needs the run's team: the team"
        " that first reported the run, or, for a new run, the sender's default team, which"
        " then owns it.",
    )
    def post(self, request: Request) -> Response:
        body = s.EdgeCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        edge = commands.record_edge(
            actor=Actor.from_request(request),
            source=data["source"],
            target=data["target"],
            edge_type=data["type"],
            idempotency_key=idempotency_key(request),
        )
        code = status.HTTP_201_CREATED if edge.created else status.HTTP_200_OK
        return Response(s.EdgeCreatedOutput(edge).data, status=code)
