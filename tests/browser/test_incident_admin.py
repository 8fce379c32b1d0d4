"""A serious incident in a real headless Chromium: a legal reviewer finds the incident by its
Art. 73 reporting status, records the report to the authority, then closes it."""

from __future__ import annotations

from datetime import timedelta

from core import clock
from governance import streams as governance_streams
from tests.browser.pages import log_in, screenshot
from tests.governance.helpers import model_of_tier, report


def test_legal_reviewer_reports_an_incident_to_the_authority_and_closes_it(
    live_server, browser, cast
):
    model = model_of_tier(cast, "high")
    state = report(cast, model, title="credit limits zeroed", aware=clock.now())
    assert state.deadline_at == state.became_aware_at + timedelta(days=15)
    lena = cast.reviewer("legal")
    page = log_in(browser, live_server, lena, "/admin/governance/incident/?reporting=pending")
    page.wait_for_selector("text=credit limits zeroed")
    screenshot(page, "incidents-pending.png")

    page.click("text=credit limits zeroed")
    page.wait_for_selector("text=governance.IncidentReported")
    page.click("text=Record the report to the authority")
    page.wait_for_selector("#id_authority")
    page.fill("#id_authority", "Bundesnetzagentur")
    page.fill("#id_reference", "AI-73-2026-0042")
    screenshot(page, "incident-authority-report.png")
    page.click("input[name=_submit]")
    page.wait_for_selector("text=The report to the authority is recorded.")
    assert "governance.IncidentReportedToAuthority" in page.content()
    reported = governance_streams.load_incident(state.id)
    assert (reported.authority, reported.authority_reference) == (
        "Bundesnetzagentur",
        "AI-73-2026-0042",
    )
    assert reported.authority_recorded_by == lena.pk

    page.click("text=Close the incident")
    page.wait_for_selector("#id_resolution")
    page.fill("#id_resolution", "pipeline fixed, limits restored, customers told")
    page.click("input[name=_submit]")
    page.wait_for_selector("text=The incident is closed.")
    assert governance_streams.load_incident(state.id).status == "closed"
    assert "Close the incident" not in page.inner_text("#content")
