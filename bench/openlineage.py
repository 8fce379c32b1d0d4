"""The cost of an OpenLineage RunEvent by its size, up to the largest the schema allows (100
inputs and 100 outputs), beside the smallest (one of each) measured in the same run.

Run: ./ledger bench bench/openlineage.py [--rounds N] [--quick]

Each row posts COMPLETE events through the API in this process (Django's test client with a
Bearer token: authentication, the serializer, the run's claim, dataset registration, one new
version per output, the run's event and its edges, all in one transaction) to a throwaway
database. Every round uses new dataset names, so each event registers all of its datasets
(the worst case: a first sight); rounds alternate the sizes. Per request it prints requests per
second, median and p99 wall milliseconds, and CPU milliseconds: this process (client and
server) plus PostgreSQL's backend serving it (from /proc, Linux only; 0 elsewhere). The last
row is an event past the cap (101 inputs), refused by the serializer before any query."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = ((1, 1), (10, 10), (50, 50), (100, 100))
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def backend_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def event(run: str, inputs: int, outputs: int, tag: str) -> dict:
    def dataset(side: str, i: int) -> dict:
        return {"namespace": "s3://bench", "name": f"{tag}/{side}-{i}"}

    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-23T12:00:00+00:00",
        "run": {"runId": run},
        "job": {"namespace": "bench", "name": "job"},
        "producer": "https://example.test/bench",
        "inputs": [dataset("in", i) for i in range(inputs)],
        "outputs": [dataset("out", i) for i in range(outputs)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="5 rounds")
    args = parser.parse_args()
    rounds = 5 if args.quick else args.rounds
    sys.path.insert(0, str(ROOT))
    from bench._db import bench_database

    with bench_database():
        from django.contrib.auth.models import Group, User
        from django.db import connection
        from rest_framework.authtoken.models import Token
        from rest_framework.test import APIClient

        from core.actors import Actor
        from registry import commands

        team = Group.objects.create(name="bench-team")
        user = User.objects.create_user("bench")
        user.groups.add(team)
        commands.choose_default_team(
            actor=Actor.user(user, auth_method="token"), user_id=user.pk, team=team.name
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {Token.objects.create(user=user).key}")
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        rows = [*SIZES, (101, 0)]
        walls: dict[tuple[int, int], list[float]] = {size: [] for size in rows}
        cpus: dict[tuple[int, int], list[float]] = {size: [] for size in rows}
        for round_ in range(rounds + 1):  # the first round warms up and is not counted
            order = rows if round_ % 2 else list(reversed(rows))
            for inputs, outputs in order:
                tag = uuid.uuid4().hex[:12]
                body = event(f"bench-{tag}", inputs, outputs, tag)
                cpu0, pg0 = time.process_time(), backend_cpu_seconds(backend)
                wall0 = time.perf_counter()
                response = client.post("/api/v1/lineage", body, format="json")
                wall = time.perf_counter() - wall0
                cpu = time.process_time() - cpu0 + backend_cpu_seconds(backend) - pg0
                expected = 400 if inputs > 100 else 201
                assert response.status_code == expected, response.content[:300]
                if round_:
                    walls[(inputs, outputs)].append(wall)
                    cpus[(inputs, outputs)].append(cpu)

    base = statistics.median(walls[SIZES[0]])
    print(f"OpenLineage COMPLETE events, {rounds} rounds, every dataset new (first sight)")
    print(f"{'inputs/outputs':<18}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/req':>12}  vs 1/1")
    for size in rows:
        median = statistics.median(walls[size])
        p99 = sorted(walls[size])[max(0, int(len(walls[size]) * 0.99) - 1)]
        cpu = statistics.median(cpus[size])
        label = f"{size[0]}/{size[1]}" + (" (refused)" if size[0] > 100 else "")
        print(
            f"{label:<18}{1 / median:>8.1f}{median * 1000:>9.1f}{p99 * 1000:>9.1f}"
            f"{cpu * 1000:>12.1f}  {median / base:>5.1f}x"
        )


if __name__ == "__main__":
    main()
