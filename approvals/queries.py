"""Reads the API and the admin share: requests (also as of a time or position), who may see
which request, and a reviewer's pending work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import Exists, Max, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from guardian.shortcuts import get_objects_for_user

from approvals import events as ev
from approvals.errors import RequestNotFound
from approvals.models import ApprovalRequest, ReviewDecision
from approvals.state import ACTIVE, RequestState, evolve_request
from boards.queries import boards_of
from eventstore import store
from governance import queries as governance_queries
from governance.models import Evidence
from registry.models import RegisteredModel
from registry.queries import owned_model_ids

VIEW_PERM = "approvals.view_approvalrequest"
OFFICER_PERM = "governance.assign_risk_tier"
M = TypeVar("M", bound=Model)


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
    if user.has_perm(OFFICER_PERM):
        return ApprovalRequest.objects.all()
    own_models = owned_model_ids(user)
    return ApprovalRequest.objects.filter(Q(id__in=of_boards) | Q(model_id__in=own_models))


def party_records(
    user: Any, rows: QuerySet[M], *, field: str = "model_id", every_perm: str = ""
) -> QuerySet[M]:
    """The `rows` (naming a model in `field`) of the models whose governance record the user
    may read (evidence, storage paths, approval requests, findings): every row for
    superusers, auditors (the requests' global view permission, or `every_perm`) and risk
    officers; otherwise those of the models the user's team owns (by group id) and of the
    models whose approval requests or findings name the user's boards. The API and the admin
    both read through it."""
    if user is None or user.pk is None:
        return rows.none()
    if sees_everything(user) or user.has_perm(OFFICER_PERM):
        return rows
    if every_perm and user.has_perm(every_perm):
        return rows
    concerned = (
        Q(**{f"{field}__in": owned_model_ids(user)})
        | Q(**{f"{field}__in": visible_requests(user).values("model_id")})
        | Q(**{f"{field}__in": governance_queries.visible_findings(user).values("model_id")})
    )
    return rows.filter(concerned)


def party_to(user: Any, model_id: Any) -> bool:
    """Whether the user may read a model's governance record (party_records)."""
    return party_records(user, RegisteredModel.objects.filter(id=model_id), field="id").exists()


def pending_for(user: Any) -> QuerySet[ApprovalRequest]:
    """Active requests of the user's boards on which the user has no decision on the
    version's current evidence (a decision on evidence that changed since does not count)."""
    boards = boards_of(user)
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


@dataclass(frozen=True)
class Reopened:
    """A void of the request after the person's own decision on it: why, and which evidence
    changed (the request's snapshot machinery, approvals.ApprovalVoided)."""

    reason: str
    changed: tuple[str, ...]
    at: datetime
    decided: str
    decided_at: datetime


def reopened_since_my_decision(state: RequestState, user: Any) -> list[Reopened]:
    """The voids recorded after the user's last decision on the request, when that decision
    no longer counts (it was given on evidence older than the request's current snapshot):
    the request is back for a re-review."""
    mine = [d for d in state.decisions if d.reviewer_id == getattr(user, "pk", None)]
    if not mine or mine[-1].evidence_version >= state.voided_evidence_version:
        return []
    last = mine[-1]
    return [
        Reopened(
            reason=event.data.get("reason", ""),
            changed=tuple(event.data.get("changed", ())),
            at=event.recorded_at,
            decided=last.decision,
            decided_at=last.recorded_at,
        )
        for event in store.read_stream(state.id, after_version=last.seq, upcast=False)
        if event.type == ev.ApprovalVoided.event_type
    ]
