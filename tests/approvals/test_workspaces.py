"""Each governance role's workspace in the admin: the index shows the person's workspaces
first, each page lists what waits for that person, its buttons appear only where the person
may act, and its forms call the same commands as the API (the same event types appended)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import Group

from approvals import commands as approvals
from core import clock
from eventstore.models import Event
from governance import commands as governance
from governance.models import ModelRisk
from lineage.permissions import AUDITORS
from tests.approvals.conftest import INTAKE, actor_of, governed_version, registered_version
from tests.conftest import make_user
from tests.helpers.admin import staff_client, submit_form


def _appended(since: int) -> list[str]:
    return list(Event.objects.order_by("position").values_list("type", flat=True)[since:])


def test_the_index_shows_each_person_their_own_workspaces_first(cast, evidence_store):
    auditor = make_user("audrey-auditor", Group.objects.get_or_create(name=AUDITORS)[0])
    expected = {
        cast.reviewer("legal"): ["Waiting for my decision", "Findings"],
        cast.officer: ["Waiting for my decision", "Risk tiering", "Waivers and suspensions"],
        auditor: ["Audit exports"],
        cast.owner: [],
    }
    for user, titles in expected.items():
        page = staff_client(user).get("/admin/")
        assert page.status_code == 200
        shown = list(page.context["workspaces"])
        assert [w.title for w in shown if w.title != "Findings" or "Findings" in titles] == titles
        for title in titles:
            assert title.encode() in page.content


def test_risk_officer_confirms_a_proposed_tier_from_the_workspace_as_the_api_does(
    cast, evidence_store
):
    model, _ = registered_version(cast.owner, "tier-me")
    governance.record_intake(actor=actor_of(cast.owner), model_id=model.id, answers=INTAKE["high"])
    rosa = staff_client(cast.officer)
    page = rosa.get("/admin/governance/modelrisk/tiering/")
    assert page.status_code == 200
    assert b"tier-me" in page.content and b"Confirm high" in page.content
    assert b"credit scoring" in page.content  # the owners' answers
    before = Event.objects.count()
    done = submit_form(rosa, f"/admin/governance/modelrisk/{model.id}/tier/", {"reason": ""})
    assert done.status_code == 302, done.content
    assert done["Location"] == "/admin/governance/modelrisk/tiering/"
    assert _appended(before) == ["governance.RiskTierAssigned"]
    assert ModelRisk.objects.get(model_id=model.id).tier == "high"
    history = rosa.get("/admin/governance/modelrisk/tiering/")
    assert b"confirmed as proposed" in history.content


def test_an_override_without_a_reason_is_refused_in_words_and_records_nothing(cast, evidence_store):
    model, _ = registered_version(cast.owner, "override-me")
    governance.record_intake(actor=actor_of(cast.owner), model_id=model.id, answers=INTAKE["low"])
    rosa = staff_client(cast.officer)
    before = Event.objects.count()
    refused = submit_form(
        rosa, f"/admin/governance/modelrisk/{model.id}/tier/?override=1", {"tier": "high"}
    )
    assert refused.status_code == 200
    assert b"overriding the proposed tier needs a reason" in refused.content
    assert Event.objects.count() == before


def test_the_tier_buttons_are_not_offered_to_an_officer_who_owns_the_model(cast, evidence_store):
    insider = make_user(
        "ivy-insider",
        Group.objects.get(name="fraud-ml"),
        perms=("governance.assign_risk_tier",),
    )
    model, _ = registered_version(cast.owner, "own-model")
    governance.record_intake(actor=actor_of(cast.owner), model_id=model.id, answers=INTAKE["low"])
    page = staff_client(insider).get("/admin/governance/modelrisk/tiering/")
    assert b"own-model" in page.content
    assert b"Confirm low" not in page.content
    assert b"not independent of this model" in page.content
    refused = submit_form(
        staff_client(insider), f"/admin/governance/modelrisk/{model.id}/tier/", {"reason": ""}
    )
    assert b"sod_owner" in refused.content
    # The owner, no officer at all, does not even get the page.
    assert staff_client(cast.owner).get("/admin/governance/modelrisk/tiering/").status_code == 403


def test_the_chair_waives_missing_evidence_with_the_command_of_the_api(cast, evidence_store):
    model, version = governed_version(
        cast, evidence_store, "high", "waive-me", skip=("bias_audit",)
    )
    approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    rosa = staff_client(cast.officer)
    page = rosa.get("/admin/governance/evidence/chair/")
    assert b"waive-me" in page.content and b"Waive bias audit" in page.content
    # Another member of the board, not its chair, sees no waiver button.
    raj = staff_client(cast.reviewer("model-risk", 1))
    assert raj.get("/admin/governance/evidence/chair/").status_code == 403
    version_id = version.id
    before = Event.objects.count()
    refused = submit_form(
        rosa,
        f"/admin/governance/evidence/waive/{version_id}/?kind=bias_audit",
        {"reason": "audit scheduled next week", "expires_at": "2099-01-31T12:00"},
    )
    assert refused.status_code == 200
    assert b"a waiver lasts at most a year (invalid_waiver)" in refused.content
    assert Event.objects.count() == before
    in_sixty_days = (clock.now() + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M")
    done = submit_form(
        rosa,
        f"/admin/governance/evidence/waive/{version_id}/?kind=bias_audit",
        {"reason": "audit scheduled next week", "expires_at": in_sixty_days},
    )
    assert done.status_code == 302, done.content
    assert _appended(before)[0] == "governance.EvidenceWaived"
    page = rosa.get("/admin/governance/evidence/chair/")
    assert b"audit scheduled next week" in page.content


def test_the_auditor_sees_the_exports_and_the_checkpoint_key(cast, evidence_store):
    auditor = make_user("audrey-auditor", Group.objects.get_or_create(name=AUDITORS)[0])
    registered_version(cast.owner, "exported")
    page = staff_client(auditor).get("/admin/lineage/lineagenode/auditor/")
    assert page.status_code == 200
    assert b"/api/v1/exports/audit-bundle/?model=exported" in page.content
    assert staff_client(cast.owner).get("/admin/lineage/lineagenode/auditor/").status_code == 403
