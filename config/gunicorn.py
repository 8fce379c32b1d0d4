"""gunicorn's settings for the web process: `gunicorn -c config/gunicorn.py config.wsgi:application`
(scripts/launch.py, the Dockerfile and docker-compose.yml; they add --bind and --workers).

What gunicorn refuses itself, before Django sees the request (a request line or a header over
the limits below, a malformed request line or header, a chunked body it cannot read), it
answers with an HTML page of its own. ProblemSyncWorker answers the same statuses as RFC 9457
application/problem+json with a stable `code`, like every other refusal of the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from gunicorn import util
from gunicorn.workers.sync import SyncWorker

worker_class = "config.gunicorn.ProblemSyncWorker"

# gunicorn's own defaults, stated here because README promises them: the request line (method,
# path and query string) at most 4094 bytes (414 beyond), at most 100 header fields and 8190
# bytes a field (431 beyond).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# The status gunicorn chose -> the problem's code, title and detail. The detail is generic:
# gunicorn's message may echo the request line or a header.
PROBLEMS: dict[int, tuple[str, str, str]] = {
    400: (
        "bad_request",
        "The request was refused",
        "The request line or a header is not valid HTTP/1.1.",
    ),
    403: ("forbidden", "Forbidden", "The request was refused by the server."),
    414: (
        "request_line_too_long",
        "Request line too long",
        f"The request line (method, path and query string) exceeds {limit_request_line} bytes.",
    ),
    417: ("expectation_failed", "Expectation failed", "Only Expect: 100-continue is understood."),
    431: (
        "header_fields_too_large",
        "Request header fields too large",
        f"The request has more than {limit_request_fields} header fields or a field over "
        f"{limit_request_field_size} bytes.",
    ),
    500: ("internal_error", "Internal error", "The error was logged."),
    501: ("not_implemented", "Not implemented", "The transfer coding is not supported."),
}


def problem_response(status: int, reason: str) -> bytes:
    """The whole HTTP/1.1 response for a refusal gunicorn made: problem+json, then close."""
    code, title, detail = PROBLEMS.get(
        status, ("bad_request", reason, "The request was refused by the server.")
    )
    body = json.dumps(
        {
            "type": f"/problems/{code}",
            "title": title,
            "status": status,
            "detail": detail,
            "code": code,
        },
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


def _write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    util.write_nonblock(sock, problem_response(status_int, reason))


@contextmanager
def _problem_pages() -> Iterator[None]:
    """gunicorn's error handler writes its page through util.write_error; for the duration of
    one call (a sync worker serves one request at a time), that writes a problem instead."""
    original = util.write_error
    util.write_error = _write_problem
    try:
        yield
    finally:
        util.write_error = original


class ProblemSyncWorker(SyncWorker):
    """gunicorn's sync worker; its refusals are problem+json. gunicorn still chooses the status
    (400, 414, 431, ...) and logs the error as it always does."""

    def handle_error(self, req, client, addr, exc) -> None:
        with _problem_pages():
            super().handle_error(req, client, addr, exc)
