"""The service under a database that lost its newest commits (a failover to an asynchronous
replica, a restore without restarting the workers): the next command on a stream whose head
this process cached is refused with a 409, the retry goes in, and the ledger still verifies."""

from __future__ import annotations

from django.core.management import call_command

from eventstore.store import caches
from eventstore.verify import verify
from registry.models import RegisteredModel
from tests.api.conftest import client_for
from tests.api.helpers import assert_problem
from tests.conftest import lose_newest

PATH = "/api/v1/models/fraud-detector/"


def test_command_after_lost_commits_gets_409_and_its_retry_goes_in(pristine_ledger, team, owner):
    api = client_for(owner)
    created = api.post(
        "/api/v1/models/", {"name": "fraud-detector", "team": "fraud-ml"}, format="json"
    )
    assert created.status_code == 201, created.content
    for description in ("second", "third"):
        changed = api.patch(PATH, {"description": description}, format="json")
        assert changed.status_code == 200, changed.content
    stream_id = RegisteredModel.objects.get(name="fraud-detector").id
    assert caches.heads[stream_id].version == 3
    lose_newest(stream_id, keep=2)  # the "third" description was never committed, it turns out

    refused = api.patch(PATH, {"description": "fourth"}, format="json")
    body = assert_problem(refused, 409, "concurrency_conflict")
    assert "reload" in body["detail"]
    assert stream_id not in caches.heads

    retried = api.patch(PATH, {"description": "fourth"}, format="json")
    assert retried.status_code == 200, retried.content
    assert retried["ETag"] == '"3"'
    shown = api.get(PATH).json()
    assert (shown["description"], shown["version"]) == ("fourth", 3)
    assert verify().ok
    call_command("verify_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115
