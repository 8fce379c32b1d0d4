"""One high-tier model through a year of simulated cadence, a scan every day by the clock the
commands read: reviews opened, reminded, completed on time or late, escalated to the chair
and the model-risk officers, one run out of grace (non-compliant, production approval
suspended, then reinstated by the model-risk board). Prints the events it produced
(`./ledger test tests/governance/test_cadence_year.py -s`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from approvals import commands as approvals
from approvals import streams as approval_streams
from core import clock
from core.actors import Actor
from eventstore import store
from governance import queries as governance_queries
from governance.commands import reviews
from governance.models import PeriodicReview
from tests.approvals.conftest import actor_of
from tests.governance.helpers import approved_version

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
# When the board completes each review, in days after its due date (negative: before it).
COMPLETED = {1: -5, 2: -3, 3: -6, 4: 2, 5: 5, 6: 9}
ON_TIME = -4
SHOWN = ("governance.Review", "approvals.Request")


def _names(ids) -> str:
    users = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    return ", ".join(users.get(pk, f"user {pk}") for pk in ids)


def _describe(event) -> str:
    data = event.data
    match event.type.split(".")[1]:
        case "PeriodicReviewOpened":
            boards = ", ".join(data["boards"])
            return f"review {data['sequence']}, due {data['due_at'][:10]}, for {boards}"
        case "ReviewReminderSent":
            return f"reminded {_names(data['recipient_ids'])}"
        case "ReviewEscalated":
            who = data["escalated_to"].replace("_", " ")
            return f"level {data['level']}, to the {who}: {_names(data['recipient_ids'])}"
        case "ReviewCompleted":
            late = " (late)" if data["late"] else ""
            return (
                f"{data['outcome']}{late}, by {_names([data['reviewer_id']])} for {data['board']}"
            )
        case "VersionMarkedNonCompliant":
            return f"production approval {data['suspended_request_id'][:8]} suspended"
        case "ApprovalSuspended" | "ApprovalReinstated" | "ReviewFlagged":
            return data["reason"]
    return ""


def test_a_high_tier_model_goes_through_a_year_of_reviews(cast, evidence_store):
    scan = Actor.system("governance.scan_reviews")
    raj = actor_of(cast.reviewer("model-risk", 1))
    with clock.frozen(T0) as now:
        model, version, request = approved_version(cast, evidence_store, "high")
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
    tier = governance_queries.current_policy().document["high"]
    boards = ", ".join(f"{board} {quorum}" for board, quorum in tier["boards"].items())
    print(
        f"\nOne year of periodic reviews of {model.name} version 1, tier high"
        f" (boards: {boards}; review every {tier['review_cadence_days']} days, reminder"
        f" {tier['review_reminder_days']} days ahead, grace {tier['review_grace_days']} days),"
        f" approved {T0.date()}:\n"
    )
    print(f"{'date':<10}  {'event':<26}  detail")
    for event in produced:
        print(f"{event.recorded_at.date()}  {event.type.split('.')[1]:<26}  {_describe(event)}")
    counts = Counter(e.type.split(".")[1] for e in produced)
    print(f"\n{'events by type':<26}  count")
    for name, count in counts.most_common():
        print(f"{name:<26}  {count:>5}")

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
    assert not approval_streams.load_request(request.id).suspended
