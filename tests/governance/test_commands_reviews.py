"""Periodic reviews through the commands: opened on the tier's cadence, reminded, escalated
to the chair and then the model-risk officers, and after grace flagged or marked
non-compliant with the production approval suspended; completion with separation of duties."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from approvals import gate
from approvals import streams as approval_streams
from boards import commands as board_commands
from boards.errors import NotBoardMember, SeparationOfDuties
from core import clock
from core.actors import Actor
from eventstore import catalog, store
from eventstore.types import RecordedEvent
from governance import cadence, policy
from governance import streams as governance_streams
from governance.commands import reviews
from governance.errors import ReviewClosed
from governance.models import PeriodicReview
from tests.approvals.conftest import actor_of
from tests.governance.helpers import approved_version, event_types

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SCAN = Actor.system("tests.scan")


def scan():
    return reviews.scan_reviews(actor=SCAN)


def test_schedule_follows_the_policy_when_the_tier_is_high():
    plan = cadence.schedule(T0, policy.DEFAULT_TIERS["high"])
    assert plan.opens_at == T0 + 16 * DAY
    assert plan.remind_at == T0 + 23 * DAY
    assert plan.due_at == plan.escalate_at == T0 + 30 * DAY
    assert plan.escalate_officer_at == T0 + 34 * DAY
    assert plan.grace_ends_at == T0 + 37 * DAY


def _stored_policy(schema_version: int, lacking: tuple[str, ...]) -> RecordedEvent:
    stored = {
        tier: {k: v for k, v in spec.items() if k not in lacking}
        for tier, spec in policy.DEFAULT_TIERS.items()
    }
    return RecordedEvent(
        position=1,
        stream_id=uuid.uuid4(),
        stream_type="governance.Policy",
        version=1,
        type="governance.PolicyVersionRecorded",
        schema_version=schema_version,
        data={"number": 1, "tiers": stored, "reason": "seed"},
        metadata={},
        occurred_at=T0,
        recorded_at=T0,
        prev_hash=b"",
        hash=b"",
    )


def test_old_policy_documents_are_read_with_the_cadence_defaults_when_they_lack_them():
    old = _stored_policy(1, policy.LATER_FIELDS)
    stored = old.data["tiers"]
    lifted = catalog.upcast(old)
    assert lifted.schema_version == 4
    assert policy.check_tiers(lifted.data["tiers"]) == policy.DEFAULT_TIERS
    assert old.data["tiers"] == stored
    assert "bias_audit_on_new_version" not in stored["critical"]


def test_version_2_policy_documents_audit_new_versions_as_shipped_when_they_lack_the_field():
    old = _stored_policy(2, policy.NEW_VERSION_AUDIT_FIELDS)
    lifted = catalog.upcast(old)
    assert lifted.schema_version == 4
    tiers = policy.check_tiers(lifted.data["tiers"])
    assert tiers["critical"]["bias_audit_on_new_version"] is True
    assert tiers["high"]["bias_audit_on_new_version"] is False


def test_policy_refuses_cadence_fields_when_they_are_invalid():
    tiers = policy.default_tiers()
    with pytest.raises(policy.InvalidInput):
        policy.merge_tiers(tiers, {"high": {"overdue_action": "ignore"}})
    with pytest.raises(policy.InvalidInput):
        policy.merge_tiers(tiers, {"high": {"review_reminder_days": 30}})
    with pytest.raises(policy.InvalidInput):
        policy.merge_tiers(
            tiers,
            {"low": {"fairness_thresholds": {**policy.FAIRNESS_THRESHOLDS, "min_group_size": -1}}},
        )


def test_high_tier_review_walks_through_due_reminded_escalated_and_non_compliant(
    cast, evidence_store
):
    with clock.frozen(T0) as now:
        model, version, request = approved_version(cast, evidence_store, "high")
        now.advance(16 * DAY - timedelta(minutes=1))
        assert scan().opened == 0
        now.advance(timedelta(minutes=1))
        assert scan().opened == 1
        review = PeriodicReview.objects.get(version_id=version.id)
        assert sorted(review.boards) == ["ethics", "legal", "model-risk"]
        assert scan() == reviews.ScanReport(0, 0, 0)  # a second scan records nothing

        now.set(T0 + 23 * DAY)
        assert scan().steps == 1
        now.set(T0 + 30 * DAY)
        assert scan().steps == 1
        state = governance_streams.load_review(review.id)
        assert state.escalation_level == 1
        escalated = list(store.read_stream(review.id))[-1]
        assert escalated.data["recipient_ids"] == [cast.officer.pk]  # rosa chairs model-risk
        now.set(T0 + 34 * DAY)
        assert scan().steps == 1
        now.set(T0 + 37 * DAY)
        assert scan().steps == 1
        assert scan().steps == 0

    assert event_types(review.id) == [
        "PeriodicReviewOpened",
        "ReviewReminderSent",
        "ReviewEscalated",
        "ReviewEscalated",
        "VersionMarkedNonCompliant",
    ]
    review.refresh_from_db()
    assert review.non_compliant and review.escalation_level == 2
    assert review.suspended_request_id == request.id
    assert approval_streams.load_request(request.id).suspended
    assert not gate.assess_promotion(model_id=model.id, number=1).allowed


def test_steps_missed_by_a_late_scan_are_taken_together_in_order(cast, evidence_store):
    with clock.frozen(T0) as now:
        _, version, _ = approved_version(cast, evidence_store, "high")
        now.set(T0 + 40 * DAY)
        report = scan()
    assert (report.opened, report.steps) == (1, 4)
    review = PeriodicReview.objects.get(version_id=version.id)
    assert event_types(review.id)[-1] == "VersionMarkedNonCompliant"


def test_low_tier_review_is_flagged_not_suspended_when_grace_runs_out(cast, evidence_store):
    with clock.frozen(T0) as now:
        _, version, request = approved_version(cast, evidence_store, "low")
        now.set(T0 + 365 * DAY + 30 * DAY)
        scan()
    review = PeriodicReview.objects.get(version_id=version.id)
    assert review.flagged and not review.non_compliant
    assert event_types(review.id)[-1] == "ReviewFlagged"
    assert not approval_streams.load_request(request.id).suspended


def test_completed_review_anchors_the_next_cadence_when_a_member_completes_it(cast, evidence_store):
    with clock.frozen(T0) as now:
        _, version, _ = approved_version(cast, evidence_store, "high")
        now.set(T0 + 20 * DAY)
        scan()
        review = PeriodicReview.objects.get(version_id=version.id)
        state = reviews.complete_review(
            actor=actor_of(cast.reviewer("model-risk", 1)),
            review_id=str(review.id),
            board="model-risk",
            outcome="satisfactory",
            rationale="monitoring and drift within limits",
        )
        assert state.status == "completed" and not state.late
        with pytest.raises(ReviewClosed):
            reviews.complete_review(
                actor=actor_of(cast.reviewer("model-risk", 1)),
                review_id=str(review.id),
                board="model-risk",
                outcome="satisfactory",
                rationale="again",
            )
        now.set(T0 + 20 * DAY + 15 * DAY)
        assert scan().opened == 0
        now.set(T0 + 20 * DAY + 16 * DAY)
        assert scan().opened == 1
    second = PeriodicReview.objects.get(version_id=version.id, status="open")
    assert second.sequence == 2
    assert second.due_at == T0 + 50 * DAY


def test_completion_is_refused_when_the_actor_is_an_owner_or_not_on_the_board(cast, evidence_store):
    with clock.frozen(T0) as now:
        _, version, _ = approved_version(cast, evidence_store, "high")
        now.set(T0 + 20 * DAY)
        scan()
    review = PeriodicReview.objects.get(version_id=version.id)
    with pytest.raises(NotBoardMember):
        reviews.complete_review(
            actor=actor_of(cast.owner),
            review_id=str(review.id),
            board="model-risk",
            outcome="satisfactory",
            rationale="mine",
        )
    board_commands.add_board_member(
        actor=actor_of(cast.admin), board="model-risk", user_id=cast.owner.pk
    )
    with pytest.raises(SeparationOfDuties):
        reviews.complete_review(
            actor=actor_of(cast.owner),
            review_id=str(review.id),
            board="model-risk",
            outcome="satisfactory",
            rationale="mine",
        )
    assert governance_streams.load_review(review.id).status == "open"


def test_rebuild_reproduces_review_tables_when_replayed(pristine_ledger, cast, evidence_store):
    import io

    from django.core.management import call_command

    from eventstore.projection import checksum, registered_tables

    with clock.frozen(T0) as now:
        approved_version(cast, evidence_store, "high")
        now.set(T0 + 40 * DAY)
        scan()
    before = {m: checksum(m) for m in registered_tables()}
    assert PeriodicReview.objects.count() == 1
    call_command("rebuild_projections", "--no-progress", stdout=io.StringIO())
    assert {m: checksum(m) for m in registered_tables()} == before


def test_open_review_is_no_longer_chased_when_the_version_is_retired(cast, evidence_store):
    from registry import commands as registry

    with clock.frozen(T0) as now:
        _, version, _ = approved_version(cast, evidence_store, "high")
        now.set(T0 + 16 * DAY)
        scan()
        registry.transition_model_version(
            actor=actor_of(cast.owner),
            version_id=version.id,
            expected_version=None,
            to_status="retired",
            reason="replaced",
        )
        now.set(T0 + 40 * DAY)
        assert scan() == reviews.ScanReport(0, 0, 0)
    review = PeriodicReview.objects.get(version_id=version.id)
    assert event_types(review.id) == ["PeriodicReviewOpened"]
