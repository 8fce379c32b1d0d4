"""Audit trails: the events of a set of streams, or of the ledger over a recorded_at range, as
JSON Lines and CSV, produced as byte chunks read through a server-side cursor so nothing is ever
built whole in memory. Which streams concern a subject is decided by the caller.

Both end with a trailer (`eventstore/audit/trailer.py`): the number of events and the SHA-256
of every byte before it, written only after the last event, so a trail cut short anywhere,
by a failure while it is produced or on the way, is told from a whole one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from eventstore.audit.trailer import trailed

BATCH = 1000
CHUNK = 256 * 1024
TRAIL_FORMATS = ("jsonl", "csv")
CONTENT_TYPES = {
    "jsonl": "application/jsonl",
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
}
_TS = '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\''
_EVENT_EXPRESSIONS = (
    "e.position",
    "e.stream_id::text",
    "e.stream_type",
    "e.version",
    "e.type",
    "e.schema_version",
    "e.data::text",
    "e.metadata::text",
    f"to_char(e.occurred_at AT TIME ZONE 'UTC', {_TS})",
    f"to_char(e.recorded_at AT TIME ZONE 'UTC', {_TS})",
    "encode(e.prev_hash, 'hex')",
    "encode(e.hash, 'hex')",
)
EVENT_SQL = "SELECT " + ", ".join(_EVENT_EXPRESSIONS)


def logged_streams(candidates: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """The candidates that are streams of the log, sorted (an id may name something that never
    had a stream of its own)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT stream_id FROM eventstore_event WHERE stream_id = ANY(%s)",
            [list(candidates)],
        )
        return sorted(row[0] for row in cursor.fetchall())


@dataclass(frozen=True)
class Selection:
    """Which events an audit trail holds: given streams, or a recorded_at range, or both."""

    streams: tuple[uuid.UUID, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = ["TRUE"], []
        if self.streams is not None:
            clauses.append("e.stream_id = ANY(%s)")
            params.append(list(self.streams))
        if self.since is not None:
            clauses.append("e.recorded_at >= %s")
            params.append(self.since)
        if self.until is not None:
            clauses.append("e.recorded_at < %s")
            params.append(self.until)
        return " AND ".join(clauses), params


def event_rows(sql: str, params: list[Any]) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of rows from a server-side cursor, inside one read-only transaction."""
    with transaction.atomic():
        raw = connection.connection
        with raw.cursor(name=f"export_{uuid.uuid4().hex}") as cursor:
            cursor.itersize = BATCH
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(BATCH):
                yield rows


_NAME_JSON: dict[str, str] = {}


def _name(text: str) -> str:
    cached = _NAME_JSON.get(text)
    if cached is None:
        cached = _NAME_JSON[text] = json.dumps(text, ensure_ascii=False)
    return cached


def jsonl_line(row: tuple[Any, ...]) -> str:
    """One event as a JSON object, data and metadata spliced in as PostgreSQL printed them."""
    return (
        f'{{"position":{row[0]},"stream_id":"{row[1]}","stream_type":{_name(row[2])},'
        f'"version":{row[3]},"type":{_name(row[4])},"schema_version":{row[5]},'
        f'"data":{row[6]},"metadata":{row[7]},"occurred_at":"{row[8]}",'
        f'"recorded_at":"{row[9]}","prev_hash":"{row[10]}","hash":"{row[11]}"}}\n'
    )


class Counter:
    def __init__(self) -> None:
        self.value = 0

    def __call__(self) -> int:
        return self.value


def trail_jsonl(selection: Selection, counter: Counter | None = None) -> Iterator[bytes]:
    """One line per event, then the trailer line."""
    counter = counter if counter is not None else Counter()
    return trailed(_jsonl_lines(selection, counter), "jsonl", counter)


def _jsonl_lines(selection: Selection, counter: Counter) -> Iterator[bytes]:
    where, params = selection.where()
    sql = f"{EVENT_SQL} FROM eventstore_event e WHERE {where} ORDER BY e.position"
    for rows in event_rows(sql, params):
        counter.value += len(rows)
        yield "".join(map(jsonl_line, rows)).encode()


TRAIL_COLUMNS = [
    "position",
    "stream_id",
    "stream_type",
    "version",
    "type",
    "schema_version",
    "data",
    "metadata",
    "occurred_at",
    "recorded_at",
    "prev_hash",
    "hash",
]


def copy_rows(query: str, params: list[Any]) -> Iterator[bytes]:
    """The rows of COPY ... TO STDOUT as PostgreSQL sends them (libpq hands one row at a time),
    inside one read-only transaction."""
    with transaction.atomic():
        raw = connection.connection
        with raw.cursor() as cursor, cursor.copy(query, params) as copy:
            yield from copy


def trail_csv(selection: Selection, counter: Counter | None = None) -> Iterator[bytes]:
    """PostgreSQL writes the CSV itself (COPY ... TO STDOUT, RFC 4180 quoting, a header row);
    the rows are passed on in chunks of about CHUNK bytes as they arrive, then the trailer row."""
    counter = counter if counter is not None else Counter()
    return trailed(_csv_rows(selection, counter), "csv", counter, width=len(TRAIL_COLUMNS))


def _csv_rows(selection: Selection, counter: Counter) -> Iterator[bytes]:
    where, params = selection.where()
    columns = ", ".join(
        f"{expression} AS {name}"
        for expression, name in zip(_EVENT_EXPRESSIONS, TRAIL_COLUMNS, strict=True)
    )
    query = (
        f"COPY (SELECT {columns} FROM eventstore_event e WHERE {where} ORDER BY e.position)"
        " TO STDOUT (FORMAT csv, HEADER)"
    )
    pending = bytearray()
    rows = 0
    for data in copy_rows(query, params):
        pending += data
        rows += 1
        if len(pending) >= CHUNK:
            yield bytes(pending)
            pending.clear()
            counter.value = rows - 1  # less the header
    counter.value = max(0, rows - 1)
    yield bytes(pending)


TRAIL_WRITERS = {"jsonl": trail_jsonl, "csv": trail_csv}
