"""A real gunicorn for tests: started the way scripts/launch.py starts the web process
(`gunicorn -c config/gunicorn.py <app>`, one sync worker) on a free port, serving the test
database, and stopped (its whole process group) afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def send(port: int, raw: bytes, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
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


@contextmanager
def serving(django_db_blocker, log_path: Path, app: str = "config.wsgi:application"):
    """gunicorn with config/gunicorn.py serving `app`; yields its port once a plain request
    reaches Django (gunicorn binds before its worker boots). Its output goes to `log_path`."""
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
    database_url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))
    port = free_port()
    argv = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-c",
        "config/gunicorn.py",
        app,
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
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            status, _, _ = send(port, b"GET /api/v1/models/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
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


def served(django_db_blocker, tmp_path_factory, app: str = "config.wsgi:application") -> Iterator:
    """For a module-scoped fixture: `yield from served(...)` yields the port."""
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with serving(django_db_blocker, log_path, app) as port:
        yield port
