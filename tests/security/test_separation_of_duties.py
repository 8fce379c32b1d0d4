"""Separation of duties, tried from the attacker's side. The requester, the model's owners (the
members, as of now, of the group that holds the change grants, judged by group id) and the
version's authors (whoever wrote to the version, its artifact or its evidence) never count as
approvers, never lift a suspension, never grant their own waiver, never close their own finding
and never settle their own tier; a suspension is lifted by someone other than its suspender; the
gate counts an approval only while its reviewer sits on the board and is independent of the
model, each person once. Group changes that record no event (the admin's group pages) count.

Each refusal is a 403 problem+json with a sod_* code, and appends nothing."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from approvals import commands as approvals
from approvals import streams as approval_streams
from boards import commands as board_commands
from core import clock
from eventstore.models import Event
from governance import commands as governance
from registry import commands as registry
from tests.approvals.conftest import (
    INTAKE,
    actor_of,
    api,
    governed_version,
    model_card,
    problem,
    unique_name,
    upload,
)
from tests.conftest import make_user
from tests.governance.helpers import SPEC, rows
from tests.helpers.admin import staff_client, submit_form

pytestmark = pytest.mark.django_db

OFFICER = ("governance.assign_risk_tier",)


def last_position() -> int:
    return Event.objects.order_by("-position").values_list("position", flat=True).first() or 0


def appended_since(position: int) -> list[str]:
    return list(
        Event.objects.filter(position__gt=position)
        .order_by("position")
        .values_list("type", flat=True)
    )


def refused(response, code: str, before: int) -> dict:
    """The attacker's view: a 403 problem with the rule's code, and nothing in the log."""
    body = problem(response, 403, code)
    assert appended_since(before) == []
    return body


def seat(cast, board: str, user) -> None:
    board_commands.add_board_member(actor=actor_of(cast.admin), board=board, user_id=user.pk)


def unseat(cast, board: str, user) -> None:
    board_commands.remove_board_member(actor=actor_of(cast.admin), board=board, user_id=user.pk)


def decide(user, request_id: str, board: str):
    return api(user).post(
        f"/api/v1/approvals/{request_id}/decisions/",
        {"board": board, "decision": "approve", "rationale": "evidence reviewed"},
        format="json",
    )


def low_request(cast, store, prefix: str):
    name = unique_name(prefix)
    model, version = governed_version(cast, store, "low", name)
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    return name, model, version, request


def attach_card(user, store, model, version, name: str) -> None:
    """`user` writes a model card into version 1's evidence (they become one of its authors)."""
    document = upload(store, version, "model_card", f"card by {user.username}".encode())
    governance.attach_evidence(
        actor=actor_of(user),
        model_id=model.id,
        number=1,
        kind="model_card",
        summary=model_card(name, 1),
        **document,
    )


def former_author(cast, store, model, version, name: str, username: str, team):
    """A user who joined the owning team (in the admin: no event), wrote evidence for version 1
    and left the team again: no longer an owner, still an author."""
    user = make_user(username)
    user.is_staff = True
    user.save()
    user.groups.add(team)
    attach_card(user, store, model, version, name)
    user.groups.remove(team)
    return user


def gate(user, name: str) -> dict:
    return api(user).get(f"/api/v1/models/{name}/versions/1/promotion/").json()


def to_production(user, name: str):
    return api(user).put(
        f"/api/v1/models/{name}/aliases/production/", {"version": 1}, format="json"
    )


# -- lifting a suspension --------------------------------------------------------------------


def test_owner_on_the_review_board_cannot_lift_the_suspension_of_their_own_models_approval(
    cast, evidence_store, team
):
    name, _, _, request = low_request(cast, evidence_store, "sod-lift")
    assert decide(cast.reviewer("model-risk", 1), request.id, "model-risk").status_code == 201
    risk = api(cast.reviewer("model-risk", 2))
    suspension = f"/api/v1/approvals/{request.id}/suspension/"
    reinstatement = f"/api/v1/approvals/{request.id}/reinstatement/"
    assert risk.post(suspension, {"reason": "incident"}, format="json").status_code == 200
    colleague = make_user("odin-owner", team)
    for insider in (cast.owner, colleague):
        seat(cast, "model-risk", insider)
    before = last_position()
    body = refused(
        api(colleague).post(reinstatement, {"reason": "all good"}, format="json"),
        "sod_owner",
        before,
    )
    assert "owner" in body["detail"]
    refused(
        api(cast.owner).post(reinstatement, {"reason": "all good"}, format="json"),
        "sod_requester",
        before,
    )
    assert gate(cast.owner, name)["suspended"] == ["approval"]
    problem(to_production(cast.owner, name), 409, "promotion_blocked")


def test_owner_who_joined_the_team_in_the_admin_cannot_lift_the_suspension(
    cast, evidence_store, team
):
    _, _, _, request = low_request(cast, evidence_store, "sod-lift-admin")
    approvals.record_decision(
        actor=actor_of(cast.reviewer("model-risk", 1)),
        request_id=request.id,
        board="model-risk",
        decision="approve",
        rationale="fine",
    )
    approvals.suspend_approval(
        actor=actor_of(cast.reviewer("model-risk", 2)), request_id=request.id, reason="incident"
    )
    insider = cast.reviewer("model-risk", 1)
    insider.groups.add(team)  # the admin's user page: no event
    before = last_position()
    refused(
        api(insider).post(
            f"/api/v1/approvals/{request.id}/reinstatement/", {"reason": "ok"}, format="json"
        ),
        "sod_owner",
        before,
    )


def test_author_who_left_the_team_cannot_lift_the_suspension(cast, evidence_store, team):
    name, model, version, request = low_request(cast, evidence_store, "sod-lift-author")
    writer = former_author(cast, evidence_store, model, version, name, "wes-writer", team)
    seat(cast, "model-risk", writer)
    assert decide(cast.reviewer("model-risk", 1), request.id, "model-risk").status_code == 201
    approvals.suspend_approval(
        actor=actor_of(cast.reviewer("model-risk", 2)), request_id=request.id, reason="incident"
    )
    before = last_position()
    refused(
        api(writer).post(
            f"/api/v1/approvals/{request.id}/reinstatement/", {"reason": "ok"}, format="json"
        ),
        "sod_author",
        before,
    )


def test_the_suspender_cannot_lift_their_own_suspension_of_an_approval(cast, evidence_store):
    name, _, _, request = low_request(cast, evidence_store, "sod-self-lift")
    assert decide(cast.reviewer("model-risk", 1), request.id, "model-risk").status_code == 201
    rin = api(cast.reviewer("model-risk", 2))
    reinstatement = f"/api/v1/approvals/{request.id}/reinstatement/"
    assert (
        rin.post(
            f"/api/v1/approvals/{request.id}/suspension/", {"reason": "incident"}, format="json"
        ).status_code
        == 200
    )
    before = last_position()
    refused(rin.post(reinstatement, {"reason": "my call"}, format="json"), "sod_suspender", before)
    lifted = api(cast.reviewer("model-risk", 1)).post(
        reinstatement, {"reason": "incident closed"}, format="json"
    )
    assert lifted.status_code == 200, lifted.content
    assert gate(cast.owner, name)["allowed"] is True


def test_the_suspender_cannot_reinstate_the_model_they_suspended(cast, evidence_store):
    name = unique_name("sod-model-lift")
    governed_version(cast, evidence_store, "low", name)
    other = make_user("omar-officer", perms=OFFICER)
    rosa = api(cast.officer)
    assert (
        rosa.post(f"/api/v1/models/{name}/suspension/", {"reason": "x"}, format="json").status_code
        == 200
    )
    before = last_position()
    refused(
        rosa.post(f"/api/v1/models/{name}/reinstatement/", {"reason": "mine"}, format="json"),
        "sod_suspender",
        before,
    )
    lifted = api(other).post(
        f"/api/v1/models/{name}/reinstatement/", {"reason": "ok"}, format="json"
    )
    assert lifted.status_code == 200, lifted.content


def test_an_officer_who_joined_the_owning_team_cannot_reinstate_the_model(
    cast, evidence_store, team
):
    name = unique_name("sod-model-owner")
    governed_version(cast, evidence_store, "low", name)
    omar = make_user("omar-officer", perms=OFFICER)
    assert (
        api(cast.officer)
        .post(f"/api/v1/models/{name}/suspension/", {"reason": "x"}, format="json")
        .status_code
        == 200
    )
    omar.groups.add(team)
    team.name = "fraud-ml-renamed"  # the admin's group page: a new name, the same grants
    team.save()
    before = last_position()
    refused(
        api(omar).post(f"/api/v1/models/{name}/reinstatement/", {"reason": "ok"}, format="json"),
        "sod_owner",
        before,
    )


# -- who counts as an approver ---------------------------------------------------------------


def test_owner_who_moved_the_model_to_another_of_their_teams_is_still_refused(
    cast, evidence_store, team
):
    name, _, _, request = low_request(cast, evidence_store, "sod-move")
    other = Group.objects.create(name="fraud-ops")
    mover = make_user("max-mover", team, other)
    seat(cast, "model-risk", mover)
    before = last_position()
    refused(decide(mover, request.id, "model-risk"), "sod_owner", before)
    moved = api(mover).patch(f"/api/v1/models/{name}/", {"team": "fraud-ops"}, format="json")
    assert moved.status_code == 200, moved.content
    # The move voids the open request; the new owners ask again, and the mover is refused.
    assert approval_streams.load_request(request.id).status == "voided"
    cast.owner.groups.add(other)
    again = api(cast.owner).post("/api/v1/approvals/", {"model": name, "version": 1}, format="json")
    assert again.status_code == 201, again.content
    request_id = again.json()["id"]
    before = last_position()
    refused(decide(mover, request_id, "model-risk"), "sod_owner", before)
    other.name = "fraud-ops-2"  # renamed in the admin: the grants follow the group's id
    other.save()
    before = last_position()
    refused(decide(mover, request_id, "model-risk"), "sod_owner", before)
    assert gate(cast.owner, name)["quorum"]["have"] == 0


def test_the_gate_stops_counting_a_reviewer_whose_team_took_the_model_over(
    cast, evidence_store, team
):
    name, _, _, request = low_request(cast, evidence_store, "sod-takeover")
    raj = cast.reviewer("model-risk", 1)
    other = Group.objects.create(name="fraud-ops")
    raj.groups.add(other)
    cast.owner.groups.add(other)
    assert decide(raj, request.id, "model-risk").status_code == 201
    assert gate(cast.owner, name)["allowed"] is True
    moved = api(cast.owner).patch(f"/api/v1/models/{name}/", {"team": "fraud-ops"}, format="json")
    assert moved.status_code == 200, moved.content
    # A granted approval is not voided by the move; the gate judges it against the new owners.
    assert approval_streams.load_request(request.id).status == "approved"
    after = gate(cast.owner, name)
    assert after["allowed"] is False
    assert "quorum_not_met" in after["reasons"]
    problem(to_production(cast.owner, name), 409, "promotion_blocked")


def test_the_gate_stops_counting_a_reviewer_who_left_the_board(cast, evidence_store):
    name, _, _, request = low_request(cast, evidence_store, "sod-left")
    raj = cast.reviewer("model-risk", 1)
    assert decide(raj, request.id, "model-risk").status_code == 201
    assert gate(cast.owner, name)["allowed"] is True
    unseat(cast, "model-risk", raj)
    after = gate(cast.owner, name)
    assert after["allowed"] is False
    assert after["quorum"] == {"needed": 1, "have": 0}
    assert after["reasons"] == ["quorum_not_met", "approvals_not_counted"]
    body = problem(to_production(cast.owner, name), 409, "promotion_blocked")
    assert body["reasons"] == ["quorum_not_met", "approvals_not_counted"]
    assert approval_streams.load_request(request.id).status == "approved"


def test_the_gate_stops_counting_a_reviewer_who_joined_the_owning_team(cast, evidence_store, team):
    name, _, _, request = low_request(cast, evidence_store, "sod-joined")
    raj = cast.reviewer("model-risk", 1)
    assert decide(raj, request.id, "model-risk").status_code == 201
    raj.groups.add(team)  # the admin's user page: no event
    after = gate(cast.owner, name)
    assert after["allowed"] is False
    assert after["quorum"]["have"] == 0
    problem(to_production(cast.owner, name), 409, "promotion_blocked")


def test_an_approval_whose_reviewer_joined_the_owning_team_does_not_complete_the_quorum(
    cast, evidence_store, team
):
    name = unique_name("sod-grant")
    model, _ = governed_version(cast, evidence_store, "high", name)
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    raj = cast.reviewer("model-risk", 1)
    assert decide(raj, request.id, "model-risk").status_code == 201
    raj.groups.add(team)  # the admin's user page: no event
    for user, board in (
        (cast.reviewer("model-risk", 2), "model-risk"),
        (cast.reviewer("legal"), "legal"),
        (cast.reviewer("ethics"), "ethics"),
    ):
        assert decide(user, request.id, board).status_code == 201
    assert approval_streams.load_request(request.id).status == "open"
    assert gate(cast.owner, name)["reasons"] == [
        "request_open",
        "quorum_not_met",
        "approvals_not_counted",
    ]
    raj.groups.remove(team)
    assert decide(cast.reviewer("model-risk", 0), request.id, "model-risk").status_code == 201
    assert approval_streams.load_request(request.id).status == "approved"


def test_one_person_approving_under_two_boards_counts_once(cast, evidence_store):
    name = unique_name("sod-twice")
    model, _ = governed_version(cast, evidence_store, "high", name)
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    lena = cast.reviewer("legal")
    seat(cast, "model-risk", lena)
    for user, board in (
        (lena, "legal"),
        (lena, "model-risk"),
        (cast.reviewer("model-risk", 1), "model-risk"),
        (cast.reviewer("ethics"), "ethics"),
    ):
        assert decide(user, request.id, board).status_code == 201
    assert approval_streams.load_request(request.id).status != "approved"
    after = gate(cast.owner, name)
    assert after["allowed"] is False
    assert after["quorum"] == {"needed": 4, "have": 3}


def test_an_author_who_left_the_team_cannot_approve_through_the_api_or_the_admin(
    cast, evidence_store, team
):
    name, model, version, request = low_request(cast, evidence_store, "sod-author")
    writer = former_author(cast, evidence_store, model, version, name, "wes-writer", team)
    seat(cast, "model-risk", writer)
    before = last_position()
    refused(decide(writer, request.id, "model-risk"), "sod_author", before)
    page = submit_form(
        staff_client(writer),
        f"/admin/approvals/approvalrequest/{request.id}/decide/",
        {"board": "model-risk", "decision": "approve", "rationale": "mine"},
    )
    assert page.status_code == 200
    assert b"sod_author" in page.content
    assert appended_since(before) == []


def test_whoever_stored_the_versions_artifact_is_its_author_and_cannot_approve(
    cast, evidence_store, team
):
    name = unique_name("sod-artifact")
    model, version = governed_version(cast, evidence_store, "low", name, artifact=False)
    uploader = make_user("una-uploader", team)
    weights = b"weights stored by una"
    registry.upload_artifact(
        actor=actor_of(uploader),
        version_id=version.id,
        filename="model.bin",
        size=len(weights),
        sha256=hashlib.sha256(weights).hexdigest(),
        data=weights,
    )
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    uploader.groups.remove(team)
    seat(cast, "model-risk", uploader)
    before = last_position()
    refused(decide(uploader, request.id, "model-risk"), "sod_author", before)
    assert gate(cast.owner, name)["quorum"]["have"] == 0


# -- waivers, findings, tiers ----------------------------------------------------------------


def test_an_author_chair_cannot_grant_a_waiver_for_their_own_version(cast, evidence_store, team):
    name = unique_name("sod-waiver")
    model, version = governed_version(cast, evidence_store, "medium", name, skip=("bias_audit",))
    cast.officer.groups.add(team)
    attach_card(cast.officer, evidence_store, model, version, name)
    cast.officer.groups.remove(team)
    before = last_position()
    refused(
        api(cast.officer).post(
            f"/api/v1/models/{name}/versions/1/waivers/",
            {
                "kind": "bias_audit",
                "reason": "later",
                "expires_at": (clock.now() + timedelta(days=30)).isoformat(),
            },
            format="json",
        ),
        "sod_author",
        before,
    )


def test_an_author_cannot_close_the_finding_on_their_own_version(cast, evidence_store, team):
    name = unique_name("sod-finding")
    model, version = governed_version(cast, evidence_store, "high", name)
    eli = cast.reviewer("ethics")
    eli.groups.add(team)
    attach_card(eli, evidence_store, model, version, name)
    eli.groups.remove(team)
    audit = api(cast.owner).post(
        f"/api/v1/models/{name}/versions/1/bias-audits/",
        {"spec": SPEC, "rows": rows(0.8, 0.3)},
        format="json",
    )
    assert audit.status_code == 201, audit.content
    finding = audit.json()["finding_id"]
    before = last_position()
    refused(
        api(eli).post(
            f"/api/v1/findings/{finding}/closure/",
            {"resolution": "fixed", "evidence": "trust me"},
            format="json",
        ),
        "sod_author",
        before,
    )
    closed = api(cast.reviewer("ethics", 1)).post(
        f"/api/v1/findings/{finding}/closure/",
        {"resolution": "retrained", "evidence": "audit of version 2"},
        format="json",
    )
    assert closed.status_code == 200, closed.content


def test_the_officer_who_answered_the_intake_cannot_confirm_the_tier(cast, evidence_store, team):
    name = unique_name("sod-tier")
    owner = api(cast.owner)
    assert (
        owner.post("/api/v1/models/", {"name": name, "team": "fraud-ml"}, format="json").status_code
        == 201
    )
    omar = make_user("omar-officer", perms=OFFICER)
    omar.groups.add(team)
    answered = api(omar).post(
        f"/api/v1/models/{name}/risk-tier/intake/",
        {"answers": {**_low_answers(), "personal_data": False}},
        format="json",
    )
    assert answered.status_code == 200, answered.content
    omar.groups.remove(team)
    before = last_position()
    refused(
        api(omar).post(f"/api/v1/models/{name}/risk-tier/decision/", {}, format="json"),
        "sod_author",
        before,
    )
    confirmed = api(cast.officer).post(
        f"/api/v1/models/{name}/risk-tier/decision/", {}, format="json"
    )
    assert confirmed.status_code == 200, confirmed.content


def test_an_owner_officer_cannot_confirm_the_tier_after_the_team_is_renamed(
    cast, evidence_store, team
):
    name = unique_name("sod-tier-rename")
    owner = api(cast.owner)
    assert (
        owner.post("/api/v1/models/", {"name": name, "team": "fraud-ml"}, format="json").status_code
        == 201
    )
    assert (
        owner.post(
            f"/api/v1/models/{name}/risk-tier/intake/", {"answers": _low_answers()}, format="json"
        ).status_code
        == 200
    )
    omar = make_user("omar-officer", team, perms=OFFICER)
    team.name = "fraud-ml-renamed"
    team.save()
    before = last_position()
    refused(
        api(omar).post(f"/api/v1/models/{name}/risk-tier/decision/", {}, format="json"),
        "sod_owner",
        before,
    )


def _low_answers() -> dict:
    return dict(INTAKE["low"])
