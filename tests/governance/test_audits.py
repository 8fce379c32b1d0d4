"""Bias audits through the commands: the policy's fairness thresholds, the result recorded as
an event, a finding for the owners and the ethics board when it fails (closed only with
evidence by a reviewer), and scheduled audits on the tier's cadence from attached evidence."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from approvals.errors import NotBoardMember
from core import clock
from core.actors import Actor
from core.errors import InvalidInput
from eventstore import store
from governance import audits
from governance import commands as governance
from governance.errors import FindingClosed, NoEvaluationData, NotAuditor
from governance.models import BiasAudit, Finding
from tests.approvals.conftest import actor_of, upload
from tests.conftest import make_user
from tests.governance.cadence_helpers import approved_version

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SPEC = {"attributes": ["sex"], "label": "label", "prediction": "prediction"}


def rows(rate_a: float, rate_b: float, n: int = 100) -> list[dict]:
    """n rows per group; the first rate*n of each group are selected, labels alternate."""
    out = []
    for group, rate in (("a", rate_a), ("b", rate_b)):
        for i in range(n):
            out.append({"sex": group, "label": i % 2, "prediction": 1 if i < rate * n else 0})
    return out


def test_failing_audit_records_result_and_opens_a_finding_for_owners_and_ethics(
    cast, evidence_store
):
    model, _, _ = approved_version(cast, evidence_store, "high")
    outcome = audits.run_bias_audit(
        actor=actor_of(cast.owner), model_id=model.id, number=1, spec=SPEC, rows=rows(0.8, 0.3)
    )
    audit = outcome.audit
    assert audit.verdict == "fail" and audit.rows == 200 and audit.tier == "high"
    (sex,) = audit.result["slices"]
    assert sex["reference_group"] == "a"
    b = next(g for g in sex["groups"] if g["group"] == "b")
    assert b["disparate_impact_ratio"] == pytest.approx(0.3 / 0.8)
    assert b["counts"]["n"] == 100 and b["checks"]["disparate_impact_ratio"] == "fail"
    assert audit.result["spec"]["thresholds"]["min_disparate_impact_ratio"] == 0.8
    finding = Finding.objects.get(id=outcome.finding_id)
    assert finding.owner_team == "fraud-ml" and finding.boards == ["ethics"]
    assert finding.severity == "high" and finding.status == "open"
    assert finding.source_id == str(audit.id)


def test_passing_audit_opens_no_finding_and_uses_the_policy_thresholds(cast, evidence_store):
    model, _, _ = approved_version(cast, evidence_store, "high")
    officer = actor_of(cast.officer)
    governance.record_policy_version(
        actor=actor_of(cast.admin),
        changes={
            "high": {
                "fairness_thresholds": {
                    **governance.policy.FAIRNESS_THRESHOLDS,
                    "min_disparate_impact_ratio": 0.3,
                    "min_statistical_parity_difference": -0.6,
                    "max_equalized_odds_difference": 0.6,
                }
            }
        },
        reason="looser thresholds for this test",
    )
    outcome = audits.run_bias_audit(
        actor=officer, model_id=model.id, number=1, spec=SPEC, rows=rows(0.8, 0.3)
    )
    assert outcome.audit.verdict == "pass" and outcome.finding_id is None
    assert outcome.audit.policy_version == 2
    assert not Finding.objects.exists()


def test_audit_is_refused_and_nothing_recorded_when_input_is_wrong(cast, evidence_store):
    model, _, _ = approved_version(cast, evidence_store, "high")
    owner = actor_of(cast.owner)
    with pytest.raises(InvalidInput):
        audits.run_bias_audit(
            actor=owner,
            model_id=model.id,
            number=1,
            spec={**SPEC, "thresholds": {"min_group_size": 1}},
            rows=rows(0.5, 0.5),
        )
    with pytest.raises(NoEvaluationData):
        audits.run_bias_audit(
            actor=owner, model_id=model.id, number=1, spec=SPEC, use_evidence=True
        )
    with pytest.raises(NotAuditor):
        audits.run_bias_audit(
            actor=actor_of(make_user("oscar-outsider")),
            model_id=model.id,
            number=1,
            spec=SPEC,
            rows=rows(0.5, 0.5),
        )
    assert not BiasAudit.objects.exists()


def test_finding_closes_only_with_evidence_by_a_board_reviewer(cast, evidence_store):
    model, _, _ = approved_version(cast, evidence_store, "high")
    outcome = audits.run_bias_audit(
        actor=actor_of(cast.owner), model_id=model.id, number=1, spec=SPEC, rows=rows(0.8, 0.3)
    )
    with pytest.raises(NotBoardMember):
        audits.close_finding(
            actor=actor_of(cast.owner),
            finding_id=outcome.finding_id,
            resolution="retrained",
            evidence="s3://x",
        )
    eli = actor_of(cast.reviewer("ethics"))
    with pytest.raises(InvalidInput):
        audits.close_finding(
            actor=eli, finding_id=outcome.finding_id, resolution="retrained", evidence=" "
        )
    closed = audits.close_finding(
        actor=eli,
        finding_id=outcome.finding_id,
        resolution="retrained with reweighing; version 2 passes",
        evidence="bias audit 2 of version 2",
    )
    assert closed.status == "closed" and closed.closed_by == cast.reviewer("ethics").pk
    with pytest.raises(FindingClosed):
        audits.close_finding(
            actor=eli, finding_id=outcome.finding_id, resolution="again", evidence="x"
        )


def _attach_evaluation_data(cast, evidence_store, model, version, data: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["sex", "label", "prediction"])
    writer.writeheader()
    writer.writerows(data)
    document = upload(
        evidence_store, version, "evaluation_data", buffer.getvalue().encode(), "eval.csv"
    )
    governance.attach_evidence(
        actor=actor_of(cast.owner),
        model_id=model.id,
        number=1,
        kind="evaluation_data",
        summary={"audit_spec": SPEC},
        **document,
    )


def test_scheduled_audit_runs_once_per_cadence_from_the_attached_evaluation_data(
    cast, evidence_store
):
    with clock.frozen(T0) as now:
        model, version, _ = approved_version(cast, evidence_store, "high")
        _attach_evaluation_data(cast, evidence_store, model, version, rows(0.8, 0.3))
        scan = Actor.system("governance.scan_reviews")
        now.set(T0 + 29 * DAY)
        assert audits.scan_bias_audits(actor=scan).ran == 0
        now.set(T0 + 30 * DAY)
        assert audits.scan_bias_audits(actor=scan).ran == 1
        # A second scan of the same period (a redelivered task) records nothing.
        assert audits.scan_bias_audits(actor=scan, now=T0 + 30 * DAY).ran == 0
        assert audits.scan_bias_audits(actor=scan).ran == 0
        now.set(T0 + 60 * DAY)
        assert audits.scan_bias_audits(actor=scan).ran == 1
    scheduled = BiasAudit.objects.filter(version_id=version.id, trigger="scheduled")
    assert scheduled.count() == 2
    assert {a.source for a in scheduled} == {"evidence"}
    assert Finding.objects.filter(version_id=version.id).count() == 2
    first = scheduled.order_by("recorded_at").first()
    assert [e.type for e in store.read_stream(first.id)] == ["governance.BiasAuditCompleted"]
