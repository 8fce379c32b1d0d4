"""Inline projections: projectors registered per event type turn events into read-table rows,
in the same transaction as the append, and `rebuild` replays the whole log into empty tables.

Projectors do not read-modify-write through the ORM: they queue upserts on a ProjectionWriter,
which sends them to PostgreSQL together (a pipeline). That keeps appends short and lets a
rebuild replay tens of thousands of events per second."""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction

from eventstore import catalog
from eventstore.types import RecordedEvent

Projector = Callable[[RecordedEvent, "ProjectionWriter"], None]
TypedProjector = Callable[[Any, RecordedEvent, "ProjectionWriter"], None]
ALL_EVENTS = "*"

# Statements are sent together in a pipeline from this many on, here and by the event store's
# insert runner. Measured: for a single statement a pipeline costs more than it saves. Tests
# set it to 1 to hold the single-statement path to the pipelined one.
PIPELINE_FROM = 2

_projectors: dict[str, list[Projector]] = defaultdict(list)
_tables: list[type[models.Model]] = []


def projector(*event_types: str | type[catalog.DomainEvent]) -> Callable[[Any], Any]:
    """Register a function as the projector of the given event classes, or of every event
    (ALL_EVENTS). A projector of classes is called with the decoded event, the recorded one
    and the writer: `fn(e, recorded, out)`; one of ALL_EVENTS with `fn(recorded, out)`.
    Stored type names are refused (a misspelled one would project nothing)."""
    if not event_types:
        raise TypeError("projector() needs event classes or ALL_EVENTS")
    classes = [t for t in event_types if not isinstance(t, str)]
    names = [t for t in event_types if isinstance(t, str) and t != ALL_EVENTS]
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, catalog.DomainEvent)):
            raise TypeError(f"{cls!r} is not an event class")

    def register(fn: Any) -> Any:
        for name in (ALL_EVENTS, *names) if ALL_EVENTS in event_types else names:
            if fn not in _projectors[name]:
                _projectors[name].append(fn)
        for cls in classes:
            typed = _typed(cls, fn)
            if all(getattr(p, "__wrapped__", None) is not fn for p in _projectors[cls.event_type]):
                _projectors[cls.event_type].append(typed)
        return fn

    return register


def _typed(cls: type[catalog.DomainEvent], fn: TypedProjector) -> Projector:
    def call(recorded: RecordedEvent, out: ProjectionWriter) -> None:
        fn(cls.from_data(recorded.data), recorded, out)

    call.__wrapped__ = fn  # type: ignore[attr-defined]
    call.__name__ = getattr(fn, "__name__", "projector")
    return call


def projection_tables(*table_models: type[models.Model]) -> None:
    """Declare read tables that only projectors write; rebuild empties and refills them."""
    for model in table_models:
        if model not in _tables:
            _tables.append(model)


def registered_tables() -> list[type[models.Model]]:
    return list(_tables)


def projectors_for(event_type: str) -> list[Projector]:
    return _projectors.get(event_type, []) + _projectors.get(ALL_EVENTS, [])


@dataclass(frozen=True)
class Add:
    """Upsert value that adds to the existing column instead of replacing it."""

    amount: Any


@dataclass(frozen=True)
class KeepExisting:
    """Upsert value written on insert only; an existing row keeps its value."""

    value: Any


class ProjectionWriter:
    """Queues projection statements in order and sends them together on flush."""

    def __init__(self) -> None:
        self._statements: list[tuple[str, tuple[Any, ...]]] = []

    def __len__(self) -> int:
        return len(self._statements)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._statements.append((sql, tuple(params)))

    def insert(self, model: type[models.Model], **values: Any) -> None:
        columns = tuple(values)
        sql = self._cached(("insert", model, columns), lambda: _insert_sql(model, columns))
        self.execute(sql, _prepare(model, values))

    def upsert(self, model: type[models.Model], key: Sequence[str], **values: Any) -> None:
        """INSERT ... ON CONFLICT (key) DO UPDATE; Add() accumulates, KeepExisting() keeps."""
        shape = tuple(
            (name, type(value).__name__ if isinstance(value, Add | KeepExisting) else "")
            for name, value in values.items()
        )
        sql = self._cached(
            ("upsert", model, tuple(key), shape), lambda: _upsert_sql(model, tuple(key), values)
        )
        plain = {
            name: value.amount
            if isinstance(value, Add)
            else value.value
            if isinstance(value, KeepExisting)
            else value
            for name, value in values.items()
        }
        self.execute(sql, _prepare(model, plain))

    def update(self, model: type[models.Model], where: dict[str, Any], **values: Any) -> None:
        sets, wheres = tuple(values), tuple(where)
        sql = self._cached(
            ("update", model, sets, wheres), lambda: _update_sql(model, sets, wheres)
        )
        self.execute(sql, _prepare(model, values) + _prepare(model, where))

    def delete(self, model: type[models.Model], **where: Any) -> None:
        wheres = tuple(where)
        sql = self._cached(("delete", model, wheres), lambda: _delete_sql(model, wheres))
        self.execute(sql, _prepare(model, where))

    def flush(self, *, commit: bool = False) -> None:
        """Send every queued statement, in order; several go in one pipeline round trip, and
        with commit=True (a caller that owns the transaction) the COMMIT goes with them.

        commit=True ends the transaction that the caller's outermost transaction.atomic()
        block opened, from inside that block, and nothing may be sent after it: Django's
        commit when the block ends finds no transaction open and sends nothing, then runs the
        on_commit callbacks (see eventstore/store/appends.py, "Transactions")."""
        statements, self._statements = self._statements, []
        # Django's exception types (IntegrityError, ...), as the callers' ORM code raises them.
        with connection.wrap_database_errors:
            self._send(statements, commit)

    @staticmethod
    def _send(statements: list[tuple[str, Any]], commit: bool) -> None:
        raw = connection.connection
        if len(statements) < PIPELINE_FROM:
            if statements:
                with raw.cursor() as cursor:
                    cursor.execute(*statements[0])
            if commit:
                raw.commit()
            return
        with raw.pipeline(), raw.cursor() as cursor:
            start = 0
            while start < len(statements):
                sql = statements[start][0]
                end = start + 1
                while end < len(statements) and statements[end][0] == sql:
                    end += 1
                if end - start == 1:
                    cursor.execute(sql, statements[start][1])
                else:
                    cursor.executemany(sql, [params for _, params in statements[start:end]])
                start = end
            if commit:
                # Queued, not raw.commit(): that would sync the pipeline a second time. The
                # caller's transaction.atomic() block then finds nothing left to commit.
                cursor.execute("COMMIT")

    @staticmethod
    def _cached(key: tuple[Any, ...], build: Callable[[], str]) -> str:
        sql = _sql_cache.get(key)
        if sql is None:
            sql = _sql_cache[key] = build()
        return sql


_sql_cache: dict[tuple[Any, ...], str] = {}
_prep_cache: dict[tuple[type[models.Model], tuple[str, ...]], tuple[Any, ...]] = {}


def _column(model: type[models.Model], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _prepare(model: type[models.Model], values: dict[str, Any]) -> tuple[Any, ...]:
    """Adapt values the way the ORM would; only fields that change a value pay for it."""
    names = tuple(values)
    fields = _prep_cache.get((model, names))
    if fields is None:
        fields = tuple(
            field if isinstance(field, models.JSONField | models.BinaryField) else None
            for field in (model._meta.get_field(name) for name in names)
        )
        _prep_cache[(model, names)] = fields
    return tuple(
        value if field is None or value is None else field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values.values(), strict=True)
    )


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _insert_sql(model: type[models.Model], columns: Sequence[str]) -> str:
    cols = ", ".join(_column(model, c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {_table(model)} ({cols}) VALUES ({marks})"


def _upsert_sql(model: type[models.Model], key: Sequence[str], values: dict[str, Any]) -> str:
    table = _table(model)
    sets = []
    for name, value in values.items():
        if name in key or isinstance(value, KeepExisting):
            continue
        col = _column(model, name)
        if isinstance(value, Add):
            sets.append(f"{col} = {table}.{col} + EXCLUDED.{col}")
        else:
            sets.append(f"{col} = EXCLUDED.{col}")
    conflict = ", ".join(_column(model, k) for k in key)
    action = f"DO UPDATE SET {', '.join(sets)}" if sets else "DO NOTHING"
    return f"{_insert_sql(model, tuple(values))} ON CONFLICT ({conflict}) {action}"


def _update_sql(model: type[models.Model], sets: Sequence[str], wheres: Sequence[str]) -> str:
    assignments = ", ".join(f"{_column(model, s)} = %s" for s in sets)
    conditions = " AND ".join(f"{_column(model, w)} = %s" for w in wheres)
    return f"UPDATE {_table(model)} SET {assignments} WHERE {conditions}"


def _delete_sql(model: type[models.Model], wheres: Sequence[str]) -> str:
    conditions = " AND ".join(f"{_column(model, w)} = %s" for w in wheres)
    return f"DELETE FROM {_table(model)} WHERE {conditions}"


def touch(
    out: ProjectionWriter, model: type[models.Model], event: RecordedEvent, **values: Any
) -> None:
    """Update the row of the event's stream (keyed by id = stream id) with `values`, and move
    its stream version and updated_at to the event's: what most projectors of a later event in
    a stream do."""
    out.update(
        model,
        {"id": event.stream_id},
        stream_version=event.version,
        updated_at=event.recorded_at,
        **values,
    )


def project(events: Iterable[RecordedEvent], writer: ProjectionWriter) -> None:
    """Run every registered projector over the events, queueing their writes on `writer`."""
    for recorded in events:
        handlers = projectors_for(recorded.type)
        if not handlers:
            continue
        current = catalog.upcast(recorded)
        for handler in handlers:
            handler(current, writer)


@dataclass(frozen=True)
class RebuildReport:
    events: int
    seconds: float
    tables: tuple[str, ...]

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


EVENT_COLUMNS = (
    "position, stream_id, stream_type, version, type, schema_version, data, metadata,"
    " occurred_at, recorded_at, prev_hash, hash"
)


def json_value(value: Any) -> Any:
    # Django registers a text loader for jsonb (JSONField decodes for itself).
    return json.loads(value) if isinstance(value, str) else value


def row_to_event(row: Sequence[Any]) -> RecordedEvent:
    return RecordedEvent(
        position=row[0],
        stream_id=row[1],
        stream_type=row[2],
        version=row[3],
        type=row[4],
        schema_version=row[5],
        data=json_value(row[6]),
        metadata=json_value(row[7]),
        occurred_at=row[8],
        recorded_at=row[9],
        prev_hash=bytes(row[10]),
        hash=bytes(row[11]),
    )


def rebuild(
    *, batch_size: int = 5000, progress: Callable[[int, int], None] | None = None
) -> RebuildReport:
    """Empty every projection table and replay the log into it, in one transaction.

    Appends wait (the log is locked in SHARE mode) so the rebuilt state is exactly the log's;
    readers see the old rows until the commit."""
    started = time.perf_counter()
    count = 0
    with transaction.atomic():
        connection.ensure_connection()
        raw = connection.connection
        with raw.cursor() as cursor:
            cursor.execute("LOCK TABLE eventstore_event IN SHARE MODE")
            tables = [m._meta.db_table for m in _tables]
            if tables:
                names = ", ".join(connection.ops.quote_name(t) for t in tables)
                cursor.execute(f"TRUNCATE {names}")
            cursor.execute("SELECT count(*) FROM eventstore_event")
            total = cursor.fetchone()[0]
        writer = ProjectionWriter()
        with raw.cursor(name="eventstore_rebuild", withhold=False) as stream:
            stream.itersize = batch_size
            stream.execute(f"SELECT {EVENT_COLUMNS} FROM eventstore_event ORDER BY position")
            while rows := stream.fetchmany(batch_size):
                project(map(row_to_event, rows), writer)
                writer.flush()
                count += len(rows)
                if progress:
                    progress(count, total)
    return RebuildReport(count, time.perf_counter() - started, tuple(tables))


def checksum(model: type[models.Model]) -> str:
    """A digest of a projection table's full contents, independent of physical row order."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), '')"
            f" FROM {table} t"
        )
        digest = cursor.fetchone()[0]
    return hashlib.sha256(digest.encode()).hexdigest()
