"""Append and rebuild throughput of the event store, each beside its own raw psycopg baseline.

Run: ./ledger bench bench/append.py [--events N] [--batches N] [--rebuild-events N] [--rounds N]
Everything runs in one process against the same PostgreSQL, in a throwaway database. Each
workload and its baseline are measured in alternating rounds in the same run:
single appends against one INSERT per transaction, 100-event batches against one 100-row
INSERT per transaction, and the rebuild against reading the log with a plain cursor and
COPYing one projection-shaped row per event into a plain table. Single and batch appends are
also measured with the database's chain trigger switched off for the round, which shows
what the chain check costs (the issue's target: under 10%)."""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

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
RAW_PROJECTION_TABLE = """
CREATE TABLE bench_raw_projection (
    stream_id uuid NOT NULL, stream_type text NOT NULL, first_event_type text NOT NULL,
    first_position bigint NOT NULL, created_at timestamptz NOT NULL, created_by text NOT NULL)
"""
RAW_PROJECTION_COPY = (
    "COPY bench_raw_projection (stream_id, stream_type, first_event_type, first_position,"
    " created_at, created_by) FROM STDIN"
)
BATCH_SIZE = 100
DATA = {"name": "fraud-detector", "framework": "sklearn", "metrics": {"auc": 0.91, "f1": 0.83}}
META = {"actor": "user:1", "auth_method": "token", "request_id": "bench"}


def raw_row(stream: uuid.UUID, version: int, data: str, meta: str) -> tuple[Any, ...]:
    now = datetime.now(UTC)
    return (
        stream,
        "bench",
        version,
        "bench.Happened",
        1,
        data,
        meta,
        now,
        now,
        bytes(32),
        bytes(32),
    )


class RawInserter:
    """Baseline of single appends: one INSERT per transaction into a plain table of the same
    shape."""

    def __init__(self, conninfo: str) -> None:
        self.conn = psycopg.connect(conninfo, prepare_threshold=1)
        self.stream = uuid.uuid4()
        self.version = 0

    def run(self, count: int) -> float:
        data, meta = json.dumps(DATA), json.dumps(META)
        started = time.perf_counter()
        for _ in range(count):
            self.version += 1
            with self.conn.transaction():
                self.conn.execute(RAW_INSERT, raw_row(self.stream, self.version, data, meta))
        return count / (time.perf_counter() - started)

    def close(self) -> None:
        self.conn.close()


class RawBatchInserter(RawInserter):
    """Baseline of batch appends: one 100-row INSERT per transaction into the same table."""

    def __init__(self, conninfo: str, size: int = BATCH_SIZE) -> None:
        super().__init__(conninfo)
        self.size = size
        self.sql = RAW_INSERT + ", (%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s)" * (
            size - 1
        )

    def run(self, count: int) -> float:
        """Rate in batches per second."""
        started = time.perf_counter()
        for _ in range(count):
            params: list[Any] = []
            for i in range(self.size):
                self.version += 1
                params.extend(
                    raw_row(
                        self.stream, self.version, json.dumps({**DATA, "i": i}), json.dumps(META)
                    )
                )
            with self.conn.transaction():
                self.conn.execute(self.sql, params)
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


class BatchAppender:
    def __init__(self, size: int = BATCH_SIZE) -> None:
        from eventstore.types import NewEvent, StreamRef

        self.stream = StreamRef(uuid.uuid4(), "bench.Thing")
        self.events = [NewEvent("bench.Happened", {**DATA, "i": i}) for i in range(size)]
        self.version = 0

    def run(self, count: int) -> float:
        """Rate in batches per second."""
        from eventstore import store

        started = time.perf_counter()
        for _ in range(count):
            store.append(self.stream, self.version, self.events, META)
            self.version += len(self.events)
        return count / (time.perf_counter() - started)


class RawRebuilder:
    """Baseline of a rebuild: read every event through a plain psycopg server-side cursor
    (jsonb decoded, as a rebuild does) and COPY one stream-index-shaped row per event into a
    plain table, emptied first, all in one transaction."""

    def __init__(self, conninfo: str, batch_size: int = 5000) -> None:
        self.conn = psycopg.connect(conninfo)
        self.conn.execute(RAW_PROJECTION_TABLE)
        self.conn.commit()
        self.batch_size = batch_size

    def run(self) -> float:
        count = 0
        started = time.perf_counter()
        with self.conn.transaction():
            self.conn.execute("TRUNCATE bench_raw_projection")
            with self.conn.cursor(name="bench_raw_rebuild") as read, self.conn.cursor() as write:
                read.execute(
                    "SELECT position, stream_id, stream_type, type, metadata, recorded_at"
                    " FROM eventstore_event ORDER BY position"
                )
                while rows := read.fetchmany(self.batch_size):
                    with write.copy(RAW_PROJECTION_COPY) as copy:
                        for position, stream_id, stream_type, type_, meta, at in rows:
                            copy.write_row(
                                (stream_id, stream_type, type_, position, at, meta.get("actor", ""))
                            )
                    count += len(rows)
        return count / (time.perf_counter() - started)

    def close(self) -> None:
        self.conn.close()


class Rebuilder:
    def __init__(self) -> None:
        self.events = 0

    def run(self) -> float:
        from eventstore.projection import rebuild

        report = rebuild()
        self.events = report.events
        return report.events_per_second


def chain_check_off(run: Callable[[], float]) -> Callable[[], float]:
    """The same runner with the database's chain trigger switched off (its owner may) for the
    round, so that rounds with and without it show what the check costs."""

    def off() -> float:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE eventstore_event DISABLE TRIGGER eventstore_event_chain")
        try:
            return run()
        finally:
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE eventstore_event ENABLE ALWAYS TRIGGER eventstore_event_chain"
                )

    return off


def alternate(pairs: Sequence[tuple[Callable[[], float], list[float]]], rounds: int) -> None:
    """Measure in alternating rounds so that background noise hits every runner alike."""
    for _ in range(rounds):
        for run, seen in pairs:
            seen.append(run())


def fill_many_streams(total: int) -> None:
    """Spread events over many streams so the rebuild projects realistic upserts."""
    from eventstore import store
    from eventstore.types import NewEvent, StreamRef

    per_stream = 10
    for _ in range(total // per_stream):
        stream = StreamRef(uuid.uuid4(), "bench.Thing")
        store.append(stream, 0, [NewEvent("bench.Happened", DATA)] * per_stream, META)


def logged_events() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM eventstore_event")
        return cursor.fetchone()[0]


def _chain_cost(on: float, off: float) -> str:
    """What the database's chain check costs: the rate it takes from the row above."""
    cost = 1 - on / off
    return f"chain check costs {cost:.1%}: {'met' if cost < 0.10 else 'MISSED'} (< 10%)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="single appends to time")
    parser.add_argument("--batches", type=int, default=200, help="100-event batches to time")
    parser.add_argument("--rebuild-events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10, help="alternating timing rounds")
    args = parser.parse_args()
    rounds = max(1, args.rounds)
    singles = max(1, args.events // rounds)
    batches = max(1, args.batches // rounds)
    rates: dict[str, list[float]] = defaultdict(list)

    with bench_database() as conninfo:
        with psycopg.connect(conninfo) as setup:
            setup.execute(RAW_TABLE)
        raw, ours, fresh = RawInserter(conninfo), SingleAppender(), NewStreamAppender()
        raw_batch, batch = RawBatchInserter(conninfo), BatchAppender()
        ours_off, batch_off = SingleAppender(), BatchAppender()
        for runner in (raw, ours, fresh, ours_off):
            runner.run(200)
        for runner in (raw_batch, batch, batch_off):
            runner.run(2)
        alternate(
            [
                (lambda: raw.run(singles), rates["raw single"]),
                (lambda: ours.run(singles), rates["single"]),
                (chain_check_off(lambda: ours_off.run(singles)), rates["single off"]),
                (lambda: fresh.run(singles), rates["fresh"]),
            ],
            rounds,
        )
        alternate(
            [
                (lambda: raw_batch.run(batches), rates["raw batch"]),
                (lambda: batch.run(batches), rates["batch"]),
                (chain_check_off(lambda: batch_off.run(batches)), rates["batch off"]),
            ],
            rounds,
        )
        raw.close()
        raw_batch.close()
        fill_many_streams(max(0, args.rebuild_events - logged_events()))
        raw_rebuild, rebuild = RawRebuilder(conninfo), Rebuilder()
        raw_rebuild.run()  # warms the cache for both
        alternate(
            [(raw_rebuild.run, rates["raw rebuild"]), (rebuild.run, rates["rebuild"])], rounds
        )
        raw_rebuild.close()

    median = {name: statistics.median(seen) for name, seen in rates.items()}
    size = BATCH_SIZE
    rebuilt = median["rebuild"]
    single_ratio = median["single"] / median["raw single"]
    # (workload, rate, unit, events/s, its own baseline's events/s, target)
    rows = [
        (
            "raw psycopg INSERT, 1 per transaction",
            median["raw single"],
            "events/s",
            median["raw single"],
            median["raw single"],
            "baseline of the single appends",
        ),
        (
            "append, 1 event per transaction",
            median["single"],
            "events/s",
            median["single"],
            median["raw single"],
            f">= 50% of raw single INSERT: {'met' if single_ratio >= 0.5 else 'MISSED'}",
        ),
        (
            "append, 1 event per transaction, chain trigger off",
            median["single off"],
            "events/s",
            median["single off"],
            median["raw single"],
            _chain_cost(median["single"], median["single off"]),
        ),
        (
            "append, 1 event starting a new stream (+ index row)",
            median["fresh"],
            "events/s",
            median["fresh"],
            median["raw single"],
            "",
        ),
        (
            f"raw psycopg {size}-row INSERT per transaction",
            median["raw batch"],
            "batches/s",
            median["raw batch"] * size,
            median["raw batch"] * size,
            "baseline of the batch appends",
        ),
        (
            f"append, {size}-event batch per transaction",
            median["batch"],
            "batches/s",
            median["batch"] * size,
            median["raw batch"] * size,
            "",
        ),
        (
            f"append, {size}-event batch, chain trigger off",
            median["batch off"],
            "batches/s",
            median["batch off"] * size,
            median["raw batch"] * size,
            _chain_cost(median["batch"], median["batch off"]),
        ),
        (
            "raw read of the log + COPY 1 row per event",
            median["raw rebuild"],
            "events/s",
            median["raw rebuild"],
            median["raw rebuild"],
            "baseline of the rebuild",
        ),
        (
            f"rebuild_projections ({rebuild.events:,} events)",
            rebuilt,
            "events/s",
            rebuilt,
            median["raw rebuild"],
            f">= 20,000 events/s: {'met' if rebuilt >= 20_000 else 'MISSED'}",
        ),
    ]
    print(f"\nmedians of {rounds} alternating rounds; each ratio is to the row's own baseline")
    print(f"{'workload':<52}{'rate':>12} {'unit':<10}{'events/s':>12}{'vs baseline':>13}  target")
    for name, rate, unit, events_per_s, baseline, target in rows:
        ratio = events_per_s / baseline
        print(f"{name:<52}{rate:>12,.0f} {unit:<10}{events_per_s:>12,.0f}{ratio:>12.2f}x  {target}")


if __name__ == "__main__":
    main()
