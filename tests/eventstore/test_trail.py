"""The audit trail of a set of streams, or of the log over a recorded_at range: JSON Lines and
CSV hold the same events in log order, counted as they are sent."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from eventstore import store
from eventstore.audit.trail import TRAIL_COLUMNS, Counter, Selection, trail_csv, trail_jsonl
from eventstore.types import NO_STREAM
from tests.conftest import events, new_stream


def test_trail_holds_only_the_given_streams_in_log_order_in_both_formats(db, meta):
    chosen, other = new_stream(), new_stream()
    store.append(chosen, NO_STREAM, events("Made", "Changed"), meta)
    store.append(other, NO_STREAM, events("Made"), meta)
    selection = Selection(streams=(chosen.id,))
    counter = Counter()
    lines = [json.loads(line) for line in b"".join(trail_jsonl(selection, counter)).splitlines()]
    assert [(e["stream_id"], e["version"]) for e in lines] == [
        (str(chosen.id), 1),
        (str(chosen.id), 2),
    ]
    assert counter() == 2
    assert list(lines[0]) == TRAIL_COLUMNS
    counter = Counter()
    rows = list(csv.DictReader(io.StringIO(b"".join(trail_csv(selection, counter)).decode())))
    assert [int(r["position"]) for r in rows] == [e["position"] for e in lines]
    assert [r["hash"] for r in rows] == [e["hash"] for e in lines]
    assert counter() == 2


def test_trail_over_a_range_leaves_out_what_was_recorded_outside_it(db, meta):
    store.append(new_stream(), NO_STREAM, events("Made"), meta)
    future = Selection(since=datetime(2999, 1, 1, tzinfo=UTC))
    assert b"".join(trail_jsonl(future)) == b""
    everything = b"".join(trail_jsonl(Selection(until=datetime(2999, 1, 1, tzinfo=UTC))))
    assert len(everything.splitlines()) >= 1
