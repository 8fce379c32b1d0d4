"""The serious-incident API: report an incident for a model, read it (also as of a time) with
its ETag, record the report to the authority and close it with If-Match and Idempotency-Key;
bad input is a problem and appends nothing; only those concerned see or act."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import clock
from core.actors import Actor
from eventstore import store
from eventstore.models import Event
from governance.commands import incidents
from governance.models import Incident
from tests.api.conftest import client_for
from tests.conftest import make_user
from tests.governance.helpers import model_of_tier

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
BODY = {
    "title": "credit limits set to zero",
    "description": "a feature pipeline fault zeroed limits for six hours",
    "occurred_at": "2026-03-02T07:00:00Z",
    "became_aware_at": "2026-03-02T09:00:00Z",
    "classes": ["serious"],
}


def url(model) -> str:
    return f"/api/v1/models/{model.name}/incidents/"


def assert_problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == code


@pytest.fixture
def high_model(cast):
    return model_of_tier(cast, "high")


@pytest.fixture
def reported(cast, high_model):
    with clock.frozen(T0 + timedelta(hours=1)):
        response = client_for(cast.owner).post(url(high_model), BODY, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_owner_reports_an_incident_and_the_clock_runs_when_the_model_is_high(cast, high_model):
    api = client_for(cast.owner)
    with clock.frozen(T0 + timedelta(hours=1)):
        first = api.post(
            url(high_model), {**BODY, "version": 1}, format="json", HTTP_IDEMPOTENCY_KEY="i-1"
        )
        again = api.post(
            url(high_model), {**BODY, "version": 1}, format="json", HTTP_IDEMPOTENCY_KEY="i-1"
        )
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["clock_applies"] is True and body["reporting_status"] == "pending"
    assert body["deadline_at"] == "2026-03-17T09:00:00Z"
    assert body["reminder_times"] == ["2026-03-09T21:00:00Z", "2026-03-16T09:00:00Z"]
    assert body["version_number"] == 1 and body["status"] == "open"
    assert first["Location"] == f"/api/v1/incidents/{body['id']}/" and first["ETag"] == '"1"'
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert Incident.objects.count() == 1


def test_incident_on_a_low_model_says_no_clock_applies(cast):
    model = model_of_tier(cast, "low")
    with clock.frozen(T0 + timedelta(hours=1)):
        response = client_for(cast.owner).post(url(model), BODY, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["clock_applies"] is False and body["deadline_at"] is None
    assert body["reporting_status"] == "not_required" and body["reminder_times"] == []


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"became_aware_at": "2026-03-05T09:00:00Z"}, 422, "awareness_in_future"),
        ({"occurred_at": "2026-03-02T10:00:00Z"}, 422, "aware_before_occurred"),
        ({"classes": ["minor"]}, 400, "validation_error"),
        ({"classes": []}, 400, "validation_error"),
        ({"title": " "}, 422, "unprocessable"),
        ({"severity": "high"}, 400, "validation_error"),
        ({"version": 7}, 404, "model_version_not_found"),
        ({"became_aware_at": "yesterday"}, 400, "validation_error"),
    ],
)
def test_bad_input_is_a_problem_and_appends_nothing(cast, high_model, change, status, code):
    before = Event.objects.count()
    with clock.frozen(T0 + timedelta(hours=1)):
        response = client_for(cast.owner).post(url(high_model), {**BODY, **change}, format="json")
    assert_problem(response, status, code)
    assert Event.objects.count() == before and not Incident.objects.exists()


def test_outsiders_can_neither_report_nor_see_incidents(cast, high_model, reported):
    api = client_for(make_user("oscar-outsider"))
    with clock.frozen(T0 + timedelta(hours=2)):
        refused = api.post(url(high_model), BODY, format="json")
    assert_problem(refused, 403, "not_allowed_to_report_incident")
    assert api.get(url(high_model)).json()["results"] == []
    assert api.get("/api/v1/incidents/").json()["results"] == []
    assert_problem(api.get(f"/api/v1/incidents/{reported['id']}/"), 404, "incident_not_found")
    assert api.get(f"/api/v1/incidents/{reported['id']}/history/").status_code == 404
    assert_problem(api.get("/api/v1/models/no-such-model/incidents/"), 404, "model_not_found")


def test_incident_reads_as_it_was_when_as_of_is_given(cast, reported):
    with clock.frozen(T0 + 16 * DAY):
        incidents.scan_incidents(actor=Actor.system("tests"))
    api = client_for(cast.reviewer("legal"))
    first = store.read_stream(reported["id"])[0]
    then = api.get(f"/api/v1/incidents/{reported['id']}/", {"as_of": first.position})
    now = api.get(f"/api/v1/incidents/{reported['id']}/")
    assert then.status_code == now.status_code == 200
    assert then.json()["overdue"] is False and then["ETag"] == '"1"'
    assert now.json()["overdue"] is True and now.json()["finding_id"] is not None
    assert now["ETag"] == '"2"'
    history = api.get(f"/api/v1/incidents/{reported['id']}/history/").json()["results"]
    assert [e["type"] for e in history] == [
        "governance.IncidentReported",
        "governance.IncidentReportOverdue",
    ]


def test_legal_records_the_authority_report_then_closes_when_if_match_is_current(cast, reported):
    api = client_for(cast.reviewer("legal"))
    report_url = f"/api/v1/incidents/{reported['id']}/authority-report/"
    body = {"authority": "national market surveillance authority", "reference": "MSA-42"}
    with clock.frozen(T0 + 3 * DAY):
        stale = api.post(report_url, body, format="json", HTTP_IF_MATCH='"7"')
        filed = api.post(
            report_url, body, format="json", HTTP_IF_MATCH='"1"', HTTP_IDEMPOTENCY_KEY="a-1"
        )
        again = api.post(report_url, body, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
        twice = api.post(report_url, body, format="json")
    assert_problem(stale, 412, "precondition_failed")
    assert filed.status_code == 200, filed.content
    assert filed.json()["reporting_status"] == "reported" and filed.json()["reported_late"] is False
    assert filed.json()["authority_reference"] == "MSA-42"
    assert again.status_code == 200 and again.json() == filed.json()
    assert_problem(twice, 409, "already_reported_to_authority")
    closure = f"/api/v1/incidents/{reported['id']}/closure/"
    with clock.frozen(T0 + 4 * DAY):
        closed = api.post(
            closure, {"resolution": "pipeline fixed"}, format="json", HTTP_IF_MATCH='"2"'
        )
    assert closed.status_code == 200, closed.content
    assert closed.json()["status"] == "closed" and closed["ETag"] == '"3"'


def test_closing_without_the_report_is_a_conflict_when_the_clock_applied(cast, reported):
    api = client_for(cast.officer)
    response = api.post(
        f"/api/v1/incidents/{reported['id']}/closure/", {"resolution": "fixed"}, format="json"
    )
    assert_problem(response, 409, "authority_report_required")
    assert len(store.read_stream(reported["id"])) == 1


def test_owners_and_other_boards_are_refused_the_authority_report(cast, reported):
    body = {"authority": "MSA", "reference": "r"}
    report_url = f"/api/v1/incidents/{reported['id']}/authority-report/"
    assert_problem(
        client_for(cast.reviewer("ethics")).post(report_url, body, format="json"),
        403,
        "not_incident_reviewer",
    )
    assert_problem(
        client_for(cast.owner).post(report_url, body, format="json"),
        403,
        "not_incident_reviewer",
    )


def test_lists_overdue_clocks_by_deadline_when_filtered(cast, high_model, reported):
    with clock.frozen(T0 + 5 * DAY):
        client_for(cast.owner).post(
            url(high_model), {**BODY, "classes": ["widespread"]}, format="json"
        )
    api = client_for(cast.reviewer("model-risk"))
    with clock.frozen(T0 + 10 * DAY):
        overdue = api.get("/api/v1/incidents/", {"reporting": "overdue"})
        pending = api.get("/api/v1/incidents/", {"reporting": "pending", "ordering": "deadline_at"})
        mine = client_for(cast.owner).get(url(high_model), {"ordering": "deadline_at"})
    assert [r["classes"] for r in overdue.json()["results"]] == [["widespread"]]
    assert [r["id"] for r in pending.json()["results"]] == [reported["id"]]
    assert [r["deadline_at"] for r in mine.json()["results"]] == [
        "2026-03-04T09:00:00Z",
        "2026-03-17T09:00:00Z",
    ]
    assert api.get("/api/v1/incidents/", {"reporting": "late"}).status_code == 400
