"""Serious incidents in the admin: read-only, listed by where their Art. 73 report stands,
with each incident's event history; outsiders get no incident pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import clock
from core.actors import Actor
from governance import streams as governance_streams
from governance.commands import incidents
from tests.approvals.conftest import actor_of
from tests.conftest import make_user
from tests.governance.helpers import model_of_tier, report
from tests.helpers.admin import form_fields, staff_client, submit_form

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_board_member_sees_overdue_incidents_by_reporting_status(cast):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0) as now:
        late = report(cast, model, title="limits zeroed", classes=["widespread"])
        running = report(cast, model, title="scores delayed")
        now.set(T0 + 3 * DAY)
        incidents.scan_incidents(actor=Actor.system("tests"))
        lena = staff_client(cast.reviewer("legal"))
        overdue = lena.get("/admin/governance/incident/?reporting=overdue")
        pending = lena.get("/admin/governance/incident/?reporting=pending")
        page = lena.get(f"/admin/governance/incident/{late.id}/change/")
    assert overdue.status_code == pending.status_code == 200
    assert b"limits zeroed" in overdue.content and b"scores delayed" not in overdue.content
    assert b"scores delayed" in pending.content
    assert b"governance.IncidentReportOverdue" in page.content
    assert lena.post(f"/admin/governance/incident/{running.id}/delete/").status_code == 403


def test_outsider_gets_no_incident_pages_when_not_concerned(cast):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0):
        state = report(cast, model)
    outsider = staff_client(make_user("oscar-outsider"))
    assert outsider.get("/admin/governance/incident/").status_code == 403
    assert outsider.get(f"/admin/governance/incident/{state.id}/change/").status_code in (302, 403)


def test_legal_reviewer_records_the_report_and_closes_the_incident_in_the_admin(cast):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0):
        state = report(cast, model, title="limits zeroed")
        lena = staff_client(cast.reviewer("legal"))
        page = lena.get(f"/admin/governance/incident/{state.id}/change/")
        assert b"Record the report to the authority" in page.content
        assert b"Close the incident" in page.content
        url = f"/admin/governance/incident/{state.id}/authority-report/"
        assert lena.get(url).status_code == 200
        # A form the command refuses shows the command's message and code, records nothing.
        refused = submit_form(lena, url, {"authority": "BNetzA", "reference": "x" * 201})
        assert refused.status_code == 200
        assert governance_streams.load_incident(state.id).authority_reported_at is None
        done = submit_form(lena, url, {"authority": "BNetzA", "reference": "AI-73-2026-0042"})
        assert done.status_code == 302
        reported = governance_streams.load_incident(state.id)
        assert reported.authority == "BNetzA" and reported.authority_reference == "AI-73-2026-0042"
        page = lena.get(f"/admin/governance/incident/{state.id}/change/")
        assert b"Record the report to the authority" not in page.content
        closed = submit_form(
            lena,
            f"/admin/governance/incident/{state.id}/closure/",
            {"resolution": "pipeline fixed"},
        )
        assert closed.status_code == 302
    assert governance_streams.load_incident(state.id).status == "closed"


def test_owner_is_refused_by_the_command_when_recording_the_authority_report(cast):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0):
        state = report(cast, model)
        owner = staff_client(cast.owner)
        url = f"/admin/governance/incident/{state.id}/authority-report/"
        response = submit_form(owner, url, {"authority": "CNIL", "reference": "R-1"})
    assert response.status_code == 200
    assert b"not_incident_reviewer" in response.content
    assert governance_streams.load_incident(state.id).authority_reported_at is None


def test_closing_without_the_report_asks_for_a_reason_in_the_admin(cast):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0):
        state = report(cast, model)
        lena = staff_client(cast.reviewer("legal"))
        url = f"/admin/governance/incident/{state.id}/closure/"
        refused = submit_form(lena, url, {"resolution": "not serious after all"})
        assert refused.status_code == 200
        assert b"authority_report_required" in refused.content
        assert governance_streams.load_incident(state.id).status == "open"
        done = submit_form(
            lena,
            url,
            {"resolution": "not serious after all", "no_report_reason": "assessed not serious"},
        )
    assert done.status_code == 302
    assert governance_streams.load_incident(state.id).status == "closed"


def test_closure_is_refused_with_what_changed_when_the_report_was_recorded_after_the_page_opened(
    cast,
):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0):
        state = report(cast, model)
        lena = staff_client(cast.reviewer("legal"))
        url = f"/admin/governance/incident/{state.id}/closure/"
        filled = {**form_fields(lena.get(url)), "resolution": "pipeline fixed"}
        incidents.record_authority_report(
            actor=actor_of(cast.officer), incident_id=state.id, authority="MSA", reference="R-7"
        )
        stale = lena.post(url, filled)
        assert stale.status_code == 409
        assert b"Incident reported to authority" in stale.content
        assert cast.officer.get_username().encode() in stale.content
        assert governance_streams.load_incident(state.id).status == "open"
        done = lena.post(url, form_fields(stale))
    assert done.status_code == 302
    assert governance_streams.load_incident(state.id).status == "closed"
