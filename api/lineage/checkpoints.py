"""Checkpoint API views for witnesses and auditors: the stored signed checkpoints, newest first,
and the consistency proof between two of them, served from stored subtree hashes
(eventstore.subtrees). The latest checkpoint and its keys are CheckpointLatestApi's."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.lineage import serializers as s
from api.pagination import CheckpointCursorPagination
from api.params import problems
from eventstore import checkpoints, signer
from eventstore.models import Checkpoint
from lineage.errors import NoCheckpoint

MAX_DIGITS = 18  # below 2^63: a bigint


@extend_schema_view(
    get=extend_schema(
        responses={200: s.SignedCheckpointOutput(many=True), **problems(400)},
        summary="Signed checkpoints of the log, newest first",
    )
)
class CheckpointCollectionApi(ListAPIView):
    serializer_class = s.SignedCheckpointOutput
    pagination_class = CheckpointCursorPagination
    filter_backends: list[Any] = []

    def get_queryset(self):
        return Checkpoint.objects.all()


def _size(request: Request, name: str) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        raise ValidationError({name: "This parameter is required."})
    if not re.fullmatch(f"[0-9]{{1,{MAX_DIGITS}}}", raw):
        raise ValidationError({name: "a tree size (a whole number)"})
    return int(raw)


def _stored(size: int) -> Checkpoint:
    checkpoint = Checkpoint.objects.filter(tree_size=size).first()
    if checkpoint is None:
        raise NoCheckpoint(f"no checkpoint of tree size {size} was signed")
    return checkpoint


def _size_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "integer", "minimum": 0, "maximum": 10**MAX_DIGITS - 1},
        required=True,
        description=description,
    )


class CheckpointConsistencyApi(APIView):
    @extend_schema(
        responses={200: s.CheckpointConsistencyOutput, **problems(400, 404, 503)},
        parameters=[
            _size_parameter("first", "Tree size of one stored checkpoint"),
            _size_parameter("second", "Tree size of another (the proof runs from the smaller)"),
        ],
        summary="Consistency proof between two signed checkpoints (for witnesses)",
    )
    def get(self, request: Request) -> Response:
        # The proof joins the smaller tree to the larger, whichever order they are named in.
        first, second = sorted((_size(request, "first"), _size(request, "second")))
        old, new = _stored(first), _stored(second)
        try:
            proof = checkpoints.consistency_proof(first, second)
        except checkpoints.ProofUnavailable as exc:
            # Only a damaged store: the stored subtree hashes lack a node the proof needs.
            raise signer.CheckpointUnavailable(f"the proof cannot be served: {exc}") from exc
        body = {"first": old, "second": new, "proof": [h.hex() for h in proof]}
        return Response(s.CheckpointConsistencyOutput(body).data)
