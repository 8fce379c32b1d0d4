"""Time travel: traversal as of a timestamp sees the graph as it stood then, and an audit trail
for a time range holds exactly the events recorded in it."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from core import clock
from eventstore.audit.trailer import without_trailer
from lineage import commands
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def test_traversal_as_of_a_timestamp_sees_only_what_was_recorded_by_then(ledger, owner_api):
    with clock.frozen(T0) as time:
        (data,) = ledger.dataset("transactions")
        base, tuned = ledger.model("fraud", 2)
        time.advance(timedelta(days=1))
        commands.record_edge(actor=ledger.actor, source=data, target=base, edge_type="trained_on")
        time.advance(timedelta(days=1))
        commands.record_edge(
            actor=ledger.actor, source=base, target=tuned, edge_type="fine_tuned_from"
        )

    def upstream(moment):
        response = owner_api.get(
            "/api/v1/lineage/upstream/", {"node": tuned, "as_of": moment.isoformat()}
        )
        return response.status_code, {n["id"] for n in response.json().get("nodes", [])}

    assert upstream(T0 + timedelta(hours=1)) == (200, {tuned})
    assert upstream(T0 + timedelta(days=1, hours=1)) == (200, {tuned})
    assert upstream(T0 + timedelta(days=2, hours=1)) == (200, {tuned, base, data})
    assert upstream(T0 - timedelta(hours=1))[0] == 404
    down = owner_api.get(
        "/api/v1/lineage/downstream/",
        {"node": data, "as_of": (T0 + timedelta(days=1, hours=1)).isoformat()},
    )
    assert {n["id"] for n in down.json()["nodes"]} == {data, base}


def test_audit_trail_for_a_time_range_holds_the_events_recorded_in_it(ledger, auditor):
    with clock.frozen(T0) as time:
        ledger.model("early")
        time.advance(timedelta(days=1))
        ledger.model("middle")
        time.advance(timedelta(days=1))
        ledger.model("late")
    response = client_for(auditor).get(
        "/api/v1/exports/audit-trail/",
        {
            "since": (T0 + timedelta(hours=12)).isoformat(),
            "until": (T0 + timedelta(days=1, hours=12)).isoformat(),
        },
    )
    body = without_trailer(b"".join(response.streaming_content), "jsonl")
    events = [json.loads(line) for line in body.splitlines()]
    names = {e["data"].get("name") for e in events if e["type"] == "registry.ModelRegistered"}
    assert names == {"middle"}
    assert {e["recorded_at"] for e in events} == {"2026-11-02T09:00:00.000000Z"}
