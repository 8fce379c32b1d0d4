"""The periodic review API: lists with filters for due, overdue and escalated reviews, a
review as of a time, completion with If-Match and Idempotency-Key; only those concerned see
them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import clock
from core.actors import Actor
from eventstore import store
from governance.commands import reviews
from governance.models import PeriodicReview
from tests.api.conftest import client_for
from tests.conftest import make_user
from tests.governance.helpers import approved_version

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def overdue_review(cast, evidence_store):
    """A high-tier review past its due date, reminded and escalated to the chair."""
    with clock.frozen(T0) as now:
        _, version, _ = approved_version(cast, evidence_store, "high")
        now.set(T0 + 16 * DAY)
        reviews.scan_reviews(actor=Actor.system("tests"))
        now.set(T0 + 31 * DAY)
        reviews.scan_reviews(actor=Actor.system("tests"))
    return PeriodicReview.objects.get(version_id=version.id)


def test_lists_overdue_and_escalated_reviews_when_filtered(cast, overdue_review):
    api = client_for(cast.reviewer("legal"))
    with clock.frozen(T0 + 31 * DAY):
        overdue = api.get("/api/v1/reviews/", {"timing": "overdue", "escalated": "true"})
        due = api.get("/api/v1/reviews/", {"timing": "due"})
    assert overdue.status_code == 200, overdue.content
    (row,) = overdue.json()["results"]
    assert row["id"] == str(overdue_review.id)
    assert row["escalation_level"] == 1 and row["status"] == "open"
    assert due.json()["results"] == []
    assert api.get("/api/v1/reviews/", {"timing": "soon"}).status_code == 400


def test_review_reads_as_it_was_when_as_of_is_given(cast, overdue_review):
    api = client_for(cast.reviewer("ethics"))
    opened = store.read_stream(overdue_review.id)[0]
    then = api.get(f"/api/v1/reviews/{overdue_review.id}/", {"as_of": opened.position})
    now = api.get(f"/api/v1/reviews/{overdue_review.id}/")
    assert then.status_code == now.status_code == 200
    assert then.json()["escalation_level"] == 0 and then.json()["version"] == 1
    assert now.json()["escalation_level"] == 1 and now["ETag"] == '"3"'


def test_member_completes_a_review_when_if_match_is_current(cast, overdue_review):
    api = client_for(cast.reviewer("model-risk", 1))
    url = f"/api/v1/reviews/{overdue_review.id}/completion/"
    body = {"board": "model-risk", "outcome": "satisfactory", "rationale": "checked drift"}
    stale = api.post(url, body, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    done = api.post(url, body, format="json", HTTP_IF_MATCH='"3"', HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "completed" and done.json()["late"] is True
    assert again.status_code == 200 and again.json() == done.json()
    assert [e.type for e in store.read_stream(overdue_review.id)].count(
        "governance.ReviewCompleted"
    ) == 1


def test_completion_is_refused_with_a_problem_when_the_owner_tries(cast, overdue_review):
    response = client_for(cast.owner).post(
        f"/api/v1/reviews/{overdue_review.id}/completion/",
        {"board": "model-risk", "outcome": "satisfactory", "rationale": "mine"},
        format="json",
    )
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_board_member"


def test_outsiders_see_no_reviews_when_they_are_not_concerned(overdue_review):
    api = client_for(make_user("oscar-outsider"))
    assert api.get("/api/v1/reviews/").json()["results"] == []
    assert api.get(f"/api/v1/reviews/{overdue_review.id}/").status_code == 404
    assert api.get(f"/api/v1/reviews/{overdue_review.id}/history/").status_code == 404


def test_review_history_is_paged_oldest_first_when_page_size_is_given(cast, overdue_review):
    api = client_for(cast.reviewer("legal"))
    url = f"/api/v1/reviews/{overdue_review.id}/history/"
    first = api.get(url, {"page_size": 2})
    assert first.status_code == 200, first.content
    assert [e["version"] for e in first.json()["results"]] == [1, 2]
    assert first.json()["previous"] is None
    rest = api.get(first.json()["next"]).json()
    assert [e["version"] for e in rest["results"]] == [3]
    assert rest["next"] is None
    assert rest["results"][0]["type"] == "governance.ReviewEscalated"
