"""The audit trail of a set of streams, or of the log over a recorded_at range: JSON Lines and
CSV hold the same events in log order, counted as they are sent, and end with a trailer (the
count and the SHA-256 of every byte before it) that only a whole trail has."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime

import pytest

from eventstore import store
from eventstore.audit import trail
from eventstore.audit.trail import TRAIL_COLUMNS, Counter, Selection, trail_csv, trail_jsonl
from eventstore.audit.trailer import trail_complete, trailer, without_trailer
from eventstore.types import NO_STREAM
from tests.conftest import events, new_stream


def test_trail_holds_only_the_given_streams_in_log_order_in_both_formats(db, meta):
    chosen, other = new_stream(), new_stream()
    store.append(chosen, NO_STREAM, events("Made", "Changed"), meta)
    store.append(other, NO_STREAM, events("Made"), meta)
    selection = Selection(streams=(chosen.id,))
    counter = Counter()
    body = without_trailer(b"".join(trail_jsonl(selection, counter)), "jsonl")
    lines = [json.loads(line) for line in body.splitlines()]
    assert [(e["stream_id"], e["version"]) for e in lines] == [
        (str(chosen.id), 1),
        (str(chosen.id), 2),
    ]
    assert counter() == 2
    assert list(lines[0]) == TRAIL_COLUMNS
    counter = Counter()
    body = without_trailer(b"".join(trail_csv(selection, counter)), "csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [int(r["position"]) for r in rows] == [e["position"] for e in lines]
    assert [r["hash"] for r in rows] == [e["hash"] for e in lines]
    assert counter() == 2


def test_trail_over_a_range_leaves_out_what_was_recorded_outside_it(db, meta):
    store.append(new_stream(), NO_STREAM, events("Made"), meta)
    future = Selection(since=datetime(2999, 1, 1, tzinfo=UTC))
    assert without_trailer(b"".join(trail_jsonl(future)), "jsonl") == b""
    everything = b"".join(trail_jsonl(Selection(until=datetime(2999, 1, 1, tzinfo=UTC))))
    assert len(without_trailer(everything, "jsonl").splitlines()) >= 1


def test_a_whole_trail_ends_with_its_trailer_in_both_formats(db, meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("Made", "Changed", "Changed"), meta)
    selection = Selection(streams=(stream.id,))
    jsonl = b"".join(trail_jsonl(selection))
    *lines, last = jsonl.splitlines(keepends=True)
    assert json.loads(last) == {
        "trailer": {
            "format": "jsonl",
            "records": 3,
            "sha256": hashlib.sha256(b"".join(lines)).hexdigest(),
            "complete": True,
        }
    }
    assert trail_complete(jsonl, "jsonl")
    as_csv = b"".join(trail_csv(selection))
    *rows, last = as_csv.splitlines(keepends=True)
    digest = hashlib.sha256(b"".join(rows)).hexdigest()
    assert last == f"#trailer,csv,3,{digest},complete{',' * 7}\n".encode()
    parsed = list(csv.reader(io.StringIO(as_csv.decode())))
    assert len(parsed[-1]) == len(parsed[0]) == len(TRAIL_COLUMNS)  # as wide as the header
    assert trail_complete(as_csv, "csv")


def test_an_empty_trail_is_whole_with_a_trailer_of_no_records(db):
    nothing = Selection(since=datetime(2999, 1, 1, tzinfo=UTC))
    jsonl = b"".join(trail_jsonl(nothing))
    assert jsonl == trailer("jsonl", 0, hashlib.sha256(b"").hexdigest())
    as_csv = b"".join(trail_csv(nothing))
    header = (",".join(TRAIL_COLUMNS) + "\n").encode()
    assert as_csv == header + trailer("csv", 0, hashlib.sha256(header).hexdigest(), 12)
    assert trail_complete(jsonl, "jsonl") and trail_complete(as_csv, "csv")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_trail_cut_short_or_altered_anywhere_is_not_complete(db, meta, fmt):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("Made", "Changed", "Changed"), meta)
    whole = b"".join(trail.TRAIL_WRITERS[fmt](Selection(streams=(stream.id,))))
    assert trail_complete(whole, fmt)
    for cut in range(len(whole)):
        assert not trail_complete(whole[:cut], fmt), cut
    *records, last = whole.splitlines(keepends=True)
    assert not trail_complete(b"".join(records[:-1]) + last, fmt)  # a record left out
    assert not trail_complete(b"".join(records) + last + last, fmt)  # a second trailer
    changed = whole.replace(b"Changed", b"Chained", 1)
    assert not trail_complete(changed, fmt)
    other = "csv" if fmt == "jsonl" else "jsonl"
    assert not trail_complete(whole, other)


def _failing(source, after: int):
    """The source of rows, raising as a lost database connection would after `after` items."""

    def rows(*args, **kwargs):
        inner = source(*args, **kwargs)
        try:
            for number, item in enumerate(inner):
                if number == after:
                    raise ConnectionError("the database went away")
                yield item
        finally:
            inner.close()

    return rows


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_trail_that_fails_while_produced_raises_and_has_no_trailer(db, meta, monkeypatch, fmt):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("Made", "Changed", "Changed", "Changed"), meta)
    monkeypatch.setattr(trail, "BATCH", 1)
    monkeypatch.setattr(trail, "CHUNK", 1)
    monkeypatch.setattr(trail, "event_rows", _failing(trail.event_rows, after=2))
    monkeypatch.setattr(trail, "copy_rows", _failing(trail.copy_rows, after=2))
    sent = []
    with pytest.raises(ConnectionError):
        for chunk in trail.TRAIL_WRITERS[fmt](Selection(streams=(stream.id,))):
            sent.append(chunk)
    assert sent  # the failure came after the first byte
    body = b"".join(sent)
    assert b"trailer" not in body
    assert not trail_complete(body, fmt)
