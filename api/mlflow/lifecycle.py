"""MLflow's stages as moves of the ledger's lifecycle, each through the command /api/v1/ uses:

- `Staging` opens an approval request for production (the version goes in review);
- `Production` deploys the version through the promotion gate;
- `Archived` deprecates a deployed or approved version and retires a draft or rejected one;
- `None` is a draft: a rejected version goes back to draft, and a version in review has its
  open approval request withdrawn.

`archive_existing_versions` archives the model's other Production versions once the
promotion went through, each as its own event. Deleting a version retires it (a deployed one
is deprecated first); the ledger deletes nothing."""

from __future__ import annotations

from api.mlflow.errors import invalid
from approvals import commands as approvals
from approvals.models import ApprovalRequest
from approvals.state import ACTIVE
from core.actors import Actor
from registry import commands as registry
from registry.errors import InvalidTransition
from registry.models import ModelVersion
from registry.promotion import require_promotion

IN_REVIEW_HINT = (
    "version {n} is in review: withdraw its approval request (POST /api/v1/approvals/{{id}}/"
    "withdraw/) or move it to None first"
)


def _move(actor: Actor, row: ModelVersion, status: str, reason: str) -> None:
    registry.transition_model_version(
        actor=actor, version_id=str(row.id), expected_version=None, to_status=status, reason=reason
    )


def _withdraw_open_requests(actor: Actor, row: ModelVersion, reason: str) -> None:
    for request in ApprovalRequest.objects.filter(version_id=row.id, status__in=ACTIVE):
        approvals.withdraw_request(actor=actor, request_id=str(request.id), reason=reason)


def to_stage(actor: Actor, row: ModelVersion, stage: str, *, archive_existing: bool) -> None:
    if archive_existing and stage != "Production":
        raise invalid("archive_existing_versions applies to a transition to Production only")
    status = row.status
    if stage == "Staging":
        if status in ("in_review", "approved"):
            return
        if status == "deployed":
            raise InvalidTransition(f"version {row.number} is deployed; archive it first")
        approvals.request_approval(
            actor=actor,
            model_id=str(row.model_id),
            number=row.number,
            notes="requested through the MLflow API (stage Staging)",
        )
    elif stage == "Production":
        if status not in ("approved", "deprecated", "deployed"):
            # Not a move the lifecycle allows yet: the client hears the gate's reasons (no
            # complete approval), not only that the transition is not allowed.
            require_promotion(model_id=str(row.model_id), number=row.number)
        if status != "deployed":
            _move(actor, row, "deployed", "stage Production through the MLflow API")
        if archive_existing:
            others = ModelVersion.objects.filter(model_id=row.model_id, status="deployed")
            for other in others.exclude(id=row.id).order_by("number"):
                _move(actor, other, "deprecated", f"archived as version {row.number} went live")
    elif stage == "Archived":
        archive(actor, row, retire=False)
    elif stage == "None":
        if status == "in_review":
            _withdraw_open_requests(actor, row, "stage None through the MLflow API")
        elif status == "rejected":
            _move(actor, row, "draft", "stage None through the MLflow API")
        elif status != "draft":
            raise InvalidTransition(f"a {status} version cannot go back to None (draft)")


def archive(actor: Actor, row: ModelVersion, *, retire: bool) -> None:
    """Archived: deprecate what ran or was approved, retire the rest; `retire` (a delete)
    retires whatever state the version is in, deprecating a deployed one first."""
    status = row.status
    reason = "deleted through the MLflow API" if retire else "stage Archived through the MLflow API"
    if status == "in_review":
        raise InvalidTransition(IN_REVIEW_HINT.format(n=row.number))
    if status == "retired" or (status == "deprecated" and not retire):
        return
    if status == "deployed":
        _move(actor, row, "deprecated", reason)
        status = "deprecated"
        if not retire:
            return
    if status == "approved" and not retire:
        _move(actor, row, "deprecated", reason)
        return
    _move(actor, row, "retired", reason)
