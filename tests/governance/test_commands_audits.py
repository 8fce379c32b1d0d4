"""Bias audits through the commands: the policy's fairness thresholds, the result recorded as
an event, a finding for the owners and the ethics board when it fails (closed only with
evidence by a reviewer), scheduled audits on the tier's cadence from attached evidence, and
an audit of every new version whose tier asks for it, queued when its evaluation data is
attached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from boards.errors import NotBoardMember
from core import clock
from core.actors import Actor
from core.errors import InvalidInput
from eventstore import store
from eventstore.models import Event, OutboxMessage
from governance import commands as governance
from governance import policy, tasks
from governance.commands import audits, findings
from governance.errors import FindingClosed, NoEvaluationData, NotAuditor
from governance.models import BiasAudit, Finding
from registry import streams as registry_streams
from tests.approvals.conftest import actor_of, governed_version, unique_name, upload
from tests.conftest import make_user
from tests.governance.helpers import (
    SPEC,
    approved_version,
    as_csv,
    attach_evaluation_data,
    rows,
)

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_failing_audit_records_result_and_opens_a_finding_for_owners_and_ethics(
    cast, evidence_store
):
    model, _, _ = approved_version(cast, evidence_store, "high", audited=False)
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
    model, _, _ = approved_version(cast, evidence_store, "high", audited=False)
    officer = actor_of(cast.officer)
    governance.record_policy_version(
        actor=actor_of(cast.admin),
        changes={
            "high": {
                "fairness_thresholds": {
                    **policy.FAIRNESS_THRESHOLDS,
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
    model, _, _ = approved_version(cast, evidence_store, "high", audited=False)
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
    model, _, _ = approved_version(cast, evidence_store, "high", audited=False)
    outcome = audits.run_bias_audit(
        actor=actor_of(cast.owner), model_id=model.id, number=1, spec=SPEC, rows=rows(0.8, 0.3)
    )
    with pytest.raises(NotBoardMember):
        findings.close_finding(
            actor=actor_of(cast.owner),
            finding_id=outcome.finding_id,
            resolution="retrained",
            evidence="s3://x",
        )
    eli = actor_of(cast.reviewer("ethics"))
    with pytest.raises(InvalidInput):
        findings.close_finding(
            actor=eli, finding_id=outcome.finding_id, resolution="retrained", evidence=" "
        )
    closed = findings.close_finding(
        actor=eli,
        finding_id=outcome.finding_id,
        resolution="retrained with reweighing; version 2 passes",
        evidence="bias audit 2 of version 2",
    )
    assert closed.status == "closed" and closed.closed_by == cast.reviewer("ethics").pk
    with pytest.raises(FindingClosed):
        findings.close_finding(
            actor=eli, finding_id=outcome.finding_id, resolution="again", evidence="x"
        )


def test_scheduled_audit_runs_once_per_cadence_from_the_attached_evaluation_data(
    cast, evidence_store
):
    with clock.frozen(T0) as now:
        _, version, _ = approved_version(
            cast,
            evidence_store,
            "high",
            before_request=lambda model, version: attach_evaluation_data(
                cast, evidence_store, model, version, rows(0.8, 0.3)
            ),
        )
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


# -- audits of every new version (critical tier) ----------------------------------------


def _new_version_messages(version) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(
            task=tasks.AUDIT_NEW_VERSION, kwargs__version_id=str(version.id)
        ).order_by("created_at")
    )


def _deliver(message: OutboxMessage):
    """Run the queued task's body here, under the outbox message's id as a worker would."""
    return tasks.audit_new_version.apply(kwargs=message.kwargs, task_id=str(message.id)).get()


def _new_version(cast, evidence_store, tier: str):
    model, version = governed_version(
        cast, evidence_store, tier, unique_name(f"{tier}-model"), audited=False
    )
    return model, version


def test_new_version_of_a_critical_model_is_audited_once_when_evaluation_data_is_attached(
    cast, evidence_store
):
    model, version = _new_version(cast, evidence_store, "critical")
    assert registry_streams.load_version(version.id).status == "draft"
    attach_evaluation_data(cast, evidence_store, model, version, rows(0.8, 0.3))
    (message,) = _new_version_messages(version)
    evidence = audits.evaluation_evidence(str(version.id))
    assert message.kwargs == {"version_id": str(version.id), "evidence_sha256": evidence.sha256}

    audit_id = _deliver(message)
    (audit,) = BiasAudit.objects.filter(version_id=version.id)
    assert str(audit.id) == audit_id
    assert audit.trigger == "new_version" and audit.source == "evidence"
    assert audit.evidence_sha256 == evidence.sha256 and audit.tier == "critical"
    assert audit.verdict == "fail"
    (finding,) = Finding.objects.filter(version_id=version.id)
    assert finding.source_id == str(audit.id) and finding.severity == "critical"

    # The task delivered again (a redelivery, or the relay publishing twice) records nothing.
    before = Event.objects.count()
    assert _deliver(message) == audit_id
    assert Event.objects.count() == before
    assert BiasAudit.objects.filter(version_id=version.id).count() == 1
    assert Finding.objects.filter(version_id=version.id).count() == 1


def test_same_evaluation_data_attached_again_is_audited_once(cast, evidence_store):
    model, version = _new_version(cast, evidence_store, "critical")
    attach_evaluation_data(cast, evidence_store, model, version, rows(0.5, 0.5))
    attach_evaluation_data(cast, evidence_store, model, version, rows(0.5, 0.5))
    assert len(_new_version_messages(version)) == 1  # the repeat appended nothing
    # The same document with another summary is new evidence, but not new data to audit.
    document = upload(
        evidence_store, version, "evaluation_data", as_csv(rows(0.5, 0.5)), "eval.csv"
    )
    governance.attach_evidence(
        actor=actor_of(cast.owner),
        model_id=model.id,
        number=1,
        kind="evaluation_data",
        summary={"audit_spec": SPEC, "note": "same rows, described again"},
        **document,
    )
    messages = _new_version_messages(version)
    assert len(messages) == 2
    for message in messages:
        _deliver(message)
    (audit,) = BiasAudit.objects.filter(version_id=version.id)
    assert audit.trigger == "new_version" and audit.verdict == "pass"
    assert not Finding.objects.filter(version_id=version.id).exists()


def test_new_version_of_a_high_tier_model_is_not_audited_when_evaluation_data_is_attached(
    cast, evidence_store
):
    model, version = _new_version(cast, evidence_store, "high")
    attach_evaluation_data(cast, evidence_store, model, version, rows(0.8, 0.3))
    assert _new_version_messages(version) == []
    assert not BiasAudit.objects.filter(version_id=version.id).exists()


def test_high_tier_versions_are_audited_on_attach_when_the_policy_switches_it_on(
    cast, evidence_store
):
    governance.record_policy_version(
        actor=actor_of(cast.admin),
        changes={"high": {"bias_audit_on_new_version": True}},
        reason="audit every new credit model",
    )
    model, version = _new_version(cast, evidence_store, "high")
    attach_evaluation_data(cast, evidence_store, model, version, rows(0.5, 0.5))
    (message,) = _new_version_messages(version)
    _deliver(message)
    (audit,) = BiasAudit.objects.filter(version_id=version.id)
    assert audit.trigger == "new_version" and audit.policy_version == 2


def test_evaluation_data_without_an_audit_spec_queues_no_audit(cast, evidence_store):
    model, version = _new_version(cast, evidence_store, "critical")
    document = upload(
        evidence_store, version, "evaluation_data", as_csv(rows(0.5, 0.5)), "eval.csv"
    )
    governance.attach_evidence(
        actor=actor_of(cast.owner),
        model_id=model.id,
        number=1,
        kind="evaluation_data",
        summary={"note": "no specification"},
        **document,
    )
    assert _new_version_messages(version) == []


@pytest.mark.parametrize(
    ("audit_spec", "code"),
    [
        ("sex", "invalid_input"),
        ({**SPEC, "thresholds": {"min_group_size": 1}}, "invalid_input"),
        ({**SPEC, "reference": {"kind": "loudest"}}, "invalid_audit_spec"),
        ({**SPEC, "surprise": 1}, "invalid_audit_spec"),
        ({"label": "label", "prediction": "prediction"}, "invalid_audit_spec"),
    ],
)
def test_evaluation_data_with_a_bad_audit_spec_is_refused_when_attached(
    cast, evidence_store, audit_spec, code
):
    """Refused at once, not when the audit runs days later in a worker."""
    from governance.models import Evidence

    model, version = _new_version(cast, evidence_store, "critical")
    document = upload(
        evidence_store, version, "evaluation_data", as_csv(rows(0.5, 0.5)), "eval.csv"
    )
    before = Event.objects.count()
    with pytest.raises(InvalidInput) as refused:
        governance.attach_evidence(
            actor=actor_of(cast.owner),
            model_id=model.id,
            number=1,
            kind="evaluation_data",
            summary={"audit_spec": audit_spec},
            **document,
        )
    assert refused.value.code == code
    assert "audit_spec" in str(refused.value)
    assert Event.objects.count() == before
    assert not Evidence.objects.filter(version_id=version.id, kind="evaluation_data").exists()
    assert _new_version_messages(version) == []


def test_evaluation_data_replaced_before_its_audit_ran_is_left_to_its_successor(
    cast, evidence_store
):
    model, version = _new_version(cast, evidence_store, "critical")
    attach_evaluation_data(cast, evidence_store, model, version, rows(0.8, 0.3))
    attach_evaluation_data(cast, evidence_store, model, version, rows(0.5, 0.5))
    first, second = _new_version_messages(version)
    assert _deliver(first) is None
    assert not BiasAudit.objects.filter(version_id=version.id).exists()
    _deliver(second)
    (audit,) = BiasAudit.objects.filter(version_id=version.id)
    assert audit.evidence_sha256 == second.kwargs["evidence_sha256"]
    assert audit.verdict == "pass"
