"""Serious incidents in the admin: read-only, listed by where their Art. 73 report stands,
with each incident's event history; outsiders get no incident pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import clock
from core.actors import Actor
from governance import incidents
from tests.approvals.test_admin import staff_client
from tests.conftest import make_user
from tests.governance.test_incidents import model_of_tier, report

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
