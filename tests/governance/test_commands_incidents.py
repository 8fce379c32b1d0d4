"""Serious incidents through the commands: the Art. 73 clock on high and critical models only,
reminders exactly once with the frozen clock, an overdue report marked once with a finding,
the report to the authority, closure, and who may do each."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from boards import commands as board_commands
from boards.errors import SeparationOfDuties
from core import clock
from core.actors import Actor
from core.errors import DomainError
from eventstore.models import Event, OutboxMessage
from governance import streams as governance_streams
from governance.commands import findings, incidents
from governance.errors import (
    AuthorityReportRequired,
    IncidentClosed,
    InvalidAuthorityReport,
    NotIncidentReporter,
    NotIncidentReviewer,
)
from governance.models import Finding, Incident
from registry.errors import ModelVersionNotFound
from tests.approvals.conftest import actor_of
from tests.conftest import make_user
from tests.governance.helpers import event_types, model_of_tier, report

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SCAN = Actor.system("tests.scan_incidents")


def scan():
    return incidents.scan_incidents(actor=SCAN)


def notices(incident_id) -> list[dict]:
    return [
        m.kwargs
        for m in OutboxMessage.objects.filter(task=incidents.NOTIFY_TASK).order_by("position")
        if m.kwargs["incident_id"] == str(incident_id)
    ]


def board_ids(cast, *boards: str) -> set[int]:
    return {user.pk for board in boards for user in cast.members[board]}


def test_incident_on_a_high_model_starts_a_fifteen_day_clock_and_tells_team_and_boards(cast):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0 + timedelta(hours=3)):
        state = report(cast, model, version_number=1)
    assert state.clock_applies and state.tier == "high"
    assert state.deadline_at == T0 + 15 * DAY
    assert state.reminder_times == (T0 + timedelta(days=7, hours=12), T0 + 14 * DAY)
    assert state.version_number == 1 and state.version_id is not None
    row = Incident.objects.get(id=state.id)
    assert (row.status, row.deadline_at, row.reported_by) == (
        "open",
        state.deadline_at,
        cast.owner.pk,
    )
    (notice,) = notices(state.id)
    assert notice["event"] == "reported"
    assert set(notice["user_ids"]) == {cast.owner.pk} | board_ids(cast, "model-risk", "legal")


@pytest.mark.parametrize(
    ("classes", "days"), [(["death"], 10), (["widespread"], 2), (["serious", "widespread"], 2)]
)
def test_deadline_is_shorter_when_a_person_died_or_the_incident_is_widespread(cast, classes, days):
    model = model_of_tier(cast, "critical")
    with clock.frozen(T0):
        state = report(cast, model, classes=classes)
    assert state.deadline_at == T0 + days * DAY


@pytest.mark.parametrize("tier", ["low", "medium"])
def test_incident_below_high_is_recorded_without_a_clock_and_the_scan_leaves_it(cast, tier):
    model = model_of_tier(cast, tier)
    with clock.frozen(T0) as now:
        state = report(cast, model, classes=["death"])
        now.set(T0 + 30 * DAY)
        assert scan() == incidents.IncidentScanReport(0, 0, 0)
        closed = incidents.close_incident(
            actor=actor_of(cast.reviewer("legal")),
            incident_id=state.id,
            resolution="pipeline fixed and limits restored",
        )
    assert not state.clock_applies and state.deadline_at is None and state.reminder_times == ()
    assert closed.status == "closed"
    assert event_types(state.id) == ["IncidentReported", "IncidentClosed"]


def test_scan_reminds_exactly_once_per_reminder_then_marks_overdue_once_with_a_finding(cast):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0) as now:
        state = report(cast, model)
        assert scan() == incidents.IncidentScanReport(0, 0, 0)
        now.set(T0 + timedelta(days=7, hours=12))
        assert scan().reminders == 1
        assert scan() == incidents.IncidentScanReport(0, 0, 0)
        now.set(T0 + 14 * DAY)
        assert scan().reminders == 1
        now.set(T0 + 15 * DAY)
        assert scan() == incidents.IncidentScanReport(0, 0, 0)  # due, not yet overdue
        now.set(T0 + 15 * DAY + timedelta(minutes=1))
        assert scan() == incidents.IncidentScanReport(0, 1, 0)
        assert scan() == incidents.IncidentScanReport(0, 0, 0)
    assert event_types(state.id) == [
        "IncidentReported",
        "IncidentReportDeadlineReminderSent",
        "IncidentReportDeadlineReminderSent",
        "IncidentReportOverdue",
    ]
    after = governance_streams.load_incident(state.id)
    assert after.overdue and after.reminders_sent == 2
    finding = Finding.objects.get(id=after.finding_id)
    assert (finding.source, finding.source_id, finding.severity) == ("incident", state.id, "high")
    assert finding.owner_team == "fraud-ml" and sorted(finding.boards) == ["legal", "model-risk"]
    assert finding.version_id is None and finding.status == "open"
    assert [n["event"] for n in notices(state.id)] == [
        "reported",
        "reminder",
        "reminder",
        "overdue",
    ]
    assert cast.officer.pk in notices(state.id)[-1]["user_ids"]
    assert Incident.objects.get(id=state.id).overdue


def test_a_late_scan_marks_overdue_without_sending_stale_reminders(cast):
    model = model_of_tier(cast, "critical")
    with clock.frozen(T0) as now:
        state = report(cast, model, classes=["widespread"])
        now.set(T0 + 3 * DAY)
        assert scan() == incidents.IncidentScanReport(0, 1, 0)
    assert event_types(state.id) == ["IncidentReported", "IncidentReportOverdue"]
    assert Finding.objects.get(source_id=state.id).severity == "critical"


def test_a_scan_that_skipped_a_reminder_sends_only_the_latest(cast):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0) as now:
        state = report(cast, model)
        now.set(T0 + 14 * DAY + timedelta(hours=1))
        assert scan().reminders == 1
        assert scan().reminders == 0
    assert governance_streams.load_incident(state.id).reminders_sent == 2


def test_report_to_the_authority_stops_the_clock_when_filed_in_time(cast):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0) as now:
        state = report(cast, model)
        now.set(T0 + 5 * DAY)
        filed = incidents.record_authority_report(
            actor=actor_of(cast.reviewer("legal")),
            incident_id=state.id,
            authority="national market surveillance authority",
            reference="MSA-2026-0042",
        )
        now.set(T0 + 30 * DAY)
        assert scan() == incidents.IncidentScanReport(0, 0, 0)
    assert filed.authority_reported_at == T0 + 5 * DAY and not filed.reported_late
    assert event_types(state.id) == ["IncidentReported", "IncidentReportedToAuthority"]
    assert not Finding.objects.filter(source_id=state.id).exists()


def test_report_filed_after_the_deadline_is_recorded_as_late(cast):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0) as now:
        state = report(cast, model, classes=["widespread"])
        now.set(T0 + 4 * DAY)
        scan()
        filed = incidents.record_authority_report(
            actor=actor_of(cast.officer),
            incident_id=state.id,
            authority="MSA",
            reference="late-1",
            reported_at=T0 + 3 * DAY,
        )
    assert filed.reported_late and filed.overdue


@pytest.mark.parametrize(
    ("change", "error", "code"),
    [
        ({"aware": T0 + DAY}, DomainError, "awareness_in_future"),
        ({"occurred_at": T0 + timedelta(hours=1)}, DomainError, "aware_before_occurred"),
        ({"classes": ["minor"]}, DomainError, "invalid_input"),
        ({"title": "   "}, DomainError, "unprocessable"),
        ({"version_number": 9}, ModelVersionNotFound, "model_version_not_found"),
    ],
)
def test_report_is_refused_and_nothing_appended_when_input_is_wrong(cast, change, error, code):
    model = model_of_tier(cast, "high")
    before = Event.objects.count()
    with clock.frozen(T0), pytest.raises(error) as refused:
        report(cast, model, **change)
    assert refused.value.code == code
    assert Event.objects.count() == before and not Incident.objects.exists()


def test_incidents_are_reported_by_owners_model_risk_and_officers_only(cast):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0):
        for stranger in (make_user("oscar-outsider"), cast.reviewer("ethics")):
            with pytest.raises(NotIncidentReporter):
                report(cast, model, actor=actor_of(stranger))
        report(cast, model, actor=actor_of(cast.reviewer("model-risk", 2)))
        report(cast, model, actor=actor_of(cast.officer))
    assert Incident.objects.count() == 2


def test_report_to_authority_and_closure_are_refused_to_owners_and_other_boards(cast):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0):
        state = report(cast, model)
    with pytest.raises(NotIncidentReviewer):
        incidents.record_authority_report(
            actor=actor_of(cast.reviewer("ethics")),
            incident_id=state.id,
            authority="MSA",
            reference="x",
        )
    board_commands.add_board_member(
        actor=actor_of(cast.admin), board="legal", user_id=cast.owner.pk
    )
    with pytest.raises(SeparationOfDuties) as sod:
        incidents.close_incident(
            actor=actor_of(cast.owner),
            incident_id=state.id,
            resolution="mine",
            no_report_reason="x",
        )
    assert sod.value.code == "sod_owner"
    assert event_types(state.id) == ["IncidentReported"]


def test_closing_needs_the_report_or_a_reason_when_the_clock_applied(cast):
    model = model_of_tier(cast, "high")
    legal = actor_of(cast.reviewer("legal"))
    with clock.frozen(T0) as now:
        state = report(cast, model)
        with pytest.raises(AuthorityReportRequired):
            incidents.close_incident(actor=legal, incident_id=state.id, resolution="fixed")
        with pytest.raises(InvalidAuthorityReport):
            incidents.record_authority_report(
                actor=legal,
                incident_id=state.id,
                authority="MSA",
                reference="r",
                reported_at=T0 - 3 * DAY,
            )
        now.advance(DAY)
        closed = incidents.close_incident(
            actor=legal,
            incident_id=state.id,
            resolution="assessed: no harm to health, rights or property",
            no_report_reason="not a serious incident within Art. 3(49) after assessment",
        )
        with pytest.raises(IncidentClosed):
            incidents.close_incident(
                actor=legal, incident_id=state.id, resolution="again", no_report_reason="x"
            )
        now.set(T0 + 30 * DAY)
        assert scan() == incidents.IncidentScanReport(0, 0, 0)
    assert closed.status == "closed" and closed.no_report_reason.startswith("not a serious")


def test_overdue_finding_without_a_version_is_closed_by_a_board_member(cast):
    model = model_of_tier(cast, "high")
    with clock.frozen(T0) as now:
        state = report(cast, model, classes=["widespread"])
        now.set(T0 + 3 * DAY)
        scan()
        finding_id = governance_streams.load_incident(state.id).finding_id
        closed = findings.close_finding(
            actor=actor_of(cast.reviewer("model-risk", 1)),
            finding_id=finding_id,
            resolution="report filed late; on-call rota for Art. 73 reports",
            evidence="MSA acknowledgement MSA-2026-0050",
        )
    assert closed.status == "closed" and closed.version_id is None


def test_rebuild_reproduces_incident_tables_when_replayed(pristine_ledger, cast):
    from eventstore.projection import checksum, registered_tables

    model = model_of_tier(cast, "high")
    with clock.frozen(T0) as now:
        state = report(cast, model, version_number=1)
        now.set(T0 + 16 * DAY)
        scan()
        incidents.record_authority_report(
            actor=actor_of(cast.officer), incident_id=state.id, authority="MSA", reference="r"
        )
    before = {m: checksum(m) for m in registered_tables()}
    assert Incident.objects.count() == 1
    call_command("rebuild_projections", "--no-progress", stdout=io.StringIO())
    assert {m: checksum(m) for m in registered_tables()} == before


def test_authority_report_and_closure_are_refused_when_the_incident_moved_since_it_was_seen(cast):
    from eventstore.types import ConcurrencyConflict

    model = model_of_tier(cast, "high")
    legal = actor_of(cast.reviewer("legal"))
    with clock.frozen(T0):
        state = report(cast, model)
        seen = {state.id: state.stream_version}
        incidents.record_authority_report(
            actor=legal, incident_id=state.id, authority="MSA", reference="R-1"
        )
        before = Event.objects.count()
        with pytest.raises(ConcurrencyConflict) as caught:
            incidents.close_incident(
                actor=legal, incident_id=state.id, resolution="fixed", expected_versions=seen
            )
        assert str(caught.value.stream_id) == state.id
        assert Event.objects.count() == before
        closed = incidents.close_incident(
            actor=legal,
            incident_id=state.id,
            resolution="fixed",
            expected_versions={state.id: seen[state.id] + 1},
        )
    assert closed.status == "closed"
