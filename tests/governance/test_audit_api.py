"""The bias-audit and finding API: run an audit on posted rows, read it, list a version's
audits; the failing audit's finding is listed, read as of a time and closed by a reviewer; an
audit of a new critical version is listed with its trigger."""

from __future__ import annotations

import pytest

from eventstore import store
from eventstore.models import OutboxMessage
from governance import tasks
from tests.api.conftest import client_for
from tests.approvals.conftest import governed_version, unique_name
from tests.conftest import make_user
from tests.governance.helpers import SPEC, approved_version, attach_evaluation_data, rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def audited(cast, evidence_store):
    model, _, _ = approved_version(cast, evidence_store, "high", audited=False)
    api = client_for(cast.owner)
    url = f"/api/v1/models/{model.name}/versions/1/bias-audits/"
    response = api.post(
        url, {"spec": SPEC, "rows": rows(0.8, 0.3)}, format="json", HTTP_IDEMPOTENCY_KEY="a-1"
    )
    assert response.status_code == 201, response.content
    return model, url, response


def test_posted_rows_are_audited_and_listed_when_the_owner_runs_an_audit(cast, audited):
    _, url, response = audited
    body = response.json()
    assert body["verdict"] == "fail" and body["rows"] == 200 and body["finding_id"]
    again = client_for(cast.owner).post(
        url, {"spec": SPEC, "rows": rows(0.8, 0.3)}, format="json", HTTP_IDEMPOTENCY_KEY="a-1"
    )
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    listed = client_for(cast.reviewer("ethics")).get(url).json()["results"]
    assert [a["id"] for a in listed] == [body["id"]]
    detail = client_for(cast.owner).get(response["Location"])
    assert detail.status_code == 200
    assert detail.json()["result"]["slices"][0]["reference_group"] == "a"


def test_audit_is_refused_with_a_problem_when_both_or_neither_source_is_given(cast, audited):
    _, url, _ = audited
    api = client_for(cast.owner)
    both = api.post(url, {"spec": SPEC, "rows": [], "evidence": "evaluation_data"}, format="json")
    neither = api.post(url, {"spec": SPEC}, format="json")
    assert both.status_code == neither.status_code == 400
    assert neither["Content-Type"].startswith("application/problem+json")


def test_finding_is_read_as_of_and_closed_by_an_ethics_reviewer(cast, audited):
    _, _, response = audited
    finding = response.json()["finding_id"]
    eli = client_for(cast.reviewer("ethics"))
    assert [
        f["id"] for f in eli.get("/api/v1/findings/", {"status": "open"}).json()["results"]
    ] == [finding]
    closed = eli.post(
        f"/api/v1/findings/{finding}/closure/",
        {"resolution": "retrained with reweighing", "evidence": "audit of version 2"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert closed.status_code == 200, closed.content
    assert closed.json()["status"] == "closed"
    opened_at = store.read_stream(finding)[0].position
    then = eli.get(f"/api/v1/findings/{finding}/", {"as_of": opened_at})
    assert then.json()["status"] == "open"


def test_outsiders_see_no_audits_or_findings_when_not_concerned(audited):
    _, url, response = audited
    outsider = client_for(make_user("oscar-outsider"))
    assert outsider.get(url).json()["results"] == []
    assert outsider.get(response["Location"]).status_code == 404
    assert outsider.get("/api/v1/findings/").json()["results"] == []


def test_audit_of_a_new_critical_version_is_listed_with_its_trigger(cast, evidence_store):
    model, version = governed_version(
        cast, evidence_store, "critical", unique_name("critical-model"), audited=False
    )
    attach_evaluation_data(cast, evidence_store, model, version, rows(0.5, 0.5))
    (message,) = OutboxMessage.objects.filter(task=tasks.AUDIT_NEW_VERSION)
    tasks.audit_new_version.apply(kwargs=message.kwargs, task_id=str(message.id)).get()
    url = f"/api/v1/models/{model.name}/versions/1/bias-audits/"
    (listed,) = client_for(cast.reviewer("ethics")).get(url).json()["results"]
    assert listed["trigger"] == "new_version" and listed["verdict"] == "pass"
    assert listed["recorded_by"] == "system:governance.audit_new_version"
