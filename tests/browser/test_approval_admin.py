"""Reviewers in a real headless Chromium: a legal reviewer logs in, opens the request from the
review queue, approves with a rationale, and the version becomes promotable; a decision sent
from a page whose evidence changed meanwhile is refused with what changed; a reviewer of a
board the request does not involve cannot even see it. The pages are kept as screenshots
(under .ledger/screenshots, or LEDGER_SCREENSHOT_DIR)."""

from __future__ import annotations

import hashlib

import pytest

from approvals import commands as approvals
from approvals import streams as approval_streams
from approvals.gate import assess_promotion
from core.actors import Actor
from eventstore.models import Event
from governance import streams as governance_streams
from registry import commands as registry
from tests.approvals.conftest import actor_of, approve, governed_version, revise_model_card
from tests.browser.pages import log_in, screenshot


@pytest.fixture
def awaiting_legal(cast, evidence_store):
    """A high-tier version whose request has every approval but the legal board's."""
    model, _ = governed_version(cast, evidence_store, "high", "browser-model")
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    for board, index in (("model-risk", 0), ("model-risk", 1), ("ethics", 0)):
        approve(cast, request.id, board, index)
    assessment = assess_promotion(model_id=model.id, number=1)
    assert not assessment.allowed
    assert [(b.board, b.needed, b.have) for b in assessment.boards if b.have < b.needed] == [
        ("legal", 1, 0)
    ]
    return model, request


def test_reviewer_approves_from_the_queue_and_the_version_becomes_promotable(
    live_server, browser, cast, awaiting_legal
):
    model, request = awaiting_legal
    lena = cast.reviewer("legal")
    page = log_in(browser, live_server, lena, "/admin/approvals/approvalrequest/")
    page.wait_for_selector("text=Waiting for me")
    page.click("text=Waiting for me")
    page.wait_for_url("**mine=pending**")
    page.wait_for_selector(f"a[href*='{request.id}']")
    screenshot(page, "review-queue.png")

    page.click(f"a[href*='{request.id}']")
    page.wait_for_selector("#gate")
    content = page.content()
    assert "intended_use of browser-model" in content  # the model card
    assert "approvals.ReviewDecisionRecorded" in content  # the history so far
    assert "Bias audit" in content and "validation_report" in content
    # the ledger's own audit, labelled by where its rows came from
    assert "computed on the attached evaluation data: counts toward the promotion gate" in content
    assert "Lineage" in content
    screenshot(page, "approval-page.png")

    page.click("a.decision-button:text('Approve')")
    page.wait_for_selector("#id_rationale")
    page.fill("#id_rationale", "contracts and data basis reviewed")
    before = Event.objects.count()
    page.click("input[name=_record]")
    page.wait_for_selector("text=Decision recorded: approve.")
    assert "contracts and data basis reviewed" in page.content()
    assert Event.objects.count() > before
    decision = approval_streams.load_request(request.id).decisions[-1]
    assert (decision.board, decision.reviewer_id, decision.decision) == (
        "legal",
        lena.pk,
        "approve",
    )

    assert assess_promotion(model_id=model.id, number=1).allowed
    owner = Actor.user(cast.owner, auth_method="token")
    promoted = registry.assign_alias(actor=owner, model_id=model.id, alias="production", version=1)
    assert promoted.aliases["production"] == 1


def test_reviewer_of_an_uninvolved_board_cannot_see_the_request(
    live_server, browser, cast, awaiting_legal
):
    _, request = awaiting_legal
    sam = cast.reviewer("security")  # security signs off critical models only
    page = log_in(browser, live_server, sam, "/admin/approvals/approvalrequest/")
    page.wait_for_selector("#content")
    assert str(request.id) not in page.content()
    assert "browser-model" not in page.content()

    page.goto(f"{live_server.url}/admin/approvals/approvalrequest/{request.id}/change/")
    assert "intended_use of browser-model" not in page.content()
    assert "Approve" not in page.inner_text("#content")


def test_reviewer_is_shown_what_changed_and_decides_again_when_evidence_came_in_meanwhile(
    live_server, browser, cast, evidence_store, awaiting_legal
):
    _, request = awaiting_legal
    lena = cast.reviewer("legal")
    page = log_in(
        browser, live_server, lena, f"/admin/approvals/approvalrequest/{request.id}/change/"
    )
    page.click("a.decision-button:text('Approve')")
    page.wait_for_selector("#id_rationale")
    assert "model_card" in page.inner_text("#content")  # the evidence decided on
    page.fill("#id_rationale", "contracts and data basis reviewed")
    screenshot(page, "decision-page.png")

    # Meanwhile the owner attaches a new model card (which voids the decisions given so far).
    version = registry.load_version(request.version_id)
    new_card = b"a card revised meanwhile"
    revise_model_card(cast, evidence_store, version, new_card, "browser-model")
    decisions = Event.objects.filter(type="approvals.ReviewDecisionRecorded")
    before = decisions.count()

    page.click("input[name=_record]")
    page.wait_for_selector("#stale-page")
    screenshot(page, "decision-page-stale.png")
    notice = page.inner_text("#stale-page")
    assert "Not recorded: this page changed after you opened it" in notice
    assert "Evidence attached" in notice and "model_card" in notice
    assert cast.owner.get_username() in notice
    assert "Approval voided" in notice
    assert decisions.count() == before
    assert page.input_value("#id_rationale") == "contracts and data basis reviewed"
    assert hashlib.sha256(new_card).hexdigest() in page.inner_text("#content")

    # The page now shows the new evidence; sent again from it, the decision is recorded.
    page.click("input[name=_record]")
    page.wait_for_selector("text=Decision recorded: approve.")
    assert decisions.count() == before + 1
    state = approvals.load_request(request.id)
    decision = state.decisions[-1]
    assert (decision.board, decision.reviewer_id, decision.decision) == (
        "legal",
        lena.pk,
        "approve",
    )
    assert decision.evidence_version == governance_streams.load_evidence(version.id).stream_version
