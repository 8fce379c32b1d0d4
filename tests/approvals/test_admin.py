"""Approvals in the admin: reviewers see their boards' requests and decide with the same
command as the API; auditors read everything and change nothing; boards change by command."""

from __future__ import annotations

import pytest

from approvals import commands as approvals
from approvals import streams as approval_streams
from approvals.permissions import ensure_auditors_group
from boards import commands as board_commands
from boards import queries as board_queries
from eventstore.models import Event
from tests.approvals.conftest import actor_of, approve, governed_version, revise_model_card
from tests.conftest import make_user
from tests.helpers.admin import form_fields, staff_client, submit_form


def two_requests(cast, store):
    low, _ = governed_version(cast, store, "low", "admin-low")
    high, _ = governed_version(cast, store, "high", "admin-high")
    owner = actor_of(cast.owner)
    return (
        approvals.request_approval(actor=owner, model_id=low.id, number=1),
        approvals.request_approval(actor=owner, model_id=high.id, number=1),
    )


def test_reviewer_sees_only_requests_of_their_boards_and_decides_with_the_command(
    cast, evidence_store
):
    low, high = two_requests(cast, evidence_store)
    lena = staff_client(cast.reviewer("legal"))
    listing = lena.get("/admin/approvals/approvalrequest/")
    assert listing.status_code == 200
    assert str(high.id).encode() in listing.content
    assert str(low.id).encode() not in listing.content
    assert lena.get(f"/admin/approvals/approvalrequest/{low.id}/change/").status_code in (
        302,
        403,
        404,
    )
    page = lena.get(f"/admin/approvals/approvalrequest/{high.id}/change/")
    assert page.status_code == 200
    for label in (b"Approve", b"Reject", b"Request changes"):
        assert label in page.content
    assert b"approvals.ApprovalRequested" in page.content
    assert b"intended_use of admin-high" in page.content
    decide = f"/admin/approvals/approvalrequest/{high.id}/decide/"
    assert lena.get(f"{decide}?decision=approve").status_code == 200
    before = Event.objects.count()
    done = submit_form(
        lena, decide, {"board": "legal", "decision": "approve", "rationale": "contracts checked"}
    )
    assert done.status_code == 302, done.content
    added = list(Event.objects.order_by("position").values_list("type", flat=True)[before:])
    assert added == ["approvals.ReviewDecisionRecorded"]
    assert approval_streams.load_request(high.id).decisions[-1].board == "legal"


def test_admin_decision_refused_by_separation_of_duties_shows_the_code_and_appends_nothing(
    cast, evidence_store, team
):
    _, high = two_requests(cast, evidence_store)
    insider = make_user("ines-insider", team)
    board_commands.add_board_member(actor=actor_of(cast.admin), board="legal", user_id=insider.pk)
    client = staff_client(insider)
    before = Event.objects.count()
    page = submit_form(
        client,
        f"/admin/approvals/approvalrequest/{high.id}/decide/",
        {"board": "legal", "decision": "approve", "rationale": "mine"},
    )
    assert page.status_code == 200
    assert b"sod_owner" in page.content
    assert Event.objects.count() == before
    # The page offers such a member no decision in the first place.
    dossier = client.get(f"/admin/approvals/approvalrequest/{high.id}/change/")
    assert b"decision-button" not in dossier.content
    assert b"You are not independent of this model" in dossier.content


def test_an_approved_request_offers_no_decision_in_the_admin(cast, evidence_store):
    low, _ = two_requests(cast, evidence_store)
    approve(cast, low.id, "model-risk", 0)
    assert approval_streams.load_request(low.id).status == "approved"
    raj = staff_client(cast.reviewer("model-risk", 1))
    page = raj.get(f"/admin/approvals/approvalrequest/{low.id}/change/")
    assert b"decision-button" not in page.content
    assert b"This request is approved; no decision is open on it." in page.content
    decide = raj.get(f"/admin/approvals/approvalrequest/{low.id}/decide/", follow=True)
    assert decide.redirect_chain[-1][0].endswith(f"/{low.id}/change/")
    assert b"This request is approved; no decision is open on it." in decide.content


def test_my_reviews_lists_only_requests_waiting_for_me(cast, evidence_store):
    low, high = two_requests(cast, evidence_store)
    raj = staff_client(cast.reviewer("model-risk", 1))
    approvals.record_decision(
        actor=actor_of(cast.reviewer("model-risk", 1)),
        request_id=low.id,
        board="model-risk",
        decision="approve",
        rationale="fine",
    )
    queue = raj.get("/admin/approvals/approvalrequest/?mine=pending")
    assert str(high.id).encode() in queue.content
    assert str(low.id).encode() not in queue.content


def test_auditors_read_everything_and_change_nothing(cast, evidence_store):
    low, high = two_requests(cast, evidence_store)
    auditor = make_user("aude-auditor")
    # The migration created the group; a flushed database (after a transactional test) needs
    # the same idempotent call again.
    auditor.groups.add(ensure_auditors_group())
    client = staff_client(auditor)
    listing = client.get("/admin/approvals/approvalrequest/")
    assert str(low.id).encode() in listing.content and str(high.id).encode() in listing.content
    page = client.get(f"/admin/approvals/approvalrequest/{high.id}/change/")
    assert page.status_code == 200
    assert b"decision-button" not in page.content
    before = Event.objects.count()
    refused = client.post(
        f"/admin/approvals/approvalrequest/{high.id}/decide/",
        {"board": "legal", "decision": "approve", "rationale": "no"},
    )
    assert refused.status_code == 403
    board = board_queries.board_by_name("legal")
    assert (
        client.post(
            f"/admin/approvals/board/{board.id}/members/", {"action": "add", "user": auditor.pk}
        ).status_code
        == 403
    )
    assert client.get("/admin/governance/policyversion/").status_code == 200
    assert client.get("/admin/registry/registeredmodel/").status_code == 200
    assert Event.objects.count() == before


def test_auditors_cannot_read_api_tokens_or_sessions_when_in_the_auditors_group(cast):
    from django.contrib.auth.models import Permission
    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=cast.owner).key
    auditor = make_user("aude-auditor")
    group = ensure_auditors_group()
    auditor.groups.add(group)
    granted = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert not {(app, code) for app, code in granted if app in ("authtoken", "sessions")}
    client = staff_client(auditor)
    for url in (
        "/admin/authtoken/tokenproxy/",
        f"/admin/authtoken/tokenproxy/{cast.owner.pk}/change/",
        "/admin/authtoken/token/",
    ):
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert key.encode() not in response.content
    index = client.get("/admin/")
    assert index.status_code == 200
    assert b"/admin/authtoken/" not in index.content
    assert key.encode() not in index.content
    assert client.get("/admin/approvals/approvalrequest/").status_code == 200
    assert client.get("/admin/registry/registeredmodel/").status_code == 200
    assert Permission.objects.filter(codename="view_tokenproxy").exists()


def test_migration_takes_token_permissions_from_an_existing_auditors_group(db):
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Permission

    group = ensure_auditors_group()
    secrets = Permission.objects.filter(content_type__app_label__in=("authtoken", "sessions"))
    group.permissions.add(*secrets)
    migration = importlib.import_module("approvals.migrations.0003_auditors_without_secrets")
    migration.strip_secrets(apps, None)
    left = group.permissions.values_list("content_type__app_label", flat=True)
    assert not {"authtoken", "sessions"} & set(left)
    assert group.permissions.filter(codename="view_approvalrequest").exists()


def test_voided_request_is_back_in_my_reviews_when_the_evidence_changed(cast, evidence_store):
    from tests.api.conftest import client_for
    from tests.approvals.conftest import approve

    model, version = governed_version(cast, evidence_store, "low", "queue-void")
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    reviewer = cast.reviewer("model-risk", 1)
    queue = "/admin/approvals/approvalrequest/?mine=pending"
    assert str(request.id).encode() in staff_client(reviewer).get(queue).content
    assert approve(cast, request.id, "model-risk", 1).status == "approved"
    assert str(request.id).encode() not in staff_client(reviewer).get(queue).content
    revise_model_card(cast, evidence_store, version, b"a new card", "queue-void")
    page = staff_client(reviewer).get(queue)
    assert str(request.id).encode() in page.content
    mine = client_for(reviewer).get("/api/v1/approvals/?mine=pending").json()["results"]
    assert [r["id"] for r in mine] == [request.id]
    assert mine[0]["status"] == "open"
    detail = staff_client(reviewer).get(f"/admin/approvals/approvalrequest/{request.id}/change/")
    assert b"approvals.ApprovalVoided" in detail.content


def test_board_members_change_through_the_admin_form_as_events(cast, admin_client):
    newcomer = make_user("nina-new")
    board = board_queries.board_by_name("ethics")
    done = submit_form(
        admin_client,
        f"/admin/approvals/board/{board.id}/members/",
        {"action": "add", "user": newcomer.pk},
    )
    assert done.status_code == 302, done.content
    assert newcomer.pk in board_queries.board_by_name("ethics").members
    page = admin_client.get(f"/admin/approvals/board/{board.id}/change/")
    assert b"approvals.BoardMemberAdded" in page.content
    assert b"nina-new" in page.content


def test_api_and_admin_append_the_same_event_types_for_a_decision(cast, evidence_store):
    from tests.api.conftest import client_for

    low, high = two_requests(cast, evidence_store)
    reviewer = cast.reviewer("model-risk", 1)

    def appended(action) -> list[str]:
        before = Event.objects.order_by("-position").values_list("position", flat=True).first()
        action()
        return list(
            Event.objects.filter(position__gt=before)
            .order_by("position")
            .values_list("type", flat=True)
        )

    body = {"board": "model-risk", "decision": "request_changes", "rationale": "more data"}
    by_api = appended(
        lambda: client_for(reviewer).post(
            f"/api/v1/approvals/{low.id}/decisions/", body, format="json"
        )
    )
    by_admin = appended(
        lambda: submit_form(
            staff_client(reviewer), f"/admin/approvals/approvalrequest/{high.id}/decide/", body
        )
    )
    assert by_api == by_admin == ["approvals.ReviewDecisionRecorded", "approvals.ChangesRequested"]


def sorted_boards(boards: dict[str, int]) -> list[tuple[str, int]]:
    from governance.policy import BOARDS

    return sorted(boards.items(), key=lambda item: BOARDS.index(item[0]))


@pytest.mark.parametrize("tier", ["low", "medium", "high", "critical"])
def test_request_is_approved_and_promotable_when_every_board_decides_in_the_admin(
    cast, evidence_store, tier
):
    from approvals import gate
    from approvals.models import ApprovalRequest

    model, _ = governed_version(cast, evidence_store, tier, f"admin-{tier}")
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    decide = f"/admin/approvals/approvalrequest/{request.id}/decide/"
    decided = []
    for board in request.boards:
        for member in cast.members[board]:
            if ApprovalRequest.objects.get(id=request.id).status == "approved":
                break
            client = staff_client(member)
            page = client.get(f"/admin/approvals/approvalrequest/{request.id}/change/")
            assert f'href="{decide}?decision=approve"'.encode() in page.content
            done = submit_form(
                client,
                decide,
                {"board": board, "decision": "approve", "rationale": f"{board} checked"},
            )
            assert done.status_code == 302, done.content
            decided.append((board, member.username))
    state = approval_streams.load_request(request.id)
    assert state.status == "approved"
    assert len(decided) >= sum(request.boards.values())
    assert [d.reviewer_id for d in state.decisions] == [
        next(m.pk for m in cast.members[b] if m.username == name) for b, name in decided
    ]
    gate.require_promotion(model_id=model.id, number=1)
    found = gate.describe(gate.assess_promotion(model_id=model.id, number=1))
    assert found["boards"] == [
        {"board": b, "needed": n, "have": n} for b, n in sorted_boards(request.boards)
    ]
    page = staff_client(cast.reviewer("model-risk")).get(
        f"/admin/approvals/approvalrequest/{request.id}/change/"
    )
    assert b"Promotable to production: every requirement is met." in page.content


def decision_page(cast, store, name: str):
    """A low-tier request, the decision page a model-risk reviewer opened on it, and the form
    they filled in there (not sent yet)."""
    model, version = governed_version(cast, store, "low", name)
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    reviewer = staff_client(cast.reviewer("model-risk", 1))
    url = f"/admin/approvals/approvalrequest/{request.id}/decide/?decision=approve"
    page = reviewer.get(url)
    assert page.status_code == 200
    filled = {**form_fields(page), "board": "model-risk", "rationale": "evidence checked"}
    return version, request, reviewer, url, filled


def decisions_recorded() -> int:
    return Event.objects.filter(type="approvals.ReviewDecisionRecorded").count()


def test_decision_is_refused_with_what_changed_when_evidence_was_attached_after_the_page_opened(
    cast, evidence_store
):
    version, request, reviewer, url, filled = decision_page(cast, evidence_store, "stale-page")
    assert filled["seen"] and filled["decision"] == "approve"
    revise_model_card(cast, evidence_store, version, b"a card the reviewer has not seen", "s")
    before, decided = Event.objects.count(), decisions_recorded()

    stale = reviewer.post(url, filled)
    assert stale.status_code == 409
    text = stale.content.decode()
    assert "Not recorded: this page changed after you opened it" in text
    assert "Evidence attached" in text and "model_card" in text
    assert f"evidence of model version {version.number}" in text
    assert cast.owner.get_username() in text
    assert (Event.objects.count(), decisions_recorded()) == (before, decided)

    # The page shown again carries what it shows now: sent as it is, the decision counts.
    again = form_fields(stale)
    assert again["seen"] != filled["seen"] and again["rationale"] == "evidence checked"
    done = reviewer.post(url, again)
    assert done.status_code == 302, done.content
    assert decisions_recorded() == decided + 1
    assert approvals.load_request(request.id).decisions[-1].decision == "approve"


def test_decision_is_refused_by_the_command_when_the_evidence_moves_after_the_page_check(
    cast, evidence_store, monkeypatch
):
    version, request, reviewer, url, filled = decision_page(cast, evidence_store, "stale-race")
    record_decision = approvals.record_decision

    def evidence_changes_first(**kwargs):
        revise_model_card(cast, evidence_store, version, b"attached meanwhile", "race")
        return record_decision(**kwargs)

    monkeypatch.setattr(approvals, "record_decision", evidence_changes_first)
    decided = decisions_recorded()
    stale = reviewer.post(url, filled)
    assert stale.status_code == 409
    assert b"Evidence attached" in stale.content
    assert decisions_recorded() == decided
    # The request's own stream moved only by the new snapshot the changed evidence took (no
    # decision): the evidence's expected version refused the decision.
    after = approvals.load_request(request.id)
    assert after.stream_version == request.stream_version + 1
    assert after.decisions == () and "model_card" in after.void_reason


@pytest.mark.parametrize("tamper", ["altered", "missing", "forged", "another page"])
def test_decision_is_refused_and_nothing_recorded_when_the_seen_token_is_not_the_pages(
    cast, evidence_store, tamper
):
    from django.core import signing

    _, _, reviewer, url, filled = decision_page(cast, evidence_store, "tampered")
    payload, _, signature = filled["seen"].rpartition(":")
    if tamper == "altered":
        filled["seen"] = f"{payload[:-1]}{'B' if payload.endswith('A') else 'A'}:{signature}"
    elif tamper == "missing":
        del filled["seen"]
    elif tamper == "forged":
        seen = {"path": url.partition("?")[0], "seen": {}}
        filled["seen"] = signing.dumps(seen, salt="eventstore.admin_views.seen", key="guessed")
    else:
        model, _ = governed_version(cast, evidence_store, "low", "tampered-other")
        other = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
        page = reviewer.get(f"/admin/approvals/approvalrequest/{other.id}/decide/")
        filled["seen"] = form_fields(page)["seen"]
    before = Event.objects.count()
    refused = reviewer.post(url, filled)
    assert refused.status_code == 400
    assert b"bad_seen_token" in refused.content
    assert b"Nothing was recorded" in refused.content
    assert Event.objects.count() == before
