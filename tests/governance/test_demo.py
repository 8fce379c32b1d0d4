"""The demo, recorded through the commands: a model at each step of governance, a failed bias
audit with its finding, an overdue review, a login per role; loaded twice, recorded once."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from approvals.gate import assess_promotion
from approvals.models import ApprovalRequest
from boards.queries import board_by_name
from core import clock
from eventstore.models import Event
from governance.cadence import timing
from governance.management.demo import PASSWORD, ROLES, load_demo
from governance.models import BiasAudit, Finding, ModelRisk, PeriodicReview
from registry.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(evidence_store):
    return load_demo()


def status(demo, name: str) -> str:
    return ModelVersion.objects.get(model_id=demo.models[name], number=1).status


def test_the_demo_holds_a_model_at_each_step_of_governance(demo):
    assert demo.created
    assert status(demo, "churn-forecast") == "draft"
    assert status(demo, "credit-scoring") == "in_review"
    assert status(demo, "fraud-detector") == "approved"
    assert status(demo, "claims-triage") == "deployed"
    assert status(demo, "loan-pricing") == "deployed"

    churn = ModelRisk.objects.get(model_id=demo.models["churn-forecast"])
    assert (churn.proposed_tier, churn.tier) == ("low", "")  # waiting for the risk officer
    assert ModelRisk.objects.get(model_id=demo.models["loan-pricing"]).suspended
    assert not assess_promotion(model_id=demo.models["loan-pricing"], number=1).allowed

    pending = ApprovalRequest.objects.get(id=demo.requests["credit-scoring"])
    assert pending.status == "open"
    audit = BiasAudit.objects.get(model_id=demo.models["credit-scoring"])
    assert audit.verdict == "fail"
    finding = Finding.objects.get(id=demo.finding_id)
    assert (finding.source, finding.status) == ("bias_audit", "open")


def test_the_overdue_review_is_overdue_by_the_real_clock_and_escalated_to_the_chair(demo):
    review = PeriodicReview.objects.get(id=demo.review_id)
    assert review.status == "open"
    assert (
        timing(due_at=review.due_at, remind_at=review.remind_at, completed=False, now=clock.now())
        == "overdue"
    )
    assert review.escalation_level == 1  # the chair; the officers come later


def test_every_role_has_a_login_and_the_boards_their_members(demo):
    for role, username in ROLES.items():
        user = demo.users[role]
        assert user.username == username and user.is_staff and user.email
        assert user.check_password(PASSWORD)
    assert demo.users["admin"].is_superuser
    model_risk = board_by_name("model-risk")
    assert model_risk.chair_id == demo.users["chair"].pk
    assert demo.users["legal"].pk in board_by_name("legal").members
    assert demo.users["risk_officer"].has_perm("governance.assign_risk_tier")
    assert demo.users["auditor"].groups.filter(name="auditors").exists()


def test_loading_again_records_nothing_and_gives_the_same_handles(demo):
    events = Event.objects.count()
    again = load_demo()
    assert not again.created
    assert Event.objects.count() == events
    assert (again.models, again.requests, again.finding_id, again.review_id) == (
        demo.models,
        demo.requests,
        demo.finding_id,
        demo.review_id,
    )


def test_the_demo_is_refused_in_production(settings, evidence_store):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="development"):
        call_command("load_demo")
    assert not ModelVersion.objects.exists()
