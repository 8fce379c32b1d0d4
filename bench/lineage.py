"""Lineage closure latency and audit-trail export throughput, each beside a naive baseline.

Run: ./ledger bench bench/lineage.py [--edges N] [--depth D] [--events N] [--quick]

1. Closure: a generated graph of N edges (default 100,000) over D layers (default 50) plus a
   few random edges that jump back (cycles). Downstream from the first layer and upstream from
   the last, to the full depth, through lineage.queries.closure (both strategies: "frontier",
   one indexed query per level, and "cte", one recursive CTE), against Python BFS over every
   edge loaded from the table. Median and p99 milliseconds.
2. Export: an audit trail of N events (default 1,000,000) as JSON Lines and CSV through the
   same streamed, recorded generator the API uses, against building the export in memory.
   Each run is its own process, so peak RSS is that export's alone.

The graph and the events are written straight into the tables (COPY / INSERT ... SELECT):
what is measured is reading them, and appending 1,000,000 events through the commands first
would only make the run longer. Everything happens in a throwaway database."""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict, deque
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDGE_TYPES = ("derived_from", "trained_on", "fine_tuned_from", "consumed", "produced")


def build_graph(edges: int, depth: int, seed: int = 7) -> tuple[list[list[uuid.UUID]], int]:
    """Layered graph: edges run from each layer to the next; 1% jump back to an earlier one."""
    from django.db import connection

    rng = random.Random(seed)
    width = max(2, int((edges / depth) ** 0.5 * 2))
    layers = [[uuid.UUID(int=rng.getrandbits(128)) for _ in range(width)] for _ in range(depth)]
    now = datetime.now(UTC)
    seen: set[tuple[uuid.UUID, uuid.UUID, str]] = set()
    rows = io.StringIO()
    position = 0
    while position < edges:
        layer = rng.randrange(depth - 1)
        source = rng.choice(layers[layer])
        if rng.random() < 0.01 and layer > 0:
            target = rng.choice(layers[rng.randrange(layer)])  # a cycle through earlier layers
        else:
            target = rng.choice(layers[layer + 1])
        edge_type = rng.choice(EDGE_TYPES)
        if (source, target, edge_type) in seen or source == target:
            continue
        seen.add((source, target, edge_type))
        position += 1
        rows.write(
            f"{uuid.uuid4()}\t{source}\t{target}\t{edge_type}\t{position}\t{now}\t{uuid.uuid4()}\n"
        )
    with connection.cursor() as cursor:
        with cursor.copy(
            "COPY lineage_edge (id, source_id, target_id, edge_type, position, recorded_at,"
            " stream_id) FROM STDIN"
        ) as copy:
            copy.write(rows.getvalue())
        cursor.execute("ANALYZE lineage_edge")
    return layers, width


def naive_bfs(start: uuid.UUID, direction: str, depth: int) -> int:
    """The baseline: load every edge, then breadth-first search in Python."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT source_id, target_id FROM lineage_edge")
        edges = cursor.fetchall()
    adjacent: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for source, target in edges:
        if direction == "downstream":
            adjacent[source].append(target)
        else:
            adjacent[target].append(source)
    seen = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if seen[node] >= depth:
            continue
        for other in adjacent[node]:
            if other not in seen:
                seen[other] = seen[node] + 1
                queue.append(other)
    return len(seen)


def timed(fn, samples: int) -> tuple[float, float, int]:
    times, size = [], 0
    for _ in range(samples):
        started = time.perf_counter()
        size = fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return statistics.median(times), p99, size


def closure_rows(layers, depth: int, samples: int) -> list[tuple[str, float, float, float]]:
    from lineage import queries

    rng = random.Random(11)
    out = []
    variants = (
        ("frontier, nodes", {"strategy": "frontier", "with_edges": False}),
        ("frontier, nodes and edges", {"strategy": "frontier", "with_edges": True}),
        ("recursive CTE, nodes and edges", {"strategy": "cte"}),
    )
    for direction, layer in (("downstream", 0), ("upstream", -1)):
        starts = [rng.choice(layers[layer]) for _ in range(samples)]
        for label, options in variants:
            sizes: list[int] = []
            it = iter(starts)

            def run(it=it, direction=direction, options=options, sizes=sizes):
                walk = queries.closure(next(it), direction=direction, depth=depth, **options)
                sizes.append(len(walk.nodes))
                return len(walk.nodes)

            median, p99, _ = timed(run, samples)
            out.append((f"{direction}, {label}", median, p99, statistics.mean(sizes)))
        sizes = []
        it = iter(starts)

        def naive(it=it, direction=direction, sizes=sizes):
            sizes.append(naive_bfs(next(it), direction, depth))
            return sizes[-1]

        median, p99, _ = timed(naive, max(3, samples // 5))
        out.append(
            (f"{direction}, naive Python BFS (baseline)", median, p99, statistics.mean(sizes))
        )
    return out


def closure_table_rows(layers, depth: int, samples: int = 40) -> float:
    """Estimated (ancestor, descendant) pairs: downstream closure sizes of random nodes from
    every layer, scaled to all nodes. What a closure table would store and keep up to date."""
    from lineage import queries

    rng = random.Random(5)
    nodes = [node for layer in layers for node in layer]
    sizes = [
        len(queries.closure(n, direction="downstream", depth=depth, with_edges=False).nodes) - 1
        for n in rng.sample(nodes, min(samples, len(nodes)))
    ]
    return statistics.mean(sizes) * len(nodes)


def fill_events(count: int) -> None:
    from django.db import connection

    step = 200_000
    with connection.cursor() as cursor:
        for start in range(0, count, step):
            cursor.execute(
                "INSERT INTO eventstore_event (stream_id, stream_type, version, type,"
                " schema_version, data, metadata, occurred_at, recorded_at, prev_hash, hash)"
                " SELECT md5((g / 10)::text)::uuid, 'registry.ModelVersion', g %% 10 + 1,"
                " 'registry.ModelVersionUpdated', 1,"
                " jsonb_build_object('changes', jsonb_build_object('description',"
                "   'retrained on the November snapshot ' || g, 'tags',"
                "   jsonb_build_object('team', 'fraud-ml', 'stage', 'candidate')),"
                "   'metrics', jsonb_build_object('auc', 0.91, 'f1', 0.83, 'n', g)),"
                " jsonb_build_object('actor', 'user:' || (g %% 50), 'auth_method', 'token',"
                "   'request_id', md5(g::text)),"
                " now(), now(),"
                # Chained as the database requires: version 1 onto GENESIS, the others onto
                # the hash of the row before (g - 1, the same stream).
                " CASE WHEN g %% 10 = 0 THEN decode(repeat('00', 32), 'hex')"
                " ELSE sha256(int8send(g - 1)) END, sha256(int8send(g))"
                " FROM generate_series(%s, %s) g",
                [start, min(count, start + step) - 1],
            )
        cursor.execute("ANALYZE eventstore_event")


def export_child(mode: str) -> None:
    """One export in this process; prints bytes, seconds and peak RSS as JSON."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import hashlib

    from core.actors import Actor
    from eventstore.audit import trail
    from lineage import commands, exports

    fmt, how = mode.split(":")
    selection = trail.Selection()
    started = time.perf_counter()
    size = 0
    if how == "streamed":
        actor = Actor.system("bench")
        export_id = commands.start_export(
            actor=actor, kind="audit-trail", format=fmt, subject="ledger", parameters={}
        )
        counter = trail.Counter()
        chunks = exports.recorded(
            trail.TRAIL_WRITERS[fmt](selection, counter),
            actor=actor,
            export_id=export_id,
            counter=counter,
        )
        for chunk in chunks:
            size += len(chunk)  # what a WSGI server would write to the socket
    else:
        body = build_in_memory(fmt)
        hashlib.sha256(body).hexdigest()
        size = len(body)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"bytes": size, "seconds": seconds, "peak_mb": peak_mb}))


def build_in_memory(fmt: str) -> bytes:
    """The baseline: every event fetched into a list, the whole export built, then sent."""
    import csv

    from django.db import connection

    from eventstore.audit import trail

    with connection.cursor() as cursor:
        cursor.execute(f"{trail.EVENT_SQL} FROM eventstore_event e ORDER BY e.position")
        rows = cursor.fetchall()
    if fmt == "jsonl":
        return "".join(trail.jsonl_line(row) for row in rows).encode()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(trail.TRAIL_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def run_child(mode: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=50, help="closures timed per row")
    parser.add_argument("--quick", action="store_true", help="10,000 edges and 50,000 events")
    parser.add_argument("--only", choices=["closure", "export"], help="run one part")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        export_child(args.child)
        return
    if args.quick:
        args.edges, args.events, args.samples = 10_000, 50_000, 20

    sys.path.insert(0, str(ROOT))
    from bench._db import bench_database

    closures, exports_measured = [], {}
    with bench_database():
        if args.only != "export":
            started = time.perf_counter()
            layers, width = build_graph(args.edges, args.depth)
            print(
                f"graph: {args.edges:,} edges, {args.depth} layers of {width} nodes"
                f" (built in {time.perf_counter() - started:.1f} s)"
            )
            closures = closure_rows(layers, args.depth, args.samples)
            pairs = closure_table_rows(layers, args.depth)
            print(
                f"a closure table (ancestor, descendant, depth) of this graph would hold about"
                f" {pairs:,.0f} rows ({pairs / args.edges:,.0f} per edge)"
            )
        if args.only != "closure":
            started = time.perf_counter()
            fill_events(args.events)
            elapsed = time.perf_counter() - started
            print(f"ledger: {args.events:,} events (written in {elapsed:.1f} s)")
            exports_measured = {
                (fmt, how): run_child(f"{fmt}:{how}")
                for fmt in ("jsonl", "csv")
                for how in ("streamed", "in-memory")
            }

    if closures:
        print(
            f"\n{'closure (depth ' + str(args.depth) + ')':<52}{'median ms':>10}{'p99 ms':>10}"
            f"{'nodes':>9}  target"
        )
    for name, median, p99, size in closures:
        verdict = ""
        if "naive" not in name:
            verdict = f"median < 100 ms: {'met' if median < 100 else 'MISSED'}"
        print(f"{name:<52}{median:>10.1f}{p99:>10.1f}{size:>9,.0f}  {verdict}")
    if exports_measured:
        print(
            f"\n{'audit trail export (' + format(args.events, ',') + ' events)':<52}"
            f"{'MB':>8}{'MB/s':>8}{'peak RSS MB':>13}  target"
        )
    for (fmt, how), m in exports_measured.items():
        mb = m["bytes"] / 1e6
        rate = mb / m["seconds"]
        verdict = ""
        if how == "streamed":
            ok = m["peak_mb"] < 200 and rate >= 50
            verdict = f"< 200 MB at >= 50 MB/s: {'met' if ok else 'MISSED'}"
        label = f"{fmt}, {how}" + (" (baseline)" if how == "in-memory" else "")
        print(f"{label:<52}{mb:>8.0f}{rate:>8.1f}{m['peak_mb']:>13.0f}  {verdict}")


if __name__ == "__main__":
    main()
