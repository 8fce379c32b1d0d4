"""Append and rebuild throughput of the event store against raw psycopg INSERTs.

Run: ./ledger bench bench/append.py [--events N]
Everything runs in one process against the same PostgreSQL, in a throwaway database."""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from datetime import UTC, datetime

import psycopg

from bench._db import bench_database

RAW_TABLE = """
CREATE TABLE bench_raw_event (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id uuid NOT NULL, stream_type text NOT NULL, version bigint NOT NULL,
    type text NOT NULL, schema_version integer NOT NULL, data jsonb NOT NULL,
    metadata jsonb NOT NULL, occurred_at timestamptz NOT NULL, recorded_at timestamptz NOT NULL,
    prev_hash bytea NOT NULL, hash bytea NOT NULL,
    UNIQUE (stream_id, version))
"""
RAW_INSERT = (
    "INSERT INTO bench_raw_event (stream_id, stream_type, version, type, schema_version, data,"
    " metadata, occurred_at, recorded_at, prev_hash, hash)"
    " VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s)"
)
DATA = {"name": "fraud-detector", "framework": "sklearn", "metrics": {"auc": 0.91, "f1": 0.83}}
META = {"actor": "user:1", "auth_method": "token", "request_id": "bench"}


class RawInserter:
    """Baseline: one INSERT per transaction into a plain table of the same shape."""

    def __init__(self, conninfo: str) -> None:
        self.conn = psycopg.connect(conninfo, prepare_threshold=1)
        self.conn.execute(RAW_TABLE)
        self.conn.commit()
        self.stream = uuid.uuid4()
        self.version = 0

    def run(self, count: int) -> float:
        data, meta = json.dumps(DATA), json.dumps(META)
        started = time.perf_counter()
        for _ in range(count):
            self.version += 1
            now = datetime.now(UTC)
            with self.conn.transaction():
                self.conn.execute(
                    RAW_INSERT,
                    (
                        self.stream,
                        "bench",
                        self.version,
                        "bench.Happened",
                        1,
                        data,
                        meta,
                        now,
                        now,
                        bytes(32),
                        bytes(32),
                    ),
                )
        return count / (time.perf_counter() - started)


class SingleAppender:
    def __init__(self) -> None:
        from eventstore.types import StreamRef

        self.stream = StreamRef(uuid.uuid4(), "bench.Thing")
        self.version = 0

    def run(self, count: int) -> float:
        from eventstore import store
        from eventstore.types import NewEvent

        started = time.perf_counter()
        for _ in range(count):
            store.append(self.stream, self.version, [NewEvent("bench.Happened", DATA)], META)
            self.version += 1
        return count / (time.perf_counter() - started)


class NewStreamAppender:
    """Each append starts a stream: the stream index projection writes a row every time."""

    def run(self, count: int) -> float:
        from eventstore import store
        from eventstore.types import NO_STREAM, NewEvent, StreamRef

        started = time.perf_counter()
        for _ in range(count):
            stream = StreamRef(uuid.uuid4(), "bench.Thing")
            store.append(stream, NO_STREAM, [NewEvent("bench.Happened", DATA)], META)
        return count / (time.perf_counter() - started)


def interleaved(conninfo: str, count: int, rounds: int) -> tuple[float, float, float]:
    """Median rates of raw inserts and of appends, measured in alternating rounds so that
    background noise hits all of them alike."""
    raw, ours, fresh = RawInserter(conninfo), SingleAppender(), NewStreamAppender()
    for runner in (raw, ours, fresh):
        runner.run(200)
    rates: tuple[list[float], list[float], list[float]] = ([], [], [])
    for _ in range(rounds):
        for runner, seen in zip((raw, ours, fresh), rates, strict=True):
            seen.append(runner.run(count // rounds))
    raw.conn.close()
    raw_rate, our_rate, fresh_rate = (statistics.median(seen) for seen in rates)
    return raw_rate, our_rate, fresh_rate


def batch_appends(batches: int, size: int = 100) -> float:
    from eventstore import store
    from eventstore.types import NewEvent, StreamRef

    stream = StreamRef(uuid.uuid4(), "bench.Thing")
    events = [NewEvent("bench.Happened", {**DATA, "i": i}) for i in range(size)]
    started = time.perf_counter()
    for batch in range(batches):
        store.append(stream, batch * size, events, META)
    return batches / (time.perf_counter() - started)


def fill_many_streams(total: int) -> None:
    """Spread events over many streams so the rebuild projects realistic upserts."""
    from eventstore import store
    from eventstore.types import NewEvent, StreamRef

    per_stream = 10
    for _ in range(total // per_stream):
        stream = StreamRef(uuid.uuid4(), "bench.Thing")
        store.append(stream, 0, [NewEvent("bench.Happened", DATA)] * per_stream, META)


def rebuild_rate() -> tuple[float, int]:
    from eventstore.projection import rebuild

    report = rebuild()
    return report.events_per_second, report.events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="single appends to time")
    parser.add_argument("--batches", type=int, default=200, help="100-event batches to time")
    parser.add_argument("--rebuild-events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10, help="alternating timing rounds")
    args = parser.parse_args()

    with bench_database() as conninfo:
        raw, single, fresh = interleaved(conninfo, args.events, args.rounds)
        batch = batch_appends(args.batches)
        fill_many_streams(max(0, args.rebuild_events - 2 * args.events - args.batches * 100))
        rebuilt, replayed = rebuild_rate()

    rows = [
        ("raw psycopg INSERT, 1 per transaction (baseline)", raw, raw, "events/s", None),
        ("append, 1 event per transaction", single, single, "events/s", 0.5),
        ("append, 1 event starting a new stream (+ index row)", fresh, fresh, "events/s", None),
        ("append, 100-event batch per transaction", batch, batch * 100, "batches/s", None),
        (f"rebuild_projections ({replayed:,} events)", rebuilt, rebuilt, "events/s", None),
    ]
    print(f"\n{'workload':<52}{'rate':>14} {'unit':<10}{'events/s vs raw':>18}  target")
    for name, rate, events_per_s, unit, ratio_target in rows:
        ratio = events_per_s / raw
        if ratio_target is not None:
            verdict = (
                f">= {ratio_target:.0%} of raw: {'met' if ratio >= ratio_target else 'MISSED'}"
            )
        elif name.startswith("rebuild"):
            verdict = f">= 20,000 events/s: {'met' if rebuilt >= 20_000 else 'MISSED'}"
        else:
            verdict = ""
        print(f"{name:<52}{rate:>14,.0f} {unit:<10}{ratio:>17.2f}x  {verdict}")


if __name__ == "__main__":
    main()
