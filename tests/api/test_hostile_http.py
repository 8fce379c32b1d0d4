"""What gunicorn refuses before Django sees the request (an over-long request line, too many or
too large headers, a request line that is not HTTP) is problem+json with a stable code, not
gunicorn's HTML page. Against a real gunicorn, started here the way scripts/launch.py starts
the web process, serving the test database."""

from __future__ import annotations

import json

import pytest

from eventstore.models import Event
from tests.helpers.gunicorn import send, served


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, django_db_blocker, tmp_path_factory):
    """gunicorn with config/gunicorn.py and one sync worker on a free port, against the test
    database; stopped (its whole process group) after the module."""
    yield from served(django_db_blocker, tmp_path_factory)


def _request(target: str, headers: str = "") -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode("latin-1")


LONG_NODE = "/api/v1/lineage/edges/?node=dataset:" + "a" * 5000
REFUSALS = [
    pytest.param(_request(LONG_NODE), 414, "request_line_too_long", id="long-request-line"),
    pytest.param(
        _request("/api/v1/models/", "".join(f"X-H{i}: v\r\n" for i in range(150))),
        431,
        "header_fields_too_large",
        id="too-many-headers",
    ),
    pytest.param(
        _request("/api/v1/models/", f"X-Big: {'b' * 9000}\r\n"),
        431,
        "header_fields_too_large",
        id="header-too-large",
    ),
    pytest.param(b"NOT A REQUEST LINE AT ALL\r\n\r\n", 400, "bad_request", id="bad-request-line"),
    pytest.param(
        _request("/api/v1/models/", "Bad Name: v\r\n"), 400, "bad_request", id="bad-header-name"
    ),
    pytest.param(b"GET /api/v1/models/ HTTP/9.9\r\n\r\n", 400, "bad_request", id="bad-version"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("raw", "status", "code"), REFUSALS)
def test_gunicorn_refusals_are_problems(gunicorn, raw, status, code):
    before = Event.objects.count()
    got, headers, body = send(gunicorn, raw)
    assert got == status, body
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["code"] == code
    assert problem["status"] == status
    assert problem["type"] == f"/problems/{code}"
    assert Event.objects.count() == before


@pytest.mark.django_db
def test_a_request_line_within_the_limit_reaches_the_api(gunicorn):
    status, headers, body = send(gunicorn, _request("/api/v1/lineage/edges/?node=" + "a" * 3000))
    assert status == 401, body  # Django's answer: no credentials
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["code"] == "not_authenticated"


def test_the_configured_worker_is_gunicorns_sync_worker():
    from gunicorn.config import Config
    from gunicorn.workers.sync import SyncWorker

    from config.gunicorn import ProblemSyncWorker

    config = Config()
    config.set("worker_class", "config.gunicorn.ProblemSyncWorker")
    assert config.worker_class is ProblemSyncWorker
    assert issubclass(ProblemSyncWorker, SyncWorker)
