"""Every governance and approval event type round-trips through the log, and a replay of a
whole workflow rebuilds the same read tables."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.management import call_command

from approvals import events as aev
from boards import events as bev
from eventstore import catalog, store
from eventstore.projection import checksum, registered_tables
from eventstore.types import NO_STREAM, StreamRef
from governance import events as gev
from tests.approvals.conftest import actor_of, approve, governed_version

M = str(uuid.uuid4())
V = str(uuid.uuid4())
SAMPLES = [
    gev.PolicyVersionRecorded(number=900, tiers={"low": {"boards": {"model-risk": 1}}}, reason="r"),
    gev.IntakeRecorded(
        model_id=M, answers={"personal_data": True}, proposed_tier="medium", policy_version=1
    ),
    gev.RiskTierAssigned(
        model_id=M,
        tier="high",
        previous_tier="",
        proposed_tier="medium",
        overridden=True,
        reason="why",
        policy_version=1,
    ),
    gev.RiskTierReopened(model_id=M, previous_tier="high"),
    gev.ModelSuspended(model_id=M, reason="incident"),
    gev.ModelReinstated(model_id=M, reason="fixed"),
    gev.EvidenceAttached(
        model_id=M,
        version_id=V,
        version_number=1,
        kind="model_card",
        key="evidence/m/1/model_card.doc",
        uri="file:///x",
        sha256="0" * 64,
        size=3,
        summary={"name": "x"},
    ),
    gev.EvidenceTamperDetected(
        model_id=M,
        version_id=V,
        version_number=1,
        kind="evaluation_data",
        key="evidence/m/1/" + "0" * 64 + "/evaluation_data.eval.csv",
        recorded_sha256="0" * 64,
        found_sha256="1" * 64,
        found_size=3,
    ),
    gev.EvidenceWaived(
        model_id=M,
        version_id=V,
        version_number=1,
        kind="bias_audit",
        reason="later",
        expires_at="2027-01-01T00:00:00+00:00",
        board="model-risk",
    ),
    gev.PeriodicReviewOpened(
        model_id=M,
        version_id=V,
        version_number=1,
        sequence=1,
        tier="high",
        policy_version=1,
        boards=["ethics", "legal", "model-risk"],
        anchor_at="2026-01-01T00:00:00+00:00",
        remind_at="2026-01-24T00:00:00+00:00",
        due_at="2026-01-31T00:00:00+00:00",
        escalate_at="2026-01-31T00:00:00+00:00",
        escalate_officer_at="2026-02-04T00:00:00+00:00",
        grace_ends_at="2026-02-07T00:00:00+00:00",
        overdue_action="non_compliant",
        suspend_approval=True,
        recipient_ids=[4, 5],
    ),
    gev.ReviewReminderSent(due_at="2026-01-31T00:00:00+00:00", recipient_ids=[4, 5]),
    gev.ReviewEscalated(level=1, escalated_to="board_chair", recipient_ids=[5]),
    gev.ReviewFlagged(reason="overdue beyond grace"),
    gev.VersionMarkedNonCompliant(
        model_id=M, version_id=V, version_number=1, reason="overdue", suspended_request_id=""
    ),
    gev.ReviewCompleted(
        board="model-risk", reviewer_id=5, outcome="satisfactory", rationale="ok", late=True
    ),
    gev.BiasAuditCompleted(
        model_id=M,
        version_id=V,
        version_number=1,
        trigger="scheduled",
        source="evidence",
        evidence_sha256="0" * 64,
        tier="high",
        policy_version=1,
        verdict="fail",
        rows=200,
        result={"rows": 200, "verdict": "fail", "slices": [{"name": "sex", "groups": []}]},
    ),
    gev.FindingOpened(
        model_id=M,
        version_id=V,
        version_number=1,
        source="bias_audit",
        source_id=str(uuid.uuid4()),
        title="bias audit failed: sex",
        severity="high",
        owner_team="fraud-ml",
        boards=["ethics"],
        due_at="2026-02-01T00:00:00+00:00",
    ),
    gev.FindingRemediated(note="retrained on reweighted data", evidence="version 2's audit"),
    gev.FindingRiskAccepted(
        reviewer_id=8,
        reason="compensating control in place",
        expires_at="2026-06-01T00:00:00+00:00",
    ),
    gev.FindingClosed(reviewer_id=8, resolution="retrained", evidence="audit of version 2"),
    gev.IncidentReported(
        model_id=M,
        version_id=V,
        version_number=1,
        title="wrong triage priority",
        description="urgent cases were ranked low for six hours",
        occurred_at="2026-01-01T08:00:00+00:00",
        became_aware_at="2026-01-01T10:00:00+00:00",
        classes=["serious", "death"],
        tier="critical",
        policy_version=1,
        clock_applies=True,
        deadline_at="2026-01-11T10:00:00+00:00",
        reminder_times=["2026-01-06T10:00:00+00:00", "2026-01-10T10:00:00+00:00"],
        owner_team="fraud-ml",
        reporter_id=3,
        recipient_ids=[3, 4],
    ),
    gev.IncidentReportDeadlineReminderSent(
        reminder=1, deadline_at="2026-01-11T10:00:00+00:00", recipient_ids=[3, 4]
    ),
    gev.IncidentReportOverdue(
        deadline_at="2026-01-11T10:00:00+00:00", finding_id=str(uuid.uuid4()), recipient_ids=[5]
    ),
    gev.IncidentReportedToAuthority(
        recorded_by=6,
        reported_at="2026-01-09T10:00:00+00:00",
        authority="national market surveillance authority",
        reference="MSA-2026-0042",
        late=False,
    ),
    gev.IncidentClosed(closed_by=6, resolution="model rolled back", no_report_reason=""),
    bev.BoardCreated(name="sample-board", title="A sample board"),
    bev.BoardMemberAdded(user_id=4),
    bev.BoardMemberRemoved(user_id=4),
    bev.BoardChairAppointed(user_id=5, previous_user_id=None),
    aev.ApprovalRequested(
        model_id=M,
        version_id=V,
        version_number=1,
        target="production",
        requester_id=3,
        tier="low",
        policy_version=1,
        required_evidence=["model_card"],
        boards={"model-risk": 1},
        validity_days=365,
        notes="",
    ),
    aev.ReviewDecisionRecorded(
        board="model-risk",
        reviewer_id=5,
        decision="approve",
        rationale="ok",
        conditions=["monitor drift"],
        evidence_version=2,
    ),
    aev.ApprovalGranted(
        expires_at="2027-01-01T00:00:00+00:00", conditions=["monitor drift"], evidence_version=2
    ),
    aev.ApprovalRejected(board="legal", reviewer_id=6),
    aev.ChangesRequested(board="ethics", reviewer_id=7),
    aev.ApprovalWithdrawn(reason="not ready"),
    aev.ApprovalSuspended(reason="overdue"),
    aev.ApprovalReinstated(reason="reviewed"),
    aev.ApprovalVoided(
        evidence_version=4,
        previous_status="approved",
        voided_decisions=2,
        reason="the evidence changed after decisions were given",
    ),
    aev.ApprovalRequestVoided(tier="high", previous_status="approved", reason="re-tiered"),
]


def test_every_event_type_of_governance_and_approvals_has_a_sample():
    ours = {t for t in catalog.registered_types() if t.split(".")[0] in ("governance", "approvals")}
    assert ours == {e.event_type for e in SAMPLES}


@pytest.mark.django_db
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda e: e.event_type)
def test_event_round_trips_when_appended_and_read(sample, meta, no_reactions):
    stream = StreamRef(uuid.uuid4(), "test.RoundTrip")
    store.append(stream, NO_STREAM, [sample], meta)
    (recorded,) = store.read_stream(stream.id)
    assert recorded.type == sample.event_type
    assert recorded.schema_version == sample.schema_version
    assert catalog.decode(recorded) == sample


def test_rebuild_reproduces_governance_and_approval_tables_when_replayed(
    pristine_ledger, cast, evidence_store
):
    model, _ = governed_version(cast, evidence_store, "medium", "replayed")
    from approvals import commands as approvals

    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    approve(cast, request.id, "model-risk", 1)
    before = {m: checksum(m) for m in registered_tables()}
    call_command("rebuild_projections", "--no-progress", stdout=io.StringIO())
    assert {m: checksum(m) for m in registered_tables()} == before
