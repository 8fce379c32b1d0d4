"""One high-tier model through a year of simulated cadence, a scan every day by the clock the
commands read: reviews opened, reminded, completed on time or late, escalated to the chair
and the model-risk officers, one run out of grace (non-compliant, production approval
suspended, then reinstated by the model-risk board). Prints the events it produced
(`./ledger test tests/governance/test_cadence_year.py -s`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from approvals import commands as approvals
from core import clock
from core.actors import Actor
from eventstore import store
from governance import reviews
from governance.models import PeriodicReview
from tests.approvals.conftest import actor_of
from tests.governance.cadence_helpers import approved_version

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
# When the board completes each review, in days after its due date (negative: before it).
COMPLETED = {1: -5, 2: -3, 3: -6, 4: 2, 5: 5, 6: 9}
ON_TIME = -4
SHOWN = ("governance.Review", "approvals.Request")


def _describe(event) -> str:
    data = event.data
    match event.type.split(".")[1]:
        case "PeriodicReviewOpened":
            return (
                f"review {data['sequence']} due {data['due_at'][:10]} to {','.join(data['boards'])}"
            )
        case "ReviewReminderSent" | "ReviewEscalated":
            extra = f"level {data['level']} {data['escalated_to']} " if "level" in data else ""
            return f"{extra}to users {data['recipient_ids']}"
        case "ReviewCompleted":
            return f"{data['outcome']} by user {data['reviewer_id']} ({data['board']})" + (
                ", late" if data["late"] else ""
            )
        case "VersionMarkedNonCompliant":
            return f"approval {data['suspended_request_id'][:8]} suspended"
        case "ApprovalSuspended" | "ApprovalReinstated" | "ReviewFlagged":
            return data["reason"][:60]
    return ""


def test_a_high_tier_model_goes_through_a_year_of_reviews(cast, evidence_store):
    scan = Actor.system("governance.scan_reviews")
    raj = actor_of(cast.reviewer("model-risk", 1))
    with clock.frozen(T0) as now:
        _, version, request = approved_version(cast, evidence_store, "high")
        start = store.read_stream(version.id)[-1].position
        for day in range(1, 366):
            now.set(T0 + day * DAY)
            reviews.scan_reviews(actor=scan)
            review = PeriodicReview.objects.filter(version_id=version.id, status="open").first()
            if review is None:
                continue
            offset = COMPLETED.get(review.sequence, ON_TIME)
            if now.set(T0 + day * DAY) >= review.due_at + offset * DAY:
                reviews.complete_review(
                    actor=raj,
                    review_id=str(review.id),
                    board="model-risk",
                    outcome="satisfactory",
                    rationale=f"monthly review {review.sequence}: drift and incidents checked",
                )
                if review.non_compliant:
                    approvals.reinstate_approval(
                        actor=raj,
                        request_id=request.id,
                        reason="the overdue review is completed",
                    )

    produced = [e for e in store.read_all(after_position=start) if e.stream_type in SHOWN]
    print(f"\nOne year of cadence for a high-tier model (approved {T0.date()}):")
    for event in produced:
        print(f"{event.recorded_at.date()}  {event.type.split('.')[1]:<26} {_describe(event)}")
    counts = Counter(e.type.split(".")[1] for e in produced)
    print(dict(counts))

    rows = PeriodicReview.objects.filter(version_id=version.id).order_by("sequence")
    assert all(r.status == "completed" for r in rows[: len(rows) - 1])
    assert counts["PeriodicReviewOpened"] == len(rows) >= 11
    assert counts["ReviewCompleted"] >= 11
    assert counts["ReviewReminderSent"] == len(rows)
    assert counts["VersionMarkedNonCompliant"] == 1
    assert counts["ApprovalSuspended"] == counts["ApprovalReinstated"] == 1
    late = [r.sequence for r in rows if r.late]
    assert late == [4, 5, 6]
    assert [r.escalation_level for r in rows if r.sequence in (4, 5, 6)] == [1, 2, 2]
    assert not approvals.load_request(request.id).suspended
