"""The approval page as a dossier, in a real headless Chromium, with one signed-in legal
reviewer: no raw JSON, people by name, times to the minute; every evidence document opens
(PDF inline, Markdown previewed without running its script, HTML only downloaded), each
response sandboxed; the decision voided by a revised document is struck through with its
reason; a decision sent from a page gone stale is refused; once approved, the page offers no
decision; a document whose stored bytes changed is flagged and never served."""

from __future__ import annotations

import re

from approvals import streams as approval_streams
from governance.models import Evidence
from registry import artifacts
from tests.approvals.conftest import approve
from tests.browser.dossier import reviewed_request
from tests.browser.pages import keep_screenshot, log_in

SANDBOX = "sandbox"


def _headers(page, url: str) -> dict[str, str]:
    response = page.request.get(url)
    assert response.ok, response.status
    return response.headers


def test_reviewer_reads_the_dossier_opens_the_evidence_and_decides(
    live_server, browser, cast, evidence_store
):
    dossier = reviewed_request(cast, evidence_store)
    request = dossier.request
    lena = cast.reviewer("legal")
    url = f"/admin/approvals/approvalrequest/{request.id}/change/"
    page = log_in(browser, live_server, lena, url)
    side_effects: list[str] = []
    page.on("dialog", lambda dialog: (side_effects.append(dialog.message), dialog.dismiss()))
    page.wait_for_selector("#gate")

    # Read as a dossier: a title in words, no JSON, names, minutes.
    assert page.inner_text("h1") == "credit-limit-scorer v1 — production"
    text = page.inner_text("#content-main")
    assert "{" not in text and "}" not in text
    assert "user:" not in text and not re.search(r"\d{2}:\d{2}:\d{2}\.\d+", text)
    assert "Olivia Okafor" in text and "Rosa Riedel" in text and "Lena Lindqvist" in text
    assert str(request.id) not in page.inner_text("h1")
    quorum = page.inner_text("[data-board=legal]")
    assert "0 of 1" in quorum.lower() and "Lena Lindqvist" in quorum  # still to decide
    assert "Intended use" in page.inner_text("#model-card")
    assert "selection rate" in page.inner_text("#bias") and page.locator("#bias svg").count()
    assert {"trained_on", "evaluated_on"} <= set(page.inner_text("#lineage").split())

    # The decisions the revised DPIA voided are struck through, with the reason.
    voided = page.locator("#decisions tr.voided")
    assert voided.count() == 2
    assert voided.first.locator("del").count() >= 1
    assert "Voided:" in voided.first.inner_text() and "dpia" in voided.first.inner_text()
    keep_screenshot(page, "approval-dossier.png")
    keep_screenshot(page, "approval-dossier-top.png", full_page=False)

    # Evidence: the PDF inline, sandboxed; HTML only as a neutral download.
    rows = {kind: page.locator(f"#evidence tr[data-kind={kind}]") for kind in dossier.documents}
    pdf = rows["validation_report"].locator("a.open-document").get_attribute("href")
    assert pdf.startswith("/evidence/") and "/admin/" not in pdf
    headers = _headers(page, live_server.url + pdf)
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"].startswith("inline")
    assert headers["content-security-policy"].startswith(SANDBOX)
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    # The browser's own PDF viewer loads under that policy (a bare `sandbox` blocks it).
    viewer = page.context.new_page()
    viewer.goto(live_server.url + pdf, timeout=15_000)
    assert viewer.evaluate("document.contentType") == "application/pdf"
    viewer.close()
    html = rows["explainability_report"].locator("a.download-document").get_attribute("href")
    headers = _headers(page, live_server.url + html)
    assert headers["content-disposition"].startswith("attachment")
    assert headers["content-type"] == "application/octet-stream"
    assert headers["content-security-policy"].startswith(SANDBOX)

    # The Markdown DPIA carrying a script opens as a sanitised preview: nothing runs.
    with page.context.expect_page() as opened:
        rows["dpia"].locator("a.open-document").click()
    preview = opened.value
    preview.on("dialog", lambda dialog: (side_effects.append(dialog.message), dialog.dismiss()))
    preview.on("console", lambda message: side_effects.append(message.text))
    preview.wait_for_selector("h1")
    assert "Data protection impact assessment" in preview.inner_text("main")
    assert "<script" not in preview.content()
    assert preview.locator("table").count() == 1
    keep_screenshot(preview, "evidence-preview.png", full_page=False)
    preview.close()
    # The HTML page carrying a script is only ever a download: opening it runs nothing.
    with page.expect_download() as downloaded:
        rows["explainability_report"].locator("a.download-document").click()
    assert downloaded.value.suggested_filename == "explainability.html"
    assert side_effects == []

    # A decision sent from a page gone stale (a model-risk member decided meanwhile) is refused.
    page.locator("a.decision-button", has_text="Approve").click()
    page.wait_for_selector("#id_rationale")
    page.fill("#id_rationale", "contracts and lawful basis reviewed")
    approve(cast, request.id, "model-risk", 2, rationale="third look, agree")
    before = len(approval_streams.load_request(request.id).decisions)
    page.click("input[name=_record]")
    page.wait_for_selector("#stale-page")
    assert "Not recorded: this page changed after you opened it" in page.inner_text("#stale-page")
    assert len(approval_streams.load_request(request.id).decisions) == before

    # Sent again from the fresh page it is recorded; the request is approved and the page
    # offers no decision any more.
    page.click("input[name=_record]")
    page.wait_for_selector("text=Decision recorded: approve.")
    assert approval_streams.load_request(request.id).status == "approved"
    page.goto(live_server.url + url)
    page.wait_for_selector("#gate")
    assert page.locator("a.decision-button").count() == 0
    assert "no decision is open" in page.inner_text("#decide-closed")
    assert "Promotable to production" in page.inner_text("#gate")

    # The stored PDF is swapped behind the ledger's back: flagged, and never served.
    row = Evidence.objects.get(version_id=dossier.version.id, kind="validation_report")
    path = evidence_store._path(row.artifact_key)
    path.chmod(0o600)
    path.write_bytes(b"%PDF-1.4 a forged report")
    page.reload()
    page.wait_for_selector(".evidence-mismatch")
    assert "stored bytes do not match" in page.inner_text(
        "#evidence tr[data-kind=validation_report]"
    )
    refused = page.request.get(live_server.url + pdf)
    assert refused.status == 409
    assert "was not served" in refused.text() and "does not match" in refused.text()
    assert isinstance(evidence_store, artifacts.LocalArtifactStore)
