"""The steps of a finding before it is closed: its owners record the remediation; a member of
its boards independent of the model accepts its risk until a date (at most a year; it is due
again then), never its owners; through the API and the findings workspace alike; an accepted or
remediated finding is still closed with evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from approvals import commands as approvals
from boards.errors import NotBoardMember, SeparationOfDuties
from core import clock
from eventstore.models import Event
from governance import commands as governance
from governance.errors import FindingClosed, InvalidRiskAcceptance
from governance.models import Finding
from registry import commands as registry
from registry.errors import NotOwner
from tests.approvals.conftest import (
    actor_of,
    api,
    approve_high,
    governed_version,
    problem,
    revise_model_card,
)
from tests.helpers.admin import staff_client, submit_form


def _finding(cast, store, name: str) -> Finding:
    """A deployed high-tier version whose approval was voided: a finding for its boards."""
    model, version = governed_version(cast, store, "high", name)
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    approve_high(cast, request.id)
    registry.transition_model_version(
        actor=actor_of(cast.owner),
        version_id=version.id,
        expected_version=None,
        to_status="deployed",
    )
    revise_model_card(cast, store, version, b"revised in production", name)
    return Finding.objects.get(version_id=version.id, source="approval_voided")


def _accept(user, finding, *, days: int = 30, **kwargs):
    return governance.accept_finding_risk(
        actor=actor_of(user),
        finding_id=str(finding.id),
        reason=kwargs.pop("reason", "a manual check of every refusal until the fix ships"),
        expires_at=clock.now() + timedelta(days=days),
        **kwargs,
    )


def test_owners_and_outsiders_cannot_accept_a_findings_risk(cast, evidence_store):
    finding = _finding(cast, evidence_store, "risk-refused")
    before = Event.objects.count()
    with pytest.raises(NotBoardMember):
        _accept(cast.owner, finding)
    with pytest.raises(NotBoardMember):
        _accept(cast.reviewer("security"), finding)  # not one of the finding's boards
    insider = cast.reviewer("ethics", 1)
    insider.groups.add(Group.objects.get(name="fraud-ml"))
    with pytest.raises(SeparationOfDuties) as refused:
        _accept(insider, finding)
    assert refused.value.code == "sod_owner"
    assert Event.objects.count() == before


@pytest.mark.parametrize("days", [0, -1, 400])
def test_an_acceptance_expires_in_the_future_and_within_a_year(cast, evidence_store, days):
    finding = _finding(cast, evidence_store, f"risk-expiry-{days + 10}")
    with pytest.raises(InvalidRiskAcceptance):
        _accept(cast.reviewer("ethics"), finding, days=days)


def test_an_accepted_risk_is_due_again_at_its_expiry_and_still_closed_with_evidence(
    cast, evidence_store
):
    finding = _finding(cast, evidence_store, "risk-accepted")
    state = _accept(cast.reviewer("ethics"), finding, days=60)
    assert state.status == "risk_accepted"
    row = Finding.objects.get(id=finding.id)
    assert row.status == "risk_accepted" and row.due_at == state.due_at
    assert row.due_at > clock.now() + timedelta(days=59)
    # Accepted again before it runs out, then closed with the evidence of the fix.
    _accept(cast.reviewer("legal"), finding, days=90, reason="the fix slipped a month")
    closed = governance.close_finding(
        actor=actor_of(cast.reviewer("ethics")),
        finding_id=str(finding.id),
        resolution="re-approved on the revised card",
        evidence="the request's decisions of today",
    )
    assert closed.status == "closed"
    with pytest.raises(FindingClosed):
        _accept(cast.reviewer("ethics"), finding)


def test_the_api_and_the_workspace_accept_a_risk_with_the_same_event(cast, evidence_store):
    by_api = _finding(cast, evidence_store, "risk-by-api")
    by_admin = _finding(cast, evidence_store, "risk-by-admin")
    expires = clock.now() + timedelta(days=30)
    eli = cast.reviewer("ethics")
    url = f"/api/v1/findings/{by_api.id}/risk-acceptance/"
    body = {"reason": "a manual check of every refusal", "expires_at": expires.isoformat()}
    problem(api(cast.owner).post(url, body, format="json"), 403, "not_board_member")
    problem(
        api(eli).post(url, {**body, "expires_at": "2099-01-01T00:00:00Z"}, format="json"),
        422,
        "invalid_risk_acceptance",
    )
    before = Event.objects.count()
    response = api(eli).post(url, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "risk_accepted"
    by_call = list(Event.objects.order_by("position").values_list("type", flat=True)[before:])

    workspace = staff_client(eli)
    page = workspace.get("/admin/governance/finding/mine/")
    assert b"Accept the risk" in page.content and b"accepted until" in page.content
    assert (
        b"Accept the risk"
        not in staff_client(cast.owner).get("/admin/governance/finding/mine/").content
    )
    before = Event.objects.count()
    done = submit_form(
        workspace,
        f"/admin/governance/finding/{by_admin.id}/risk-acceptance/",
        {"reason": "a manual check", "expires_at": expires.strftime("%Y-%m-%dT%H:%M")},
    )
    assert done.status_code == 302, done.content
    by_form = list(Event.objects.order_by("position").values_list("type", flat=True)[before:])
    assert by_form == by_call == ["governance.FindingRiskAccepted"]
    assert Finding.objects.get(id=by_admin.id).status == "risk_accepted"


def test_the_owners_record_a_remediation_and_a_reviewer_closes_the_finding(cast, evidence_store):
    finding = _finding(cast, evidence_store, "remediated")
    fix = {"note": "retrained on the corrected labels", "evidence": "version 2 and its audit"}
    before = Event.objects.count()
    with pytest.raises(NotOwner):
        governance.record_remediation(
            actor=actor_of(cast.reviewer("ethics")), finding_id=str(finding.id), **fix
        )
    assert Event.objects.count() == before
    state = governance.record_remediation(
        actor=actor_of(cast.owner), finding_id=str(finding.id), **fix
    )
    assert (state.status, state.resolution, state.evidence) == (
        "remediated",
        fix["note"],
        fix["evidence"],
    )
    # Remediated is not closed: the owners cannot close their own finding.
    with pytest.raises(NotBoardMember):
        governance.close_finding(
            actor=actor_of(cast.owner), finding_id=str(finding.id), resolution="x", evidence="y"
        )
    closed = governance.close_finding(
        actor=actor_of(cast.reviewer("ethics")),
        finding_id=str(finding.id),
        resolution="checked the new version's audit",
        evidence="audit of version 2",
    )
    assert closed.status == "closed"


def test_the_api_and_the_workspace_record_a_remediation_with_the_same_event(cast, evidence_store):
    by_api = _finding(cast, evidence_store, "remedy-by-api")
    by_admin = _finding(cast, evidence_store, "remedy-by-admin")
    fix = {"note": "retrained", "evidence": "version 2"}
    url = f"/api/v1/findings/{by_api.id}/remediation/"
    problem(api(cast.reviewer("ethics")).post(url, fix, format="json"), 403, "not_owner")
    before = Event.objects.count()
    response = api(cast.owner).post(url, fix, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "remediated"
    by_call = list(Event.objects.order_by("position").values_list("type", flat=True)[before:])

    owner = staff_client(cast.owner)
    page = owner.get("/admin/governance/finding/mine/").content
    assert b"Record the remediation" in page and b"Close with evidence" not in page
    reviewer_page = staff_client(cast.reviewer("ethics")).get("/admin/governance/finding/mine/")
    assert b"Record the remediation" not in reviewer_page.content
    before = Event.objects.count()
    done = submit_form(owner, f"/admin/governance/finding/{by_admin.id}/remediation/", fix)
    assert done.status_code == 302, done.content
    by_form = list(Event.objects.order_by("position").values_list("type", flat=True)[before:])
    assert by_form == by_call == ["governance.FindingRemediated"]
    page = staff_client(cast.reviewer("ethics")).get("/admin/governance/finding/mine/").content
    assert b"to be checked" in page and b"retrained" in page


def test_a_retried_remediation_records_once_and_a_stale_one_is_refused(cast, evidence_store):
    finding = _finding(cast, evidence_store, "remedy-retried")
    url = f"/api/v1/findings/{finding.id}/remediation/"
    client = api(cast.owner)
    read = client.get(f"/api/v1/findings/{finding.id}/")
    etag = read["ETag"]
    fix = {"note": "retrained", "evidence": "version 2"}
    before = Event.objects.count()
    first = client.post(url, fix, format="json", HTTP_IDEMPOTENCY_KEY="fix-1", HTTP_IF_MATCH=etag)
    again = client.post(url, fix, format="json", HTTP_IDEMPOTENCY_KEY="fix-1", HTTP_IF_MATCH=etag)
    assert first.status_code == again.status_code == 200, first.content
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Event.objects.count() == before + 1
    # The finding changed since the owner read it: a new step on the old read is refused.
    stale = client.post(url, {"note": "other", "evidence": "x"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412, stale.content
    assert Event.objects.count() == before + 1
