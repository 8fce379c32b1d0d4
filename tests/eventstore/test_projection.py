"""Replay: rebuild_projections empties every projection table and refills it to the same state."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from eventstore import store
from eventstore.models import StreamSummary
from eventstore.projection import (
    Add,
    KeepExisting,
    ProjectionWriter,
    checksum,
    rebuild,
    registered_tables,
)
from eventstore.types import NO_STREAM, NewEvent
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
    assert StreamSummary in before
    assert StreamSummary.objects.filter(stream_type="test.Rebuilt").count() == 20
    out = io.StringIO()
    call_command("rebuild_projections", "--no-progress", stdout=out)
    after = {m: checksum(m) for m in registered_tables()}
    assert after == before
    assert "events/s" in out.getvalue()


def test_rebuild_restores_rows_when_a_projection_table_was_damaged(meta):
    _fill(meta, streams=5)
    before = checksum(StreamSummary)
    StreamSummary.objects.filter(stream_type="test.Rebuilt").update(event_count=0)
    StreamSummary.objects.filter(stream_type="test.Rebuilt").first().delete()
    assert checksum(StreamSummary) != before
    report = rebuild(batch_size=7)
    assert checksum(StreamSummary) == before
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
    writer = ProjectionWriter()
    summary = StreamSummary.objects.get(stream_id=stream.id)
    writer.upsert(
        StreamSummary,
        ("stream_id",),
        stream_id=stream.id,
        stream_type=stream.type,
        version=9,
        event_count=Add(5),
        first_position=KeepExisting(-1),
        last_position=summary.last_position,
        last_event_type="test.Z",
        created_at=KeepExisting(summary.created_at),
        updated_at=summary.updated_at,
        last_actor="x",
    )
    writer.flush()
    summary.refresh_from_db()
    assert (summary.version, summary.event_count, summary.first_position) == (
        9,
        6,
        summary.first_position,
    )
    assert summary.first_position != -1
