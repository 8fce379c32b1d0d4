"""Streamed exports never pass a cut body off as a whole one. Against a real gunicorn (its
sync worker, with config/gunicorn.py) serving the test database: a whole audit trail is sent
chunked, with no Content-Length, and ends with its trailer; one whose source of rows fails
after the first bytes left (tests/api/export_faults.py) ends the connection without the
chunked body's last chunk, so the client sees an incomplete transfer, the failure is logged
and nothing records the export as completed."""

from __future__ import annotations

import hashlib
import http.client
import json
import uuid
from contextlib import closing

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token

from eventstore import store
from eventstore.audit.trailer import trail_complete, without_trailer
from eventstore.models import Event
from eventstore.types import NO_STREAM
from tests.conftest import events, make_user, new_stream
from tests.helpers.gunicorn import HOST, serving

FORMATS = ["jsonl", "csv"]
TRAIL = "/api/v1/exports/audit-trail/?since=2000-01-01T00:00:00Z&format={}"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    """gunicorn serving config.wsgi's application with the fault tests may ask for."""
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with serving(django_db_blocker, log_path, "tests.api.export_faults:application") as port:
        yield port, log_path


@pytest.fixture
def token(transactional_db, meta) -> str:
    """An auditor's token and a few events, committed for the server to see."""
    group, _ = Group.objects.get_or_create(name="auditors")
    user = make_user("ada-auditor", group)
    for _ in range(3):
        store.append(new_stream(), NO_STREAM, events("Made", "Changed"), meta)
    return Token.objects.create(user=user).key


def _get(port: int, token: str, fmt: str, fault_after: int | None = None):
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Authorization": f"Bearer {token}"}
    if fault_after is not None:
        headers["X-Fault-After"] = str(fault_after)
    connection.request("GET", TRAIL.format(fmt), headers=headers)
    return connection, connection.getresponse()


def _trailer_records(body: bytes, fmt: str) -> int:
    last = body.splitlines()[-1]
    return json.loads(last)["trailer"]["records"] if fmt == "jsonl" else int(last.split(b",")[2])


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_whole_export_is_chunked_and_ends_with_its_trailer(server, token, fmt):
    port, _ = server
    connection, response = _get(port, token, fmt)
    with closing(connection):
        assert response.status == 200
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.getheader("Content-Length") is None
        body = response.read()
    assert trail_complete(body, fmt)
    records = _trailer_records(body, fmt)
    # Every event of the log but the export's own ExportCompleted, appended after the last row.
    assert records == Event.objects.count() - 1 >= 6
    events_sent = without_trailer(body, fmt).splitlines()
    assert len(events_sent) == records + (1 if fmt == "csv" else 0)  # CSV has its header
    export = store.read_stream(uuid.UUID(response.getheader("X-Export-Id")))
    assert [e.type for e in export] == ["lineage.ExportStarted", "lineage.ExportCompleted"]
    assert export[1].data["sha256"] == hashlib.sha256(body).hexdigest()
    assert export[1].data["bytes"] == len(body)
    assert export[1].data["events"] == records


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_export_failing_after_the_first_bytes_is_an_incomplete_transfer(server, token, fmt):
    port, log_path = server
    connection, response = _get(port, token, fmt, fault_after=2)
    with closing(connection):
        assert response.status == 200  # it left with the first bytes
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.getheader("Content-Length") is None
        with pytest.raises(http.client.IncompleteRead) as cut:
            response.read()
    partial = cut.value.partial
    assert partial.count(b"\n") == 2  # two rows left before the failure, and nothing after
    assert not trail_complete(partial, fmt)
    assert b"trailer" not in partial
    export_id = uuid.UUID(response.getheader("X-Export-Id"))
    assert [e.type for e in store.read_stream(export_id)] == ["lineage.ExportStarted"]
    assert not Event.objects.filter(type="lineage.ExportCompleted").exists()
    logged = log_path.read_text()
    assert f"export {export_id} failed after {len(partial)} bytes were sent" in logged
    assert "injected: the database connection was lost" in logged
