"""The fold of an approval request (approvals.state.evolve_request), pure: recorded events in,
state out, no database."""

from __future__ import annotations

import inspect
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from approvals import events as ev
from approvals.state import Decision, RequestState, evolve_request
from eventstore.catalog import DomainEvent
from eventstore.types import RecordedEvent
from tests.helpers.events import recorded as helper_recorded

STREAM = uuid.uuid4()
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MODEL, VERSION = str(uuid.uuid4()), str(uuid.uuid4())


def at(version: int) -> datetime:
    return T0 + timedelta(minutes=version)


def recorded(version: int, e: DomainEvent, actor: str = "user:7") -> RecordedEvent:
    return helper_recorded(STREAM, version, e, actor, stream_type=ev.REQUEST, t0=T0)


REQUESTED = ev.ApprovalRequested(
    model_id=MODEL,
    version_id=VERSION,
    version_number=3,
    target="production",
    requester_id=7,
    tier="high",
    policy_version=2,
    required_evidence=["model_card", "dpia"],
    boards={"model-risk": 2, "legal": 1},
    validity_days=90,
    notes="please",
)


def decided(board: str, reviewer: int, decision: str = "approve", evidence: int = 4):
    return ev.ReviewDecisionRecorded(
        board=board,
        reviewer_id=reviewer,
        decision=decision,
        rationale=f"{decision} by {reviewer}",
        conditions=["monitor drift"] if reviewer == 11 else [],
        evidence_version=evidence,
    )


def test_the_request_opens_with_its_policy_and_the_stamps_of_its_first_event():
    state = evolve_request.run([recorded(1, REQUESTED, actor="user:7")])
    assert state == RequestState(
        id=str(STREAM),
        created_at=at(1),
        created_by="user:7",
        updated_at=at(1),
        stream_version=1,
        model_id=MODEL,
        version_id=VERSION,
        version_number=3,
        target="production",
        requester_id=7,
        tier="high",
        policy_version=2,
        required_evidence=("model_card", "dpia"),
        boards={"model-risk": 2, "legal": 1},
        validity_days=90,
        notes="please",
        status="open",
    )
    assert state.exists
    assert not RequestState().exists


def test_decisions_accumulate_in_order_and_a_grant_records_its_terms():
    expires = at(5) + timedelta(days=90)
    events = [
        recorded(1, REQUESTED),
        recorded(2, decided("model-risk", 11), actor="user:11"),
        recorded(3, decided("model-risk", 12), actor="user:12"),
        recorded(4, decided("legal", 13), actor="user:13"),
        recorded(
            5,
            ev.ApprovalGranted(
                expires_at=expires.isoformat(), conditions=["monitor drift"], evidence_version=4
            ),
            actor="user:13",
        ),
    ]
    state = evolve_request.run(events)
    assert [d.seq for d in state.decisions] == [2, 3, 4]
    assert state.decisions[0] == Decision(
        seq=2,
        board="model-risk",
        reviewer_id=11,
        decision="approve",
        rationale="approve by 11",
        conditions=("monitor drift",),
        evidence_version=4,
        recorded_at=at(2),
    )
    assert state.status == "approved"
    assert (state.granted_at, state.expires_at) == (at(5), expires)
    assert state.granted_evidence_version == 4
    assert state.conditions == ("monitor drift",)
    # Created by the requester at the first event; later events only move the update stamps.
    assert (state.created_at, state.created_by) == (at(1), "user:7")
    assert (state.updated_at, state.stream_version) == (at(5), 5)


def test_suspension_reinstatement_and_a_void_reset_what_they_own():
    expires = at(3) + timedelta(days=90)
    granted = evolve_request.run(
        [
            recorded(1, REQUESTED),
            recorded(2, decided("model-risk", 11)),
            recorded(
                3,
                ev.ApprovalGranted(
                    expires_at=expires.isoformat(), conditions=["c"], evidence_version=4
                ),
            ),
        ]
    )
    suspended = evolve_request(granted, recorded(4, ev.ApprovalSuspended(reason="incident")))
    assert (suspended.suspended, suspended.suspension_reason) == (True, "incident")
    assert suspended.status == "approved"
    reinstated = evolve_request(suspended, recorded(5, ev.ApprovalReinstated(reason="fixed")))
    assert (reinstated.suspended, reinstated.suspension_reason) == (False, "")
    voided = evolve_request(
        reinstated,
        recorded(
            6,
            ev.ApprovalVoided(
                evidence_version=6, previous_status="approved", voided_decisions=1, reason="new"
            ),
        ),
    )
    assert voided.status == "open"
    assert (voided.granted_at, voided.expires_at, voided.granted_evidence_version) == (
        None,
        None,
        None,
    )
    assert voided.conditions == ()
    assert voided.voided_evidence_version == 6
    # The decisions stay in the state (the rules skip those on voided evidence).
    assert len(voided.decisions) == 1
    assert (voided.updated_at, voided.stream_version) == (at(6), 6)


@pytest.mark.parametrize(
    ("closing", "status"),
    [
        (ev.ApprovalRejected(board="legal", reviewer_id=13), "rejected"),
        (ev.ChangesRequested(board="legal", reviewer_id=13), "changes_requested"),
        (ev.ApprovalWithdrawn(reason="not ready"), "withdrawn"),
    ],
)
def test_rejection_changes_and_withdrawal_set_the_status(closing, status):
    state = evolve_request.run([recorded(1, REQUESTED), recorded(2, closing)])
    assert state.status == status
    assert (state.updated_at, state.stream_version) == (at(2), 2)


def test_the_fold_handles_every_event_class_of_approvals():
    declared = {
        cls
        for _, cls in inspect.getmembers(ev, inspect.isclass)
        if issubclass(cls, DomainEvent) and cls.__module__ == ev.__name__
    }
    assert declared
    assert set(evolve_request.handles()) == declared
    assert [cls for cls in declared if evolve_request.opens(cls.event_type)] == [
        ev.ApprovalRequested
    ]
