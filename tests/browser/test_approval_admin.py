"""A reviewer approves in a real headless Chromium: log in, open the request from the review
queue, press Approve, give a rationale; the decision is an event and the page shows it."""

from __future__ import annotations

import shutil

import pytest
from django.db import connections

from approvals import commands as approvals
from eventstore.models import Event
from tests.approvals.conftest import actor_of, governed_version

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs chromium (apt-get install chromium)"
)


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls around it are
    # ordinary synchronous test code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = instance.new_context()
        yield context
        # Closing the browser ends its keep-alive connections before the live server stops.
        context.close()
        instance.close()
        # With Playwright's loop running, the ORM keyed its connections to that context; close
        # them here, where they are visible, so none outlives the test database.
        connections.close_all()


def test_reviewer_approves_from_the_review_queue_in_a_browser(
    live_server, browser, cast, evidence_store
):
    model, _ = governed_version(cast, evidence_store, "high", "browser-model")
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    lena = cast.reviewer("legal")
    lena.is_staff = True
    lena.save()
    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/approvals/approvalrequest/")
    page.fill("#id_username", lena.username)
    page.fill("#id_password", f"{lena.username}-password-1")
    page.click("input[type=submit]")
    page.wait_for_selector("text=Waiting for me")
    page.click("text=Waiting for me")
    page.wait_for_url("**mine=pending**")
    page.click(f"a[href*='{request.id}']")
    page.wait_for_selector("text=event history")
    assert "intended_use of browser-model" in page.content()
    page.click("a.decision-button:text('Approve')")
    page.wait_for_selector("#id_rationale")
    page.fill("#id_rationale", "contracts and data basis reviewed")
    before = Event.objects.count()
    page.click("input[name=_record]")
    page.wait_for_selector("text=Decision recorded: approve.")
    assert "contracts and data basis reviewed" in page.content()
    assert Event.objects.count() == before + 1
    decision = approvals.load_request(request.id).decisions[-1]
    assert (decision.board, decision.reviewer_id, decision.decision) == (
        "legal",
        lena.pk,
        "approve",
    )
