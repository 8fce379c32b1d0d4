"""What gunicorn refuses before Django sees the request (an over-long request line, too many or
too large headers, a request line that is not HTTP) is problem+json with a stable code, not
gunicorn's HTML page. Against a real gunicorn, started here the way scripts/launch.py starts
the web process, serving the test database."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from eventstore.models import Event

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _send(port: int, raw: bytes, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the whole answer (gunicorn closes after a refusal)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock = socket.create_connection((HOST, port), timeout=timeout)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    with sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                break
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    return status, headers, body


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return len(body) >= int(value)
    return False


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, django_db_blocker, tmp_path_factory):
    """gunicorn with config/gunicorn.py and one sync worker on a free port, against the test
    database; stopped (its whole process group) after the module."""
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
    database_url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))
    port = _free_port()
    log = (tmp_path_factory.mktemp("gunicorn") / "gunicorn.log").open("wb")
    argv = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-c",
        "config/gunicorn.py",
        "config.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        "1",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "LEDGER_ENV": "development",
        "DJANGO_DEBUG": "false",
    }
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        # Ready when a plain request reaches Django (gunicorn binds before its worker boots).
        status, _, _ = _send(port, b"GET /api/v1/models/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status == 401, status
        yield port
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        log.close()


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
    got, headers, body = _send(gunicorn, raw)
    assert got == status, body
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["code"] == code
    assert problem["status"] == status
    assert problem["type"] == f"/problems/{code}"
    assert Event.objects.count() == before


@pytest.mark.django_db
def test_a_request_line_within_the_limit_reaches_the_api(gunicorn):
    status, headers, body = _send(gunicorn, _request("/api/v1/lineage/edges/?node=" + "a" * 3000))
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
