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
from governance.models import Finding, ModelRisk
from lineage.permissions import AUDITORS
from registry import commands as registry
from registry.models import ModelVersion, RegisteredModel
from tests.approvals.conftest import (
    INTAKE,
    actor_of,
    api,
    approve,
    approve_high,
    governed_version,
    registered_version,
    revise_model_card,
)
from tests.conftest import make_user
from tests.helpers.admin import staff_client, submit_form


def _appended(since: int) -> list[str]:
    return list(Event.objects.order_by("position").values_list("type", flat=True)[since:])


def test_the_index_shows_each_person_their_own_workspaces_first(cast, evidence_store):
    auditor = make_user("audrey-auditor", Group.objects.get_or_create(name=AUDITORS)[0])
    otto = make_user("otto-officer", perms=("governance.assign_risk_tier",))
    expected = {
        cast.reviewer("legal"): ["Waiting for my decision", "Findings"],
        cast.officer: ["Waiting for my decision", "Risk tiering", "Waivers and suspensions"],
        otto: ["Risk tiering", "Waivers and suspensions"],
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
    assert b"Re-tier" not in history.content
    # New answers reopen the tier: the intake is back, marked as a re-tier.
    governance.record_intake(actor=actor_of(cast.owner), model_id=model.id, answers=INTAKE["low"])
    page = rosa.get("/admin/governance/modelrisk/tiering/").content.decode()
    assert "Re-tier" in page and "Confirmed high before" in page and "Confirm low" in page


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
    client = staff_client(auditor)
    page = client.get("/admin/lineage/lineagenode/auditor/")
    assert page.status_code == 200
    assert b"/api/v1/exports/audit-bundle/?model=exported" in page.content
    lineage = "/api/v1/exports/lineage/?node=model%3Aexported%401&amp;format=prov"
    assert lineage.encode() in page.content
    assert client.get(lineage.replace("&amp;", "&")).status_code == 200
    assert staff_client(cast.owner).get("/admin/lineage/lineagenode/auditor/").status_code == 403


def _deployed_with_a_finding(cast, store, name: str):
    """A deployed high-tier version whose approval was voided: a finding for its boards."""
    model, version = governed_version(cast, store, "high", name)
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    approve_high(cast, request.id)
    registry.transition_model_version(
        actor=actor_of(cast.owner),
        version_id=version.id,
        expected_version=None,
        to_status="deployed",
    )
    revise_model_card(cast, store, version, b"revised in production", name)
    return Finding.objects.get(version_id=version.id, source="approval_voided")


def test_a_finding_is_closed_from_the_workspace_only_by_an_independent_board_member(
    cast, evidence_store
):
    finding = _deployed_with_a_finding(cast, evidence_store, "finding-model")
    workspace = "/admin/governance/finding/mine/"
    closure = f"/admin/governance/finding/{finding.id}/closure/"
    fields = {"resolution": "re-approved on the new card", "evidence": "request decisions of today"}
    # The owner reads the finding, is offered no closing and cannot post one.
    owner = staff_client(cast.owner)
    page = owner.get(workspace)
    assert b"finding-model" in page.content and b"Close with evidence" not in page.content
    assert owner.post(closure, fields).status_code == 403
    # A board member who joined the owning team is no longer independent of the model.
    emma = cast.reviewer("ethics", 1)
    emma.groups.add(Group.objects.get(name="fraud-ml"))
    insider = staff_client(emma)
    assert b"Close with evidence" not in insider.get(workspace).content
    before = Event.objects.count()
    refused = submit_form(insider, closure, fields)
    assert refused.status_code == 200 and b"sod_owner" in refused.content
    assert Event.objects.count() == before
    # An independent member of its boards closes it: the API's event, nothing else.
    eli = staff_client(cast.reviewer("ethics"))
    assert b"Close with evidence" in eli.get(workspace).content
    done = submit_form(eli, closure, fields)
    assert done.status_code == 302, done.content
    assert _appended(before) == ["governance.FindingClosed"]
    assert Finding.objects.get(id=finding.id).status == "closed"


def test_an_officer_suspends_a_model_and_only_another_officer_reinstates_it(cast, evidence_store):
    model, _ = governed_version(cast, evidence_store, "low", "suspend-me")
    otto = make_user("otto-officer", perms=("governance.assign_risk_tier",))
    rosa = staff_client(cast.officer)
    suspension = f"/admin/governance/evidence/suspension/{model.id}/"
    before = Event.objects.count()
    done = submit_form(rosa, suspension, {"reason": "drift beyond the validated range"})
    assert done.status_code == 302, done.content
    assert _appended(before) == ["governance.ModelSuspended"]
    # The officer who suspended is offered no reinstatement, and is refused one in words.
    page = rosa.get("/admin/governance/evidence/chair/")
    assert b"drift beyond the validated range" in page.content
    assert b"Reinstate" not in page.content
    refused = submit_form(rosa, suspension, {"reason": "fixed"})
    assert refused.status_code == 200 and b"sod_suspender" in refused.content
    other = staff_client(otto)
    assert b"Reinstate" in other.get("/admin/governance/evidence/chair/").content
    before = Event.objects.count()
    done = submit_form(other, suspension, {"reason": "retrained and validated again"})
    assert done.status_code == 302, done.content
    assert _appended(before) == ["governance.ModelReinstated"]
    assert not ModelRisk.objects.get(model_id=model.id).suspended


def test_the_queue_marks_a_request_back_for_a_re_review_with_why(cast, evidence_store):
    model, version = governed_version(cast, evidence_store, "high", "queue-model")
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    lena = cast.reviewer("legal")
    queue = staff_client(lena)
    page = queue.get("/admin/approvals/approvalrequest/?mine=pending")
    assert b"queue-model" in page.content and b"legal: 1 more of 1 approvals" in page.content
    approve(cast, request.id, "legal")
    assert b"queue-model" not in queue.get("/admin/approvals/approvalrequest/?mine=pending").content
    revise_model_card(cast, evidence_store, version, b"a new card", "queue-model")
    page = queue.get("/admin/approvals/approvalrequest/?mine=pending").content.decode()
    assert "Re-review" in page and 'You decided "approve"' in page
    assert "the evidence changed after the request was made: model_card" in page
    # Another reviewer of the board, who never decided, sees it as new, not as a re-review.
    eli = staff_client(cast.reviewer("ethics")).get(
        "/admin/approvals/approvalrequest/?mine=pending"
    )
    assert b"queue-model" in eli.content and b"Re-review" not in eli.content


def _types_of(door) -> list[str]:
    before = Event.objects.count()
    response = door()
    assert response.status_code in (200, 201, 302), response.content
    return _appended(before)


def test_the_workspaces_forms_and_the_api_append_the_same_events(cast, evidence_store):
    """Tier, suspension, reinstatement and waiver: once through the admin, once through the
    API, on two models alike; each door appends the same event types."""
    otto = make_user("otto-officer", perms=("governance.assign_risk_tier",))
    rosa, other = staff_client(cast.officer), staff_client(otto)
    rosa_api, otto_api = api(cast.officer), api(otto)
    by_admin, _ = registered_version(cast.owner, "by-admin")
    by_api, _ = registered_version(cast.owner, "by-api")
    for model in (by_admin, by_api):
        governance.record_intake(
            actor=actor_of(cast.owner), model_id=model.id, answers=INTAKE["low"]
        )
    models = "/api/v1/models/by-api"
    admin_doors = {
        "tier": lambda: submit_form(rosa, f"/admin/governance/modelrisk/{by_admin.id}/tier/", {}),
        "suspend": lambda: submit_form(
            rosa, f"/admin/governance/evidence/suspension/{by_admin.id}/", {"reason": "drift"}
        ),
        "reinstate": lambda: submit_form(
            other, f"/admin/governance/evidence/suspension/{by_admin.id}/", {"reason": "fixed"}
        ),
    }
    api_doors = {
        "tier": lambda: rosa_api.post(f"{models}/risk-tier/decision/", {}, format="json"),
        "suspend": lambda: rosa_api.post(
            f"{models}/suspension/", {"reason": "drift"}, format="json"
        ),
        "reinstate": lambda: otto_api.post(
            f"{models}/reinstatement/", {"reason": "fixed"}, format="json"
        ),
    }
    for step in admin_doors:
        assert _types_of(admin_doors[step]) == _types_of(api_doors[step]), step

    for name in ("waive-admin", "waive-api"):
        model, _ = governed_version(cast, evidence_store, "high", name, skip=("bias_audit",))
        approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    expires = (clock.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    version_id = ModelVersion.objects.get(
        model_id__in=RegisteredModel.objects.filter(name="waive-admin").values("id")
    ).id
    waiver = {"kind": "bias_audit", "reason": "audit next month", "expires_at": expires}
    by_form = _types_of(
        lambda: submit_form(rosa, f"/admin/governance/evidence/waive/{version_id}/", waiver)
    )
    by_call = _types_of(
        lambda: rosa_api.post(
            "/api/v1/models/waive-api/versions/1/waivers/",
            {**waiver, "expires_at": f"{expires}:00Z"},
            format="json",
        )
    )
    assert by_form == by_call and by_form[0] == "governance.EvidenceWaived"
