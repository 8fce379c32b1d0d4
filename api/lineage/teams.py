"""Teams for machine clients: a user's default team (what OpenLineage registers datasets and
claims runs for; shared with the MLflow API), and dataset name prefixes claimed for a team.
Thin adapters over registry.commands.choose_default_team and claim_dataset_prefix."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import IdempotentCommands
from api.lineage import serializers as s
from api.params import problems
from core.actors import Actor
from registry import commands, queries
from registry.commands.teams import USER_ADMIN_PERM
from registry.errors import NotUserAdmin
from registry.models import DatasetPrefix

USERNAME = OpenApiParameter(
    "username",
    {"type": "string", "maxLength": 150, "pattern": r"^[\w.@+-]+$"},
    location=OpenApiParameter.PATH,
    description="A user's name, or `me`",
)


def _user(request: Request, username: str) -> Any:
    """The user named (`me`: the caller), if the caller is that user or an administrator."""
    caller = request.user
    if username == "me" or username == caller.get_username():
        return caller
    if not (caller.is_superuser or caller.has_perm(USER_ADMIN_PERM)):
        raise NotUserAdmin("only the user or an administrator reads or sets a default team")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotUserAdmin(f"no user named {username[:150]!r}")
    return user


def _body(user: Any) -> dict[str, Any]:
    team = queries.default_team(user)
    return {"user": user.get_username(), "team": team.name if team is not None else None}


class DefaultTeamApi(IdempotentCommands, APIView):
    @extend_schema(
        responses={200: s.DefaultTeamOutput, **problems(403)},
        parameters=[USERNAME],
        summary="A user's default team (null when none is chosen, or it is no longer usable)",
    )
    def get(self, request: Request, username: str) -> Response:
        return Response(s.DefaultTeamOutput(_body(_user(request, username))).data)

    @extend_schema(
        request=s.DefaultTeamInput,
        responses={200: s.DefaultTeamOutput, **problems(400, 403, 409, 422)},
        parameters=[USERNAME],
        summary="Choose a user's default team (the user, or an administrator)",
        description="The team must be one the user is a member of, and not a role group (a"
        " review board's members, the auditors, a group granted permissions on a whole kind of"
        " object such as risk officers): 422 not_a_member or not_a_team.",
    )
    def put(self, request: Request, username: str) -> Response:
        body = s.DefaultTeamInput(data=request.data)
        body.is_valid(raise_exception=True)
        user = _user(request, username)
        commands.choose_default_team(
            actor=Actor.from_request(request), user_id=user.pk, team=body.validated_data["team"]
        )
        return Response(s.DefaultTeamOutput(_body(user)).data)


@extend_schema_view(
    get=extend_schema(
        responses={200: s.DatasetPrefixOutput(many=True), **problems(400)},
        summary="Claimed dataset name prefixes",
    )
)
class DatasetPrefixCollectionApi(IdempotentCommands, ListAPIView):
    serializer_class = s.DatasetPrefixOutput
    filter_backends: list[Any] = []

    def get_queryset(self):
        return DatasetPrefix.objects.all()

    @extend_schema(
        request=s.DatasetPrefixInput,
        responses={201: s.DatasetPrefixOutput, **problems(400, 403, 409, 422)},
        summary="Claim a dataset name prefix for a team (administrators)",
        description="Only the team then registers datasets whose names start with the prefix"
        " (case-insensitively), by the API or OpenLineage: others get 403 prefix_claimed. A"
        " claim overlapping another team's claim, or covering datasets another team already"
        " registered, is refused (409 prefix_conflict).",
    )
    def post(self, request: Request) -> Response:
        body = s.DatasetPrefixInput(data=request.data)
        body.is_valid(raise_exception=True)
        claim = commands.claim_dataset_prefix(
            actor=Actor.from_request(request), **body.validated_data
        )
        return Response(s.DatasetPrefixOutput(claim).data, status=status.HTTP_201_CREATED)
