"""Governance read tables against the log: every row of a snapshot table (periodic reviews,
findings) is the fold of its stream, after a scenario through the commands; and every
governance event class writes some read table or is listed as projecting nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import clock
from core.actors import Actor
from eventstore import store
from eventstore.catalog import DomainEvent
from eventstore.projection import projectors_for
from eventstore.snapshots import registered_snapshots
from governance import commands
from governance import events as ev
from governance.models import Finding, PeriodicReview
from governance.state import (
    evolve_evidence,
    evolve_finding,
    evolve_incident,
    evolve_policy,
    evolve_review,
    evolve_risk,
)
from tests.approvals.conftest import actor_of
from tests.governance.helpers import approved_version

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SCAN = Actor.system("tests.snapshots")
SPEC = {"attributes": ["sex"], "label": "label", "prediction": "prediction"}

FOLDS = (
    evolve_policy,
    evolve_risk,
    evolve_evidence,
    evolve_review,
    evolve_finding,
    evolve_incident,
)
# Event classes no fold handles, and why.
NOT_FOLDED = {
    ev.BiasAuditCompleted: "an audit is one event, read from its BiasAudit row",
    ev.EvidenceTamperDetected: "a detection opens a finding, which is what is read",
}
# Event classes no projector writes to a read table, and why.
NOT_PROJECTED: dict[type[DomainEvent], str] = {
    ev.EvidenceTamperDetected: "a detection opens a finding, which is what is read",
}


def governance_events() -> list[type[DomainEvent]]:
    return [
        value
        for value in vars(ev).values()
        if isinstance(value, type)
        and issubclass(value, DomainEvent)
        and getattr(value, "event_type", "").startswith("governance.")
    ]


def _rows(n: int = 100) -> list[dict]:
    # Group a is selected at 0.8, group b at 0.3: the audit fails on disparate impact.
    return [
        {"sex": group, "label": i % 2, "prediction": 1 if i < rate * n else 0}
        for group, rate in (("a", 0.8), ("b", 0.3))
        for i in range(n)
    ]


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def _scenario(cast, evidence_store) -> None:
    """Reviews opened, completed, escalated to non-compliance and flagged; a finding from a
    failed audit (closed) and one from an overdue incident report (model-wide, open)."""
    with clock.frozen(T0) as now:
        high, _, _ = approved_version(cast, evidence_store, "high")
        approved_version(cast, evidence_store, "low")
        now.set(T0 + 20 * DAY)
        commands.scan_reviews(actor=SCAN)
        first = PeriodicReview.objects.get(model_id=high.id, status="open")
        commands.complete_review(
            actor=actor_of(cast.reviewer("model-risk", 1)),
            review_id=str(first.id),
            board="model-risk",
            outcome="changes_required",
            rationale="drift above the limit; retrain",
        )
        outcome = commands.run_bias_audit(
            actor=actor_of(cast.owner), model_id=high.id, number=1, spec=SPEC, rows=_rows()
        )
        commands.close_finding(
            actor=actor_of(cast.reviewer("ethics")),
            finding_id=outcome.finding_id,
            resolution="retrained with reweighing",
            evidence="bias audit of version 2",
        )
        commands.report_incident(
            actor=actor_of(cast.owner),
            model_id=high.id,
            title="limits set to zero",
            description="a feature pipeline fault zeroed limits",
            occurred_at=T0 + 20 * DAY - timedelta(hours=2),
            became_aware_at=T0 + 20 * DAY,
            classes=["widespread"],
        )
        now.set(T0 + 24 * DAY)
        commands.scan_incidents(actor=SCAN)
        now.set(T0 + 420 * DAY)
        commands.scan_reviews(actor=SCAN)


@pytest.mark.django_db
def test_every_snapshot_row_is_the_fold_of_its_stream(cast, evidence_store):
    _scenario(cast, evidence_store)
    governance = [s for s in registered_snapshots() if s.model._meta.app_label == "governance"]
    assert {s.model for s in governance} == {PeriodicReview, Finding}
    for spec in governance:
        rows = list(spec.model.objects.values(*spec.columns))
        assert rows, spec.model
        for row in rows:
            state, _ = store.load(row["id"], spec.fold, spec.fold.initial())
            expected = {name: _plain(value) for name, value in spec.row_of(state).items()}
            assert {name: _plain(value) for name, value in row.items()} == expected
    reviewed = PeriodicReview.objects.values_list("status", "non_compliant", "flagged")
    assert {("completed", False, False), ("open", True, False), ("open", False, True)} <= set(
        reviewed
    )
    assert set(Finding.objects.values_list("status", flat=True)) == {"open", "closed"}
    assert Finding.objects.filter(version_id__isnull=True).exists()


def test_every_governance_event_is_folded_and_projected_or_listed_as_not():
    nothing = len(projectors_for("tests.NoSuchEvent"))  # projectors of every event
    folded = {cls for fold in FOLDS for cls in fold.handles()}
    classes = governance_events()
    assert len(classes) >= 20
    for cls in classes:
        projected = len(projectors_for(cls.event_type)) > nothing
        assert projected != (cls in NOT_PROJECTED), cls.event_type
        assert (cls in folded) != (cls in NOT_FOLDED), cls.event_type
