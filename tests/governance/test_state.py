"""The governance folds, event by event: typed handlers return what changes and the fold stamps
the stream's id, creation, last update and version. Pure: no database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from eventstore.catalog import DomainEvent
from eventstore.types import RecordedEvent
from governance import events as ev
from governance.policy import upgrade_tiers
from governance.state import (
    EvidenceItem,
    EvidenceState,
    FindingState,
    IncidentState,
    PolicyState,
    ReviewState,
    RiskState,
    Waiver,
    evolve_evidence,
    evolve_finding,
    evolve_incident,
    evolve_policy,
    evolve_review,
    evolve_risk,
)
from tests.helpers.events import recorded

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
MODEL = str(uuid.uuid4())
VERSION = str(uuid.uuid4())


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def stream(*events: DomainEvent, actor: str = "user:1", stream_id: uuid.UUID | None = None):
    """The events as recorded in one stream, a minute apart, the first by `actor`."""
    stream_id = stream_id or uuid.uuid4()
    return [
        recorded(
            stream_id,
            version,
            e,
            actor if version == 1 else f"user:{version}",
            stream_type="tests.Governance",
            t0=T0,
        )
        for version, e in enumerate(events, start=1)
    ]


def stamped(recorded: list[RecordedEvent], created_by: str = "user:1") -> dict:
    return {
        "id": str(recorded[0].stream_id),
        "created_at": recorded[0].recorded_at,
        "created_by": created_by,
        "updated_at": recorded[-1].recorded_at,
        "stream_version": len(recorded),
    }


def test_policy_fold_keeps_the_latest_version_and_when_it_was_recorded():
    tiers = upgrade_tiers({})
    recorded = stream(
        ev.PolicyVersionRecorded(number=1, tiers=tiers, reason="seed"),
        ev.PolicyVersionRecorded(number=2, tiers=tiers, reason="stricter"),
        actor="system:seed",
    )
    state = evolve_policy.run(recorded)
    assert state == PolicyState(
        **stamped(recorded, "system:seed"),
        number=2,
        tiers=tiers,
        reason="stricter",
        recorded_at=at(2),
    )
    assert state.exists and not PolicyState().exists


def test_risk_fold_takes_the_intake_then_the_tier_then_a_suspension_and_its_lifting():
    answers = {"use_case": "credit limits", "personal_data": True}
    intake = ev.IntakeRecorded(
        model_id=MODEL, answers=answers, proposed_tier="high", policy_version=1
    )
    assigned = ev.RiskTierAssigned(
        model_id=MODEL,
        tier="critical",
        previous_tier="",
        proposed_tier="high",
        overridden=True,
        reason="affects many",
        policy_version=2,
    )
    recorded = stream(
        intake, assigned, ev.ModelSuspended(model_id=MODEL, reason="incident under review")
    )
    suspended = evolve_risk.run(recorded)
    assert suspended == RiskState(
        **stamped(recorded),
        model_id=MODEL,
        tier="critical",
        proposed_tier="high",
        answers=answers,
        overridden=True,
        reason="affects many",
        policy_version=2,
        suspended=True,
        suspension_reason="incident under review",
    )
    reinstated = evolve_risk.run(
        stream(intake, assigned, ev.ModelReinstated(model_id=MODEL, reason="fixed"))
    )
    assert not reinstated.suspended and reinstated.suspension_reason == ""


def test_risk_fold_started_from_the_model_id_names_it_before_any_event():
    assert evolve_risk.run([], RiskState(model_id=MODEL)).model_id == MODEL
    only_tier = stream(
        ev.RiskTierAssigned(
            model_id=MODEL,
            tier="low",
            previous_tier="",
            proposed_tier="",
            overridden=True,
            reason="no intake needed",
            policy_version=1,
        )
    )
    state = evolve_risk.run(only_tier)
    assert (state.model_id, state.tier, state.proposed_tier) == (MODEL, "low", "")


def test_evidence_fold_keeps_each_kind_attached_or_waived_with_who_and_when():
    common = {"model_id": MODEL, "version_id": VERSION, "version_number": 1}
    attached = ev.EvidenceAttached(
        **common,
        kind="model_card",
        key="evidence/x/1/model_card.md",
        uri="s3://bucket/x",
        sha256="a" * 64,
        size=12,
        summary={"intended_use": "limits"},
    )
    waived = ev.EvidenceWaived(
        **common,
        kind="dpia",
        reason="no personal data",
        expires_at="2026-06-01T00:00:00+00:00",
        board="model-risk",
    )
    recorded = stream(attached, waived)
    state = evolve_evidence.run(recorded)
    assert state == EvidenceState(
        **stamped(recorded),
        version_id=VERSION,
        items={
            "model_card": EvidenceItem(
                kind="model_card",
                sha256="a" * 64,
                uri="s3://bucket/x",
                size=12,
                summary={"intended_use": "limits"},
                recorded_at=at(1),
                stream_version=1,
            )
        },
        waivers={
            "dpia": Waiver(
                kind="dpia",
                reason="no personal data",
                expires_at=datetime(2026, 6, 1, tzinfo=UTC),
                granted_by="user:2",
                recorded_at=at(2),
                stream_version=2,
            )
        },
    )
    assert state.satisfied("model_card", at(3)) and state.satisfied("dpia", at(3))
    assert not state.satisfied("dpia", datetime(2026, 6, 2, tzinfo=UTC))


def _review_opened() -> ev.PeriodicReviewOpened:
    times = {
        name: (T0 + timedelta(days=days)).isoformat()
        for name, days in (
            ("anchor_at", 0),
            ("remind_at", 23),
            ("due_at", 30),
            ("escalate_at", 30),
            ("escalate_officer_at", 34),
            ("grace_ends_at", 37),
        )
    }
    return ev.PeriodicReviewOpened(
        model_id=MODEL,
        version_id=VERSION,
        version_number=1,
        sequence=1,
        tier="high",
        policy_version=3,
        boards=["model-risk", "legal"],
        overdue_action="suspend",
        suspend_approval=True,
        recipient_ids=[7],
        **times,
    )


def test_review_fold_opens_with_its_schedule_and_walks_through_its_steps():
    opened = _review_opened()
    request_id = str(uuid.uuid4())
    recorded = stream(
        opened,
        ev.ReviewReminderSent(due_at=opened.due_at, recipient_ids=[7]),
        ev.ReviewEscalated(level=1, escalated_to="board_chair", recipient_ids=[7]),
        ev.ReviewEscalated(level=2, escalated_to="model_risk_officer", recipient_ids=[8]),
        ev.VersionMarkedNonCompliant(
            model_id=MODEL,
            version_id=VERSION,
            version_number=1,
            reason="overdue",
            suspended_request_id=request_id,
        ),
        actor="system:scan",
    )
    state = evolve_review.run(recorded)
    assert state == ReviewState(
        **stamped(recorded, "system:scan"),
        model_id=MODEL,
        version_id=VERSION,
        version_number=1,
        sequence=1,
        tier="high",
        policy_version=3,
        boards=("model-risk", "legal"),
        anchor_at=T0,
        remind_at=T0 + timedelta(days=23),
        due_at=T0 + timedelta(days=30),
        escalate_at=T0 + timedelta(days=30),
        escalate_officer_at=T0 + timedelta(days=34),
        grace_ends_at=T0 + timedelta(days=37),
        overdue_action="suspend",
        suspend_approval=True,
        steps_done=frozenset({"remind", "escalate_chair", "escalate_officer", "overdue"}),
        reminded=True,
        escalation_level=2,
        non_compliant=True,
        suspended_request_id=request_id,
        opened_at=at(1),
    )
    assert state.exists and state.opened_at == state.created_at


def test_review_fold_completes_with_the_board_outcome_and_who_completed_it():
    recorded = stream(
        _review_opened(),
        ev.ReviewFlagged(reason="overdue"),
        ev.ReviewCompleted(
            board="model-risk", reviewer_id=9, outcome="satisfactory", rationale="ok", late=True
        ),
    )
    state = evolve_review.run(recorded)
    assert (state.status, state.completed_at, state.completed_by) == ("completed", at(3), 9)
    assert (state.board, state.outcome, state.rationale, state.late) == (
        "model-risk",
        "satisfactory",
        "ok",
        True,
    )
    assert state.flagged and not state.reminded and state.steps_done == {"overdue"}
    assert state.updated_at == at(3) and state.opened_at == at(1)


def _finding(version_id: str = VERSION, version_number: int = 1) -> ev.FindingOpened:
    return ev.FindingOpened(
        model_id=MODEL,
        version_id=version_id,
        version_number=version_number,
        source="bias_audit",
        source_id=str(uuid.uuid4()),
        title="disparate impact below 0.8",
        severity="high",
        owner_team="fraud-ml",
        boards=["model-risk"],
        due_at=(T0 + timedelta(days=30)).isoformat(),
    )


def test_finding_fold_opens_and_closes_with_the_resolution():
    opened = _finding()
    recorded = stream(
        opened, ev.FindingClosed(reviewer_id=9, resolution="retrained", evidence="audit 2")
    )
    state = evolve_finding.run(recorded)
    assert state == FindingState(
        **stamped(recorded),
        model_id=MODEL,
        version_id=VERSION,
        version_number=1,
        source="bias_audit",
        source_id=opened.source_id,
        title=opened.title,
        severity="high",
        owner_team="fraud-ml",
        boards=("model-risk",),
        due_at=T0 + timedelta(days=30),
        status="closed",
        opened_at=at(1),
        closed_at=at(2),
        closed_by=9,
        resolution="retrained",
        evidence="audit 2",
    )


def test_finding_about_the_model_as_a_whole_has_no_version():
    state = evolve_finding.run(stream(_finding(version_id="", version_number=0)))
    assert (state.version_id, state.version_number, state.status) == (None, None, "open")
    assert state.exists and not FindingState().exists


def _incident(**changes) -> ev.IncidentReported:
    values = {
        "model_id": MODEL,
        "version_id": VERSION,
        "version_number": 1,
        "title": "limits set to zero",
        "description": "a pipeline fault",
        "occurred_at": (T0 - timedelta(hours=2)).isoformat(),
        "became_aware_at": T0.isoformat(),
        "classes": ["serious"],
        "tier": "high",
        "policy_version": 4,
        "clock_applies": True,
        "deadline_at": (T0 + timedelta(days=15)).isoformat(),
        "reminder_times": [(T0 + timedelta(days=d)).isoformat() for d in (7, 14)],
        "owner_team": "fraud-ml",
        "reporter_id": 5,
        "recipient_ids": [5, 7],
    }
    return ev.IncidentReported(**{**values, **changes})


def test_incident_fold_runs_the_clock_to_overdue_then_the_report_and_closure():
    finding_id = str(uuid.uuid4())
    deadline = (T0 + timedelta(days=15)).isoformat()
    recorded = stream(
        _incident(),
        ev.IncidentReportDeadlineReminderSent(reminder=2, deadline_at=deadline, recipient_ids=[5]),
        # A reminder recorded after a later one does not move the count back.
        ev.IncidentReportDeadlineReminderSent(reminder=1, deadline_at=deadline, recipient_ids=[5]),
        ev.IncidentReportOverdue(deadline_at=deadline, finding_id=finding_id, recipient_ids=[7]),
        ev.IncidentReportedToAuthority(
            recorded_by=7,
            reported_at=(T0 + timedelta(days=16)).isoformat(),
            authority="MSA",
            reference="MSA-1",
            late=True,
        ),
        ev.IncidentClosed(closed_by=7, resolution="fixed", no_report_reason=""),
    )
    state = evolve_incident.run(recorded)
    assert state == IncidentState(
        **stamped(recorded),
        model_id=MODEL,
        version_id=VERSION,
        version_number=1,
        title="limits set to zero",
        description="a pipeline fault",
        occurred_at=T0 - timedelta(hours=2),
        became_aware_at=T0,
        classes=("serious",),
        tier="high",
        policy_version=4,
        clock_applies=True,
        deadline_at=T0 + timedelta(days=15),
        reminder_times=(T0 + timedelta(days=7), T0 + timedelta(days=14)),
        owner_team="fraud-ml",
        reported_by=5,
        status="closed",
        reminders_sent=2,
        overdue=True,
        finding_id=finding_id,
        authority_reported_at=T0 + timedelta(days=16),
        authority_recorded_by=7,
        authority="MSA",
        authority_reference="MSA-1",
        reported_late=True,
        closed_at=at(6),
        closed_by=7,
        resolution="fixed",
        opened_at=at(1),
    )
    assert state.reported_to_authority


def test_incident_without_a_clock_or_a_version_has_no_deadline_and_no_version():
    recorded = stream(
        _incident(
            version_id="",
            version_number=0,
            clock_applies=False,
            deadline_at="",
            reminder_times=[],
        )
    )
    state = evolve_incident.run(recorded)
    assert (state.version_id, state.version_number) == (None, None)
    assert (state.deadline_at, state.reminder_times) == (None, ())
    assert not state.reported_to_authority and state.exists
