"""Replay: rebuild_projections empties every projection table and refills it to the same state;
the pipelined writer and its caches are held to the plain way (statements one by one, SQL and
values built afresh)."""

from __future__ import annotations

import io

import psycopg
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from psycopg.types.json import Jsonb

from eventstore import projection, store
from eventstore.models import Event, IdempotencyKey, OutboxMessage, StreamIndex
from eventstore.projection import (
    Add,
    KeepExisting,
    ProjectionWriter,
    checksum,
    rebuild,
    registered_tables,
)
from eventstore.types import NO_STREAM, NewEvent, SideEffect
from tests.conftest import events, new_stream

pytestmark = pytest.mark.django_db


def _fill(meta, streams: int = 20):
    for number in range(streams):
        stream = new_stream("test.Rebuilt")
        store.append(stream, NO_STREAM, events(*["A"] * (number % 4 + 1)), meta)
        store.append(stream, None, [NewEvent("test.Touched", {"by": number})], meta)


def test_rebuild_leaves_every_projection_table_with_the_same_checksum(meta):
    _fill(meta)
    before = {m: checksum(m) for m in registered_tables()}
    assert StreamIndex in before
    assert StreamIndex.objects.filter(stream_type="test.Rebuilt").count() == 20
    out = io.StringIO()
    call_command("rebuild_projections", "--no-progress", stdout=out)
    after = {m: checksum(m) for m in registered_tables()}
    assert after == before
    assert "events/s" in out.getvalue()


def test_rebuild_restores_rows_when_a_projection_table_was_damaged(meta):
    _fill(meta, streams=5)
    before = checksum(StreamIndex)
    StreamIndex.objects.filter(stream_type="test.Rebuilt").update(created_by="someone else")
    StreamIndex.objects.filter(stream_type="test.Rebuilt").first().delete()
    assert checksum(StreamIndex) != before
    report = rebuild(batch_size=7)
    assert checksum(StreamIndex) == before
    assert report.events >= 5 * 2


def test_progress_is_reported_in_batches_when_rebuilding(meta):
    _fill(meta, streams=6)
    seen = []
    rebuild(batch_size=5, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1]
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(seen) >= 3


def test_upsert_adds_and_keeps_values_when_a_row_already_exists(meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A"), meta)
    row = StreamIndex.objects.get(stream_id=stream.id)
    writer = ProjectionWriter()
    for _ in range(2):
        writer.upsert(
            StreamIndex,
            ("stream_id",),
            stream_id=stream.id,
            stream_type=stream.type,
            first_event_type="test.Z",
            first_position=Add(5),
            created_at=KeepExisting(row.created_at.replace(year=2000)),
            created_by="x",
        )
    writer.flush()
    updated = StreamIndex.objects.get(stream_id=stream.id)
    assert updated.first_position == row.first_position + 10
    assert updated.created_at == row.created_at
    assert (updated.first_event_type, updated.created_by) == ("test.Z", "x")


def test_update_and_delete_change_only_matching_rows_when_flushed(meta):
    one, two = new_stream(), new_stream()
    for stream in (one, two):
        store.append(stream, NO_STREAM, events("A"), meta)
    writer = ProjectionWriter()
    writer.update(StreamIndex, {"stream_id": one.id}, created_by="updated")
    writer.delete(StreamIndex, stream_id=two.id)
    writer.flush()
    assert StreamIndex.objects.get(stream_id=one.id).created_by == "updated"
    assert not StreamIndex.objects.filter(stream_id=two.id).exists()


class ProjectorFailed(Exception):
    pass


# Projection writes go through the raw psycopg connection, so its errors arrive unwrapped.
DATABASE_ERRORS = (DatabaseError, psycopg.Error)


def _failing_in_python(event, out: ProjectionWriter) -> None:
    raise ProjectorFailed(event.type)


def _failing_in_sql(event, out: ProjectionWriter) -> None:
    out.execute("SELECT 1 / 0")


@pytest.mark.parametrize("inside_caller_transaction", [False, True])
@pytest.mark.parametrize(
    ("failing", "error", "extras"),
    [
        # Raised while projecting, before anything is sent.
        (_failing_in_python, ProjectorFailed, True),
        # Raised by PostgreSQL in the pipeline that also carries the outbox row, the key's
        # result and, for an append that owns its transaction, the COMMIT.
        (_failing_in_sql, DATABASE_ERRORS, True),
        # Raised by the one statement flushed on its own, before the COMMIT.
        (_failing_in_sql, DATABASE_ERRORS, False),
    ],
    ids=["python", "sql-pipeline", "sql-alone"],
)
def test_append_keeps_nothing_when_a_projector_fails(
    pristine_ledger, meta, monkeypatch, inside_caller_transaction, failing, error, extras
):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("Opened"), meta)
    monkeypatch.setitem(projection._projectors, "test.ProjectorFails", [failing])
    keyed = {**meta, "idempotency_key": "fails-once"} if extras else meta
    effects = [SideEffect("tests.never_sent", {"n": 1})] if extras else []
    outbox_before = OutboxMessage.objects.count()

    def attempt():
        return store.append(
            stream, 1, [NewEvent("test.ProjectorFails", {})], keyed, side_effects=effects
        )

    with pytest.raises(error):
        if inside_caller_transaction:
            with transaction.atomic():
                attempt()
        else:
            attempt()

    assert store.stream_version(stream.id) == 1
    assert not Event.objects.filter(stream_id=stream.id, version=2).exists()
    assert OutboxMessage.objects.count() == outbox_before
    assert not IdempotencyKey.objects.filter(key="fails-once").exists()
    # The connection is usable and the stream's head unchanged: the same append now succeeds.
    monkeypatch.setitem(projection._projectors, "test.ProjectorFails", [])
    result = attempt()
    assert not result.replayed
    assert result.last_version == 2
    assert OutboxMessage.objects.count() == outbox_before + len(effects)


# -- the pipelined writer against the plain way ----------------------------------------------


def _index_rows(stream_ids) -> list[tuple]:
    return list(
        StreamIndex.objects.filter(stream_id__in=stream_ids)
        .order_by("stream_id")
        .values_list(*[f.attname for f in StreamIndex._meta.concrete_fields])
    )


def _queue_mixed(writer: ProjectionWriter, streams, template: StreamIndex) -> None:
    """Inserts, accumulating and keeping upserts, updates and deletes, with runs of the same
    statement (sent with executemany) and single ones between them."""
    for number, stream in enumerate(streams):
        writer.insert(
            StreamIndex,
            stream_id=stream.id,
            stream_type=stream.type,
            first_event_type="test.Made",
            first_position=template.first_position + number,
            created_at=template.created_at,
            created_by=f"maker-{number}",
        )
    for round_ in range(3):
        for stream in streams[::2]:
            writer.upsert(
                StreamIndex,
                ("stream_id",),
                stream_id=stream.id,
                stream_type=stream.type,
                first_event_type=f"test.Round{round_}",
                first_position=Add(round_ + 1),
                created_at=KeepExisting(template.created_at.replace(year=2000)),
                created_by="upserted",
            )
        writer.update(
            StreamIndex, {"stream_id": streams[round_ % len(streams)].id}, created_by=f"r{round_}"
        )
    writer.delete(StreamIndex, stream_id=streams[-1].id)
    writer.update(StreamIndex, {"stream_id": streams[-2].id}, first_position=0)


def test_pipelined_flush_leaves_the_rows_the_statements_leave_one_by_one(meta):
    anchor = new_stream()
    store.append(anchor, NO_STREAM, events("A"), meta)
    template = StreamIndex.objects.get(stream_id=anchor.id)
    for size in (1, 2, 5, 9):
        streams = [new_stream() for _ in range(size + 1)]
        ids = [s.id for s in streams]
        with transaction.atomic():
            before = transaction.savepoint()
            pipelined = ProjectionWriter()
            _queue_mixed(pipelined, streams, template)
            statements = list(pipelined._statements)
            pipelined.flush()
            assert len(pipelined) == 0
            fast = _index_rows(ids)
            transaction.savepoint_rollback(before)
            assert _index_rows(ids) == []
            with connection.cursor() as cursor:
                for sql, params in statements:
                    cursor.execute(sql, params)
            assert _index_rows(ids) == fast
        assert len(fast) == size  # the last one was deleted


def _adapted(values: tuple) -> tuple:
    """Jsonb wrappers compare by identity: compare what they wrap."""
    return tuple(("jsonb", v.obj) if isinstance(v, Jsonb) else v for v in values)


def test_cached_statements_and_prepared_values_are_what_building_them_afresh_gives(meta):
    _fill(meta, streams=6)
    checked = 0
    for model in registered_tables():
        fields = [f for f in model._meta.concrete_fields if not f.primary_key or f.name != "id"]
        for instance in model.objects.all()[:20]:
            values = {f.name: getattr(instance, f.attname) for f in fields}
            plain = tuple(f.get_db_prep_save(values[f.name], connection) for f in fields)
            assert _adapted(projection._prepare(model, values)) == _adapted(plain), model
            checked += 1
        names = tuple(f.name for f in fields)
        writer = ProjectionWriter()
        writer.insert(model, **dict.fromkeys(names))
        assert writer._statements[0][0] == projection._insert_sql(model, names)
    assert checked >= 6


def _queue_one(writer: ProjectionWriter, kind: str, streams, template: StreamIndex) -> None:
    """One statement of each kind the writer sends, on rows _queue_mixed left."""
    stream = streams[0]
    if kind == "insert":
        writer.insert(
            StreamIndex,
            stream_id=streams[-1].id,
            stream_type=streams[-1].type,
            first_event_type="test.Made",
            first_position=template.first_position,
            created_at=template.created_at,
            created_by="alone",
        )
    elif kind == "upsert":
        writer.upsert(
            StreamIndex,
            ("stream_id",),
            stream_id=stream.id,
            stream_type=stream.type,
            first_event_type="test.Alone",
            first_position=Add(7),
            created_at=KeepExisting(template.created_at.replace(year=2000)),
            created_by="upserted alone",
        )
    elif kind == "update":
        writer.update(StreamIndex, {"stream_id": stream.id}, created_by="updated alone")
    else:
        writer.delete(StreamIndex, stream_id=stream.id)


@pytest.mark.parametrize("kind", ["insert", "upsert", "update", "delete"])
def test_one_statement_sent_without_a_pipeline_leaves_the_rows_a_pipeline_leaves(
    meta, monkeypatch, kind
):
    anchor = new_stream()
    store.append(anchor, NO_STREAM, events("A"), meta)
    template = StreamIndex.objects.get(stream_id=anchor.id)
    streams = [new_stream() for _ in range(3)]
    ids = [s.id for s in streams]
    setup = ProjectionWriter()
    _queue_mixed(setup, streams, template)
    setup.flush()
    left = {}
    with transaction.atomic():
        for pipeline_from in (projection.PIPELINE_FROM, 1):  # the shortcut, then the pipeline
            monkeypatch.setattr(projection, "PIPELINE_FROM", pipeline_from)
            before = transaction.savepoint()
            writer = ProjectionWriter()
            _queue_one(writer, kind, streams, template)
            assert len(writer) == 1
            writer.flush()
            left[pipeline_from] = _index_rows(ids)
            transaction.savepoint_rollback(before)
    shortcut, pipelined = left.values()
    assert shortcut == pipelined
    assert shortcut != _index_rows(ids)  # the statement changed something


def _owned_flush(streams, template: StreamIndex, *, queued_commit: bool, alone: bool) -> list:
    """Projection writes in a transaction of their own, as an append that owns its transaction
    sends them: with the COMMIT queued behind them, or left to Django's atomic block."""
    ids = [s.id for s in streams]
    with transaction.atomic():
        writer = ProjectionWriter()
        if alone:
            _queue_one(writer, "insert", streams, template)
        else:
            _queue_mixed(writer, streams, template)
        writer.flush(commit=queued_commit)
        raw = connection.connection
        # With the COMMIT sent, the connection is out of the transaction already.
        idle = raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert idle == queued_commit
    rows = _index_rows(ids)
    StreamIndex.objects.filter(stream_id__in=ids).delete()
    return rows


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("alone", [False, True], ids=["pipeline", "one-statement"])
def test_commit_sent_with_the_writes_leaves_the_rows_a_commit_at_the_end_of_atomic_leaves(
    meta, alone
):
    anchor = new_stream()
    store.append(anchor, NO_STREAM, events("A"), meta)
    template = StreamIndex.objects.get(stream_id=anchor.id)
    for size in (1, 2, 5):
        streams = [new_stream() for _ in range(size + 1)]
        queued = _owned_flush(streams, template, queued_commit=True, alone=alone)
        plain = _owned_flush(streams, template, queued_commit=False, alone=alone)
        assert queued == plain
        assert queued  # something was written and committed
