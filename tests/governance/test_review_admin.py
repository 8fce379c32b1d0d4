"""Periodic reviews in the admin: board members see their boards' due, overdue and escalated
reviews and complete them with the same command (and the same events) as the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import clock
from core.actors import Actor
from eventstore import store
from governance.commands import reviews
from governance.models import PeriodicReview
from tests.approvals.conftest import governed_version
from tests.conftest import make_user
from tests.governance.helpers import approved_version
from tests.helpers.admin import staff_client, submit_form

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_member_sees_overdue_escalated_review_and_completes_it_with_the_command(
    cast, evidence_store
):
    with clock.frozen(T0) as now:
        model, version, _ = approved_version(cast, evidence_store, "high")
        now.set(T0 + 31 * DAY)
        reviews.scan_reviews(actor=Actor.system("tests"))
        review = PeriodicReview.objects.get(version_id=version.id)
        raj = staff_client(cast.reviewer("model-risk", 1))
        overdue = raj.get("/admin/governance/periodicreview/?timing=overdue&escalation_level=1")
        upcoming = raj.get("/admin/governance/periodicreview/?timing=upcoming")
        assert overdue.status_code == 200
        assert model.name.encode() in overdue.content  # by name, not UUID
        assert model.name.encode() not in upcoming.content
        page = raj.get(f"/admin/governance/periodicreview/{review.id}/change/")
        assert b"Complete this review" in page.content
        assert b"governance.ReviewEscalated" in page.content
        url = f"/admin/governance/periodicreview/{review.id}/complete/"
        assert raj.get(url).status_code == 200
        done = submit_form(
            raj, url, {"board": "model-risk", "outcome": "satisfactory", "rationale": "checked"}
        )
    assert done.status_code == 302, done.content
    last = store.read_stream(review.id)[-1]
    assert last.type == "governance.ReviewCompleted" and last.data["late"] is True
    assert last.metadata["actor"] == f"user:{cast.reviewer('model-risk', 1).pk}"


def test_outsider_gets_no_review_pages_when_not_concerned(cast, evidence_store):
    with clock.frozen(T0) as now:
        _, version, _ = approved_version(cast, evidence_store, "high")
        now.set(T0 + 20 * DAY)
        reviews.scan_reviews(actor=Actor.system("tests"))
    review = PeriodicReview.objects.get(version_id=version.id)
    outsider = staff_client(make_user("oscar-outsider"))
    assert outsider.get("/admin/governance/periodicreview/").status_code == 403
    assert outsider.get(f"/admin/governance/periodicreview/{review.id}/complete/").status_code in (
        403,
        404,
    )


def test_audit_page_shows_selection_rates_as_an_svg_chart(cast, evidence_store):
    from governance.commands import audits
    from tests.approvals.conftest import actor_of
    from tests.governance.helpers import SPEC, rows

    model, _, _ = approved_version(cast, evidence_store, "high")
    outcome = audits.run_bias_audit(
        actor=actor_of(cast.owner), model_id=model.id, number=1, spec=SPEC, rows=rows(0.8, 0.3)
    )
    eli = staff_client(cast.reviewer("ethics"))
    listing = eli.get("/admin/governance/biasaudit/?verdict=fail")
    assert model.name.encode() in listing.content and b">v1<" in listing.content
    page = eli.get(f"/admin/governance/biasaudit/{outcome.audit.id}/change/")
    assert page.status_code == 200
    chart = page.content.decode()
    assert "<svg" in chart and "0.80 · 80/100 selected · reference" in chart
    assert "0.30 · 30/100 selected · DIR 0.38 · p=" in chart and "#c0392b" in chart
    assert "selection rate (share of the group" in chart  # the axis is labelled
    assert "threshold: 0.8 &#215; the reference rate" in chart  # the legend names the line
    findings = eli.get("/admin/governance/finding/?status=open")
    assert b"bias audit of" in findings.content


def test_approval_page_shows_the_bias_audit_the_ledger_recorded(cast, evidence_store):
    from approvals import commands as approvals
    from governance.commands import audits
    from tests.approvals.conftest import actor_of
    from tests.governance.helpers import SPEC, rows

    model, _ = governed_version(cast, evidence_store, "high", "audited-page")
    outcome = audits.run_bias_audit(
        actor=actor_of(cast.owner), model_id=model.id, number=1, spec=SPEC, rows=rows(0.8, 0.3)
    )
    request = approvals.request_approval(actor=actor_of(cast.owner), model_id=model.id, number=1)
    page = staff_client(cast.reviewer("ethics")).get(
        f"/admin/approvals/approvalrequest/{request.id}/change/"
    )
    assert page.status_code == 200
    assert f"/admin/governance/biasaudit/{outcome.audit.id}/change/".encode() in page.content
    assert b'<span class="pill bad">fail</span>' in page.content
    assert b"on_demand audit</a> of 200 rows" in page.content
    assert b"<svg" in page.content and "0.30 · 30/100 selected".encode() in page.content
    assert b'<tr data-kind="evaluation_data">' in page.content  # the audited data, to open
    assert b"computed on rows a client posted: never counts toward the promotion gate" in (
        page.content
    )
