"""Identifiers the API takes as UUIDs (approval requests, reviews, bias audits, findings,
incidents):
anything malformed or unknown is a 4xx problem+json, never a 500 or an HTML page, and
changes nothing."""

from __future__ import annotations

import uuid

import pytest

from eventstore.models import Event
from tests.api.helpers import PROBLEM, assert_problem

pytestmark = pytest.mark.django_db

DECISION = {"board": "model-risk", "decision": "approve", "rationale": "fine"}
REASON = {"reason": "because"}
CLOSURE = {"resolution": "fixed", "evidence": "the new audit"}
COMPLETION = {"board": "model-risk", "outcome": "satisfactory", "rationale": "fine"}
AUTHORITY_REPORT = {"authority": "BNetzA", "reference": "AI-73-1"}
INCIDENT_CLOSURE = {"resolution": "fixed"}
# (method, path, a body valid for the operation, the code for an unknown identifier)
UUID_PATHS = [
    ("get", "/api/v1/approvals/{id}/", {}, "approval_request_not_found"),
    ("get", "/api/v1/approvals/{id}/history/", {}, "approval_request_not_found"),
    ("post", "/api/v1/approvals/{id}/decisions/", DECISION, "approval_request_not_found"),
    ("post", "/api/v1/approvals/{id}/withdraw/", REASON, "approval_request_not_found"),
    ("post", "/api/v1/approvals/{id}/suspension/", REASON, "approval_request_not_found"),
    ("post", "/api/v1/approvals/{id}/reinstatement/", REASON, "approval_request_not_found"),
    ("get", "/api/v1/bias-audits/{id}/", {}, "bias_audit_not_found"),
    ("get", "/api/v1/findings/{id}/", {}, "finding_not_found"),
    ("post", "/api/v1/findings/{id}/closure/", CLOSURE, "finding_not_found"),
    ("get", "/api/v1/reviews/{id}/", {}, "review_not_found"),
    ("get", "/api/v1/reviews/{id}/history/", {}, "review_not_found"),
    ("post", "/api/v1/reviews/{id}/completion/", COMPLETION, "review_not_found"),
    ("get", "/api/v1/incidents/{id}/", {}, "incident_not_found"),
    ("get", "/api/v1/incidents/{id}/history/", {}, "incident_not_found"),
    ("post", "/api/v1/incidents/{id}/authority-report/", AUTHORITY_REPORT, "incident_not_found"),
    ("post", "/api/v1/incidents/{id}/closure/", INCIDENT_CLOSURE, "incident_not_found"),
]
MALFORMED = [
    "not-a-uuid",
    "123",
    "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
    "0" * 31,
    "0" * 33,
    "6f1c3a52-0d4b-4f0e-9a57-3d2b8c1e7a1",
    "6f1c3a52-0d4b-4f0e-9a57-3d2b8c1e7a100",
    "{6f1c3a52-0d4b-4f0e-9a57-3d2b8c1e7a10}",
    "6f1c3a52%2D0d4b-4f0e-9a57-3d2b8c1e7a10%20",
    "%F0%9F%92%A5",
    "x" * 5000,
]


@pytest.mark.parametrize(("method", "template", "body", "code"), UUID_PATHS)
@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_uuids_in_paths_get_a_404_problem(owner_api, method, template, body, code, value):
    before = Event.objects.count()
    response = getattr(owner_api, method)(template.format(id=value), body, format="json")
    assert response.status_code == 404, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == "not_found"
    assert Event.objects.count() == before


@pytest.mark.parametrize(("method", "template", "body", "code"), UUID_PATHS)
def test_unknown_uuids_in_paths_get_a_404_problem_naming_what_is_missing(
    owner_api, method, template, body, code
):
    before = Event.objects.count()
    response = getattr(owner_api, method)(template.format(id=uuid.uuid4()), body, format="json")
    assert_problem(response, 404, code)
    assert Event.objects.count() == before
