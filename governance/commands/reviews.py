"""Periodic reviews: commands that open them on the tier's cadence, remind, escalate, apply
the overdue action once grace runs out, and complete them. Load -> decide -> append.

The scan is safe to run twice at once or to redo: a review's stream id is derived from the
version and its sequence number and every step is appended at the version it was decided on,
so a step that another scan already took conflicts and is skipped, never recorded twice."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.db import IntegrityError, transaction

from boards import queries as board_queries
from boards.errors import NotBoardMember
from boards.permissions import require_independent
from boards.queries import board_chairs, board_members
from core import clock
from core.actors import Actor
from core.errors import Unprocessable
from core.text import shaped_text
from eventstore import store
from eventstore.metadata import command_metadata
from eventstore.types import NO_STREAM, ConcurrencyConflict, SideEffect, StreamRef
from governance import cadence, rules
from governance import events as ev
from governance.commands.common import OFFICER_PERM as OFFICER_PERM
from governance.commands.common import repeated, risk_officers
from governance.errors import ReviewClosed
from governance.models import ModelRisk, PeriodicReview
from governance.permissions import version_parties
from governance.queries import approval_in_force, current_policy, last_granted_at
from governance.rules import OUTCOMES as OUTCOMES
from governance.rules import REVIEWED_STATUSES
from governance.state import ReviewState
from governance.streams import load_review, review_stream_id
from registry.models import ModelVersion

NOTIFY_TASK = "governance.notify_review"


# -- who hears about it ------------------------------------------------------------------


def _notify(step: str, review_id: uuid.UUID | str, user_ids: list[int]) -> list[SideEffect]:
    if not user_ids:
        return []
    return [
        SideEffect(
            NOTIFY_TASK, {"event": step, "review_id": str(review_id), "user_ids": sorted(user_ids)}
        )
    ]


# -- the scan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanReport:
    opened: int
    steps: int
    skipped: int


def anchor_of(version: ModelVersion) -> datetime:
    """Where the current cadence period starts: the last completed review, else the approval
    granted, else the version's creation."""
    last = (
        PeriodicReview.objects.filter(version_id=version.id, status="completed")
        .order_by("-completed_at")
        .values_list("completed_at", flat=True)
        .first()
    )
    if last is not None:
        return last
    return last_granted_at(version.id) or version.created_at


def scan_reviews(*, actor: Actor, now: datetime | None = None) -> ScanReport:
    """Open the reviews whose cadence is running out and take every step that has come due.
    Each version is decided and appended in its own transaction."""
    now = now or clock.now()
    opened = steps = skipped = 0
    tiers = dict(ModelRisk.objects.exclude(tier="").values_list("model_id", "tier"))
    spec_of = current_policy().document
    open_versions = set(
        PeriodicReview.objects.filter(status="open").values_list("version_id", flat=True)
    )
    candidates = ModelVersion.objects.filter(
        status__in=REVIEWED_STATUSES, model_id__in=list(tiers)
    ).exclude(id__in=open_versions)
    for version in candidates.order_by("model_id", "number"):
        try:
            opened_now, taken = _open_if_due(actor, version, tiers[version.model_id], spec_of, now)
        except (ConcurrencyConflict, IntegrityError, psycopg.errors.UniqueViolation):
            skipped += 1
            continue
        opened += opened_now
        steps += taken
    # A version deprecated or retired while its review was open is no longer chased.
    still_reviewed = ModelVersion.objects.filter(status__in=REVIEWED_STATUSES).values("id")
    open_reviews = PeriodicReview.objects.filter(status="open", version_id__in=still_reviewed)
    for review_id in open_reviews.values_list("id", flat=True):
        try:
            steps += advance_review(actor=actor, review_id=review_id, now=now)
        except ConcurrencyConflict:
            skipped += 1
    return ScanReport(opened, steps, skipped)


def _open_if_due(
    actor: Actor, version: ModelVersion, tier: str, spec_of: dict[str, Any], now: datetime
) -> tuple[int, int]:
    spec = spec_of[tier]
    plan = cadence.schedule(anchor_of(version), spec)
    if now < plan.opens_at:
        return 0, 0
    sequence = PeriodicReview.objects.filter(version_id=version.id).count() + 1
    review_id = review_stream_id(version.id, sequence)
    boards = sorted(spec["boards"])
    members = board_members(boards)
    opened = ev.PeriodicReviewOpened(
        model_id=str(version.model_id),
        version_id=str(version.id),
        version_number=version.number,
        sequence=sequence,
        tier=tier,
        policy_version=current_policy().number,
        boards=boards,
        anchor_at=plan.anchor_at.isoformat(),
        remind_at=plan.remind_at.isoformat(),
        due_at=plan.due_at.isoformat(),
        escalate_at=plan.escalate_at.isoformat(),
        escalate_officer_at=plan.escalate_officer_at.isoformat(),
        grace_ends_at=plan.grace_ends_at.isoformat(),
        overdue_action=spec["overdue_action"],
        suspend_approval=spec["suspend_approval_when_non_compliant"],
        recipient_ids=members,
    )
    # The steps already due (a late scan) go in the same append: a review never exists
    # without the steps its schedule had reached when it was opened.
    opening = ReviewState(
        id=str(review_id),
        model_id=opened.model_id,
        version_id=opened.version_id,
        version_number=opened.version_number,
        sequence=sequence,
        boards=tuple(boards),
        due_at=plan.due_at,
        overdue_action=opened.overdue_action,
        suspend_approval=opened.suspend_approval,
    )
    effects = _notify("opened", review_id, members)
    with transaction.atomic():
        steps = [
            _step_event(actor, opening, step, effects)
            for step in cadence.pending_steps(plan.step_times(), set(), now)
        ]
        store.append(
            StreamRef(review_id, ev.REVIEW),
            NO_STREAM,
            [opened, *steps],
            command_metadata(actor),
            side_effects=effects,
        )
    return 1, len(steps)


def advance_review(*, actor: Actor, review_id: uuid.UUID | str, now: datetime | None = None) -> int:
    """Take the steps of an open review that have come due (reminder, escalations, the
    overdue action), in one append; returns how many were taken."""
    now = now or clock.now()
    state = load_review(review_id)
    if state.status != "open":
        return 0
    pending = cadence.pending_steps(state.step_times(), set(state.steps_done), now)
    if not pending:
        return 0
    events: list[Any] = []
    effects: list[SideEffect] = []
    with transaction.atomic():
        for step in pending:
            events.append(_step_event(actor, state, step, effects))
        store.append(
            StreamRef(uuid.UUID(state.id), ev.REVIEW),
            state.stream_version,
            events,
            command_metadata(actor),
            side_effects=effects,
        )
    return len(events)


def _step_event(actor: Actor, state: ReviewState, step: str, effects: list[SideEffect]) -> Any:
    assert state.due_at is not None
    if step == cadence.REMIND:
        members = board_members(state.boards)
        effects += _notify(step, state.id, members)
        return ev.ReviewReminderSent(due_at=state.due_at.isoformat(), recipient_ids=members)
    if step == cadence.ESCALATE_CHAIR:
        chairs = board_chairs(state.boards)
        effects += _notify(step, state.id, chairs)
        return ev.ReviewEscalated(level=1, escalated_to="board_chair", recipient_ids=chairs)
    if step == cadence.ESCALATE_OFFICER:
        officers = risk_officers()
        effects += _notify(step, state.id, officers)
        return ev.ReviewEscalated(
            level=2, escalated_to="model_risk_officer", recipient_ids=officers
        )
    reason = rules.overdue_reason(state.sequence, state.version_number, state.due_at)
    effects += _notify(step, state.id, risk_officers())
    if state.overdue_action == "flag":
        return ev.ReviewFlagged(reason=reason)
    # Where the policy says so, the event names the approval in force, and approvals'
    # subscriber suspends it in this transaction.
    return ev.VersionMarkedNonCompliant(
        model_id=state.model_id,
        version_id=state.version_id,
        version_number=state.version_number,
        reason=reason,
        suspended_request_id=approval_in_force(state.version_id) if state.suspend_approval else "",
    )


# -- completing a review -----------------------------------------------------------------


def complete_review(
    *,
    actor: Actor,
    review_id: str,
    board: str,
    outcome: str,
    rationale: str,
    expected_version: int | None = None,
    expected_versions: Mapping[uuid.UUID | str, int] | None = None,
    idempotency_key: str | None = None,
) -> ReviewState:
    """A member of one of the review's boards completes it; the model's owners and the
    version's authors cannot (separation of duties). `expected_versions` (stream id ->
    version): the streams the member was shown; refused if any moved since."""
    rules.check_outcome(outcome)
    rationale = shaped_text(rationale, "rationale", rules.RATIONALE)
    state = load_review(review_id)
    if state.status != "open" and repeated(
        uuid.UUID(state.id), "governance.ReviewCompleted", actor, idempotency_key
    ):
        return state
    if state.status != "open":
        raise ReviewClosed(f"review {state.id} is already {state.status}")
    if board not in state.boards:
        raise Unprocessable(f"this review belongs to {', '.join(state.boards)}, not {board!r}")
    user = actor.account
    if user is None or user.pk not in board_queries.board_by_name(board).members:
        raise NotBoardMember(f"only members of the {board} board complete its reviews")
    require_independent(
        user,
        version_parties(state.model_id, state.version_id),
        "the model's owners and authors cannot review it",
    )
    if expected_version is not None and expected_version != state.stream_version:
        raise ConcurrencyConflict(uuid.UUID(state.id), expected_version, state.stream_version)
    store.require_versions(expected_versions)
    assert state.due_at is not None
    store.append(
        StreamRef(uuid.UUID(state.id), ev.REVIEW),
        state.stream_version,
        [
            ev.ReviewCompleted(
                board=board,
                reviewer_id=user.pk,
                outcome=outcome,
                rationale=rationale,
                late=clock.now() > state.due_at,
            )
        ],
        command_metadata(actor, idempotency_key),
    )
    return load_review(state.id)
