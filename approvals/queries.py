"""Reads the API and the admin share: boards, requests (also as of a time or position), who
may see which request, and a reviewer's pending work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from guardian.shortcuts import get_objects_for_user

from approvals.errors import BoardNotFound, RequestNotFound
from approvals.models import ApprovalRequest, Board, ReviewDecision
from approvals.state import ACTIVE, BoardState, RequestState, evolve_request
from approvals.streams import load_board
from eventstore import store
from governance.models import Evidence
from registry.models import RegisteredModel

VIEW_PERM = "approvals.view_approvalrequest"


def sees_everything(user: Any) -> bool:
    """Superusers and auditors (the global view permission) read every request."""
    return bool(user and (user.is_superuser or user.has_perm(VIEW_PERM)))


def visible_requests(user: Any) -> QuerySet[ApprovalRequest]:
    """Requests of the user's boards (object permissions) and of their teams' models."""
    if sees_everything(user):
        return ApprovalRequest.objects.all()
    if user is None:
        return ApprovalRequest.objects.none()
    of_boards = get_objects_for_user(
        user, VIEW_PERM, klass=ApprovalRequest, accept_global_perms=False
    ).values("id")
    teams = list(user.groups.values_list("name", flat=True))
    own_models = RegisteredModel.objects.filter(team__in=teams).values("id")
    return ApprovalRequest.objects.filter(Q(id__in=of_boards) | Q(model_id__in=own_models))


def pending_for(user: Any) -> QuerySet[ApprovalRequest]:
    """Active requests of the user's boards on which the user has no decision on the
    version's current evidence (a decision on evidence that changed since does not count)."""
    boards = list(Board.objects.filter(members__contains=[user.pk]).values_list("name", flat=True))
    if not boards:
        return ApprovalRequest.objects.none()
    current_evidence = Coalesce(
        Subquery(
            Evidence.objects.filter(version_id=OuterRef("version_id"))
            .values("version_id")
            .annotate(top=Max("stream_version"))
            .values("top")[:1]
        ),
        Value(0),
    )
    decided_on_current = ReviewDecision.objects.filter(
        request_id=OuterRef("id"),
        reviewer_id=user.pk,
        evidence_version__gte=OuterRef("current_evidence"),
    )
    needs = Q()
    for board in boards:
        needs |= Q(boards__has_key=board)
    return (
        ApprovalRequest.objects.filter(status__in=ACTIVE)
        .filter(needs)
        .annotate(current_evidence=current_evidence)
        .exclude(Exists(decided_on_current))
    )


def get_request(
    request_id: str,
    *,
    user: Any,
    up_to_position: int | None = None,
    as_of: datetime | None = None,
) -> RequestState:
    if not visible_requests(user).filter(id=request_id).exists():
        raise RequestNotFound(f"no approval request {request_id}")
    return store.load_existing(
        request_id,
        evolve_request,
        RequestState(),
        RequestNotFound(f"approval request {request_id} did not exist yet at that point"),
        up_to_position=up_to_position,
        as_of=as_of,
    )


# -- boards, owners and authors (the parties separation of duties keeps apart) -------------


def board_group_name(board: str) -> str:
    """The Django group holding a board's members (object permissions go to it)."""
    return f"board:{board}"


def board_by_name(name: str) -> BoardState:
    row = Board.objects.filter(name__iexact=name).values_list("id", flat=True).first()
    if row is None:
        raise BoardNotFound(f"no board named {name!r}")
    return load_board(row)


def get_board(name: str) -> BoardState:
    return board_by_name(name)


def owner_ids(team: str) -> list[int]:
    """Ids of the members of a team: a model's owners, when it is the model's team."""
    return list(get_user_model().objects.filter(groups__name=team).values_list("pk", flat=True))


def author_ids(version: Any) -> list[int]:
    """The version's author as a user id; none when the system created it."""
    ref = version.created_by or ""
    return [int(ref.removeprefix("user:"))] if ref.startswith("user:") else []
