"""Governance reads after changes through the commands: the policy in force (and the error when
none is recorded), confirmed tiers one by one and many at once, who sees which periodic
reviews, bias audits, findings and incidents, and the approval standing of a version through
grant, suspension, reinstatement and void."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group

from approvals import commands as approvals
from core import clock
from core.actors import Actor
from eventstore import store
from governance import commands as governance
from governance import queries
from governance.commands import audits, reviews
from governance.errors import PolicyMissing, PolicyNotFound
from governance.models import PeriodicReview, PolicyVersion
from tests.approvals.conftest import (
    INTAKE,
    actor_of,
    approve,
    governed_version,
    registered_version,
    request_for,
    revise_model_card,
    unique_name,
)
from tests.conftest import make_user
from tests.governance.helpers import SPEC, approved_version, model_of_tier, report, rows

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def ids(queryset) -> set[str]:
    return {str(pk) for pk in queryset.values_list("id", flat=True)}


@pytest.fixture
def stranger(db):
    """Someone of another team, on no board."""
    return make_user("sid-stranger", Group.objects.create(name="vision-ml"))


# -- policies ------------------------------------------------------------------------------


def test_current_policy_is_the_latest_recorded_version(db):
    latest = PolicyVersion.objects.order_by("-number").first()
    assert latest is not None  # the migrations record the default
    assert queries.current_policy() == latest
    assert queries.get_policy(latest.number) == latest
    with pytest.raises(PolicyNotFound):
        queries.get_policy(latest.number + 1)


def test_current_policy_is_a_503_policy_missing_where_none_is_recorded(pristine_ledger):
    with pytest.raises(PolicyMissing) as caught:
        queries.current_policy()
    assert (caught.value.code, caught.value.status) == ("policy_missing", 503)
    assert not PolicyVersion.objects.exists()  # the read recorded none


# -- tiers ---------------------------------------------------------------------------------


def test_tier_of_and_tiers_of_agree_for_every_model_and_give_nothing_where_untiered(cast):
    tiered = {tier: model_of_tier(cast, tier) for tier in ("low", "high", "critical")}
    asked, _ = registered_version(cast.owner, unique_name("asked"))  # intake, no tier yet
    governance.record_intake(actor=actor_of(cast.owner), model_id=asked.id, answers=INTAKE["low"])
    bare, _ = registered_version(cast.owner, unique_name("bare"))
    models = [*tiered.values(), asked, bare]

    many = queries.tiers_of([m.id for m in models])
    for tier, model in tiered.items():
        assert queries.tier_of(model.id) == tier
    for model in models:
        assert many.get(str(model.id), "") == queries.tier_of(model.id)
    assert queries.tier_of(asked.id) == queries.tier_of(bare.id) == ""
    assert many.get(str(asked.id), "") == many.get(str(bare.id), "") == ""
    assert queries.tiers_of([]) == {}
    assert queries.tier_of(str(uuid.uuid4())) == ""


# -- who sees what -------------------------------------------------------------------------


def test_visible_reviews_are_those_of_the_users_boards_and_teams_models(
    cast, evidence_store, stranger, outsider
):
    with clock.frozen(T0) as now:
        _, version, _ = approved_version(cast, evidence_store, "low")
        now.set(T0 + 366 * DAY)
        reviews.scan_reviews(actor=Actor.system("tests.scan"))
    review = PeriodicReview.objects.get(version_id=version.id)
    assert review.boards == ["model-risk"]
    mine = {str(review.id)}

    assert ids(queries.visible_reviews(cast.owner)) == mine  # the model's team
    assert ids(queries.visible_reviews(cast.officer)) == mine  # the board it is assigned to
    assert ids(queries.visible_reviews(cast.reviewer("model-risk", 2))) == mine
    assert ids(queries.visible_reviews(cast.admin)) == mine
    auditor = make_user("ava-auditor", perms=(queries.REVIEW_VIEW_PERM,))
    assert ids(queries.visible_reviews(auditor)) == mine
    for user in (cast.reviewer("legal"), cast.reviewer("ethics"), stranger, outsider, None):
        assert ids(queries.visible_reviews(user)) == set(), user


def test_visible_findings_are_those_of_the_boards_they_name_and_of_the_teams_own(
    cast, evidence_store, stranger, outsider
):
    model, _, _ = approved_version(cast, evidence_store, "high", audited=False)
    outcome = audits.run_bias_audit(
        actor=actor_of(cast.owner), model_id=model.id, number=1, spec=SPEC, rows=rows(0.8, 0.3)
    )
    audit, finding = {str(outcome.audit.id)}, {str(outcome.finding_id)}

    seers = [cast.owner, cast.officer, cast.reviewer("ethics"), cast.admin]
    for user in seers:
        assert ids(queries.visible_audits(user)) == audit, user
        assert ids(queries.visible_findings(user)) == finding, user
    # A board the finding does not name sees its audit (board work) but not the finding.
    assert ids(queries.visible_audits(cast.reviewer("security"))) == audit
    assert ids(queries.visible_findings(cast.reviewer("security"))) == set()
    auditor = make_user("fay-findings", perms=("governance.view_finding",))
    assert ids(queries.visible_findings(auditor)) == finding
    assert ids(queries.visible_audits(auditor)) == set()  # its permission is for findings
    for user in (stranger, outsider, None):
        assert ids(queries.visible_audits(user)) == set(), user
        assert ids(queries.visible_findings(user)) == set(), user


def test_visible_incidents_are_every_one_for_board_members_and_the_teams_own(
    cast, stranger, outsider
):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0):
        incident = report(cast, model, aware=T0)
    mine = {str(incident.id)}

    watcher = make_user("wes-watcher", perms=("governance.view_incident",))
    for user in (cast.owner, cast.officer, cast.reviewer("legal"), cast.admin, watcher):
        assert ids(queries.visible_incidents(user)) == mine, user
    for user in (stranger, outsider, None):
        assert ids(queries.visible_incidents(user)) == set(), user

    colleague = make_user("vic-vision", Group.objects.get(name="vision-ml"))
    colleague.groups.add(Group.objects.get(name="fraud-ml"))
    assert ids(queries.visible_incidents(colleague)) == mine  # joined the owning team


# -- approvals as governance sees them -----------------------------------------------------


def granted_at(request_id) -> datetime:
    granted = [e for e in store.read_stream(uuid.UUID(str(request_id))) if "Granted" in e.type]
    return granted[-1].recorded_at


def test_approval_in_force_and_last_granted_at_follow_grant_suspension_and_void(
    cast, evidence_store
):
    officer = actor_of(cast.officer)
    with clock.frozen(T0) as now:
        model, version = governed_version(cast, evidence_store, "low", unique_name("standing"))
        assert (queries.approval_in_force(version.id), queries.last_granted_at(version.id)) == (
            "",
            None,
        )
        request = request_for(cast, model)
        assert queries.approval_in_force(version.id) == ""  # asked, not granted
        now.advance(DAY)
        approve(cast, request.id, "model-risk", 1)
        first = granted_at(request.id)
        assert queries.approval_in_force(version.id) == request.id
        assert queries.last_granted_at(version.id) == first

        now.advance(DAY)
        approvals.suspend_approval(actor=officer, request_id=request.id, reason="review overdue")
        assert queries.approval_in_force(version.id) == ""
        assert queries.last_granted_at(version.id) == first  # still granted, not in force
        approvals.reinstate_approval(
            actor=actor_of(cast.reviewer("model-risk", 2)), request_id=request.id, reason="reviewed"
        )
        assert queries.approval_in_force(version.id) == request.id

        now.advance(DAY)
        revise_model_card(cast, evidence_store, version, b"a revised card", "standing")
        assert (queries.approval_in_force(version.id), queries.last_granted_at(version.id)) == (
            "",
            None,
        )

        now.advance(DAY)
        approve(cast, request.id, "model-risk", 2)
        second = granted_at(request.id)
        assert second > first
        assert queries.approval_in_force(version.id) == request.id
        assert queries.last_granted_at(version.id) == second

    _, other_version = governed_version(cast, evidence_store, "low", unique_name("other"))
    assert queries.approval_in_force(other_version.id) == ""
    assert queries.last_granted_at(other_version.id) is None
