"""config.wsgi's application with a fault a test can ask for, for a real gunicorn to serve in a
process of its own (`gunicorn -c config/gunicorn.py tests.api.export_faults:application`):
the product has no fault hook, this test-only entry point patches the running process.

A request with the header `X-Fault-After: N` has the audit trail's source of rows (the server-
side cursor of JSON Lines, the COPY of CSV) raise as a lost database connection would after N
items; without the header the sources are untouched. The trail is read a row at a time and
sent a row a chunk (BATCH and CHUNK of 1), so the failure falls after the first bytes left.
gunicorn's sync worker serves one request at a time, so the fault asked for is process-wide."""

from __future__ import annotations

import psycopg

from config.wsgi import application as ledger
from eventstore.audit import trail

FAULT: dict[str, int | None] = {"after": None}


def _failing(source):
    def rows(*args, **kwargs):
        after = FAULT["after"]
        inner = source(*args, **kwargs)
        try:
            for number, item in enumerate(inner):
                if number == after:
                    raise psycopg.OperationalError("injected: the database connection was lost")
                yield item
        finally:
            inner.close()

    return rows


trail.BATCH = 1
trail.CHUNK = 1
trail.event_rows = _failing(trail.event_rows)
trail.copy_rows = _failing(trail.copy_rows)


def application(environ, start_response):
    raw = environ.get("HTTP_X_FAULT_AFTER")
    FAULT["after"] = int(raw) if raw is not None else None
    return ledger(environ, start_response)
