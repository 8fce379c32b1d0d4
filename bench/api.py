"""Create-model-version requests/s and latency over HTTP: Model Ledger under gunicorn beside
MLflow's tracking server on the same PostgreSQL, measured in one run.

Run: ./ledger bench bench/api.py [--requests N] [--hot N] [--rounds N] [--quick]

Model Ledger runs with every feature on (token authentication, team permissions,
Idempotency-Key, ETag, hash chain, inline projections, outbox) in a throwaway database; MLflow
(installed only in .ledger/bench-mlflow-venv, pinned) gets a second throwaway database on the
same server. Every server is started and left to go idle first; then rounds alternate between
them. MLflow is measured in several configurations, each with two clients (keep-alive and a
new connection per request), and its best is the baseline; our figure is the slower of our
two clients. A bare Django view under the same gunicorn (bench/floor_app.py; --no-floor leaves
it out) shows what the stack costs before any feature. CPU per request is read from /proc
for the server's process tree, PostgreSQL's processes (0 when PostgreSQL is not local) and
this client process. --quick (about a minute)
is a smoke test: one round, fewer calls, one MLflow configuration."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench._db import bench_database
from bench._servers import (
    HOST,
    MLFLOW_VERSION,
    ROOT,
    Call,
    CpuMeter,
    LoadResult,
    Server,
    ensure_mlflow_venv,
    free_port,
    log,
    merge,
    mlflow_server_flags,
    postmaster_pid,
    run_load,
    running,
    sqlalchemy_url,
    throwaway_database,
)

GUNICORN_WORKERS = 4
TEAM = "bench-ml"
WARMUP_PER_CLIENT = 3
TARGET_EIGHT = 3.0  # x MLflow's best at 8 clients
TARGET_HOT = 2.0  # x MLflow's best on the hot stream
TARGET_P99_MS = 25.0  # our p99 at 8 clients
CLIENTS = (("keep-alive", True), ("new conn", False))


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    clients: int
    requests: int
    shared_model: bool  # every client writes to one model


def scenarios(requests: int, hot: int) -> list[Scenario]:
    solo = max(20, requests // 4)
    eight = max(8, requests - requests % 8)
    hot = max(8, hot - hot % 8)
    return [
        Scenario("one", f"1 client, {solo} creates", 1, solo, True),
        Scenario("eight", f"8 clients, {eight} creates, a model each", 8, eight, False),
        Scenario("hot", f"hot stream: 8 clients, {hot} creates on one model", 8, hot, True),
    ]


def split(calls: list[Call], clients: int) -> list[list[Call]]:
    return [calls[i::clients] for i in range(clients)]


# -- Model Ledger --------------------------------------------------------------------------


def start_gunicorn(
    system: Ledger | Floor,
    stack: ExitStack,
    logdir: Path,
    app: str,
    workers: int,
    env: dict[str, str],
) -> None:
    """Serve `app` from gunicorn sync workers for `system` (sets its config, port and server),
    wait until it answers and idles, then warm every worker up."""
    system.config = f"gunicorn -w {workers} sync"
    system.port = free_port()
    argv = [
        str(Path(sys.executable).parent / "gunicorn"),
        app,
        "--bind",
        f"{HOST}:{system.port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
    ]
    log(f"starting {system.name}: {system.config} on port {system.port}")
    server = Server(
        system.role,
        argv,
        port=system.port,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        logdir=logdir,
    )
    system.server = stack.enter_context(running(server))
    system.server.wait_ready("/healthz", timeout=60)
    log(f"{system.name} ready; idle after {system.server.wait_quiet():.0f} s more")
    warm_up(system)


class Ledger:
    """Our service under gunicorn (sync workers), against the bench database."""

    name = "Model Ledger"
    role = "ours"
    expect = 201

    def __init__(self, stack: ExitStack, logdir: Path, workers: int) -> None:
        from django.contrib.auth.models import Group, User
        from rest_framework.authtoken.models import Token

        from core.actors import Actor

        group = Group.objects.create(name=TEAM)
        user = User.objects.create_user("bench-client", email="")
        user.set_unusable_password()
        user.save()
        user.groups.add(group)
        token = Token.objects.create(user=user)
        self.actor = Actor.user(user, auth_method="bench")
        self.auth = f"Bearer {token.key}"
        env = {
            "LEDGER_ENV": "development",
            "DJANGO_DEBUG": "false",
            "API_THROTTLE_USER": "100000000/hour",
        }
        start_gunicorn(self, stack, logdir, "config.wsgi:application", workers, env)

    def create_models(self, names: Sequence[str]) -> None:
        from registry import commands

        for name in names:
            commands.register_model(actor=self.actor, name=name, team=TEAM)

    @staticmethod
    def body(model: str, i: int) -> dict:
        return {
            "description": f"nightly retrain {i}",
            "framework": "xgboost",
            "artifact_uri": f"s3://models/{model}/{i}/model.ubj",
            "artifact_size": 1_048_576 + i,
            "parameters": {"max_depth": 6, "eta": 0.05, "n_estimators": 400, "seed": i},
            "metrics": {"auc": 0.91, "f1": 0.83, "logloss": 0.2741},
            "run_id": uuid.uuid4().hex,
            "code_commit": uuid.uuid4().hex[:40],
            "tags": {"pipeline": "nightly", "owner": "bench"},
        }

    def call(self, model: str, i: int) -> Call:
        body = self.body(model, i)
        headers = {
            "Authorization": self.auth,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        }
        path = f"/api/v1/models/{model}/versions/"
        return Call(path, json.dumps(body).encode(), headers, key=model)

    @staticmethod
    def number(body: bytes) -> int:
        return int(json.loads(body)["number"])

    def stored_numbers(self, model: str) -> list[int]:
        from registry import queries
        from registry.models import ModelVersion

        model_id = queries.model_id_for(model)
        return sorted(
            ModelVersion.objects.filter(model_id=model_id).values_list("number", flat=True)
        )


# -- MLflow --------------------------------------------------------------------------------


class MLflow:
    """MLflow's tracking server from its own venv, on its own throwaway database."""

    name = f"MLflow {MLFLOW_VERSION}"
    role = "baseline"
    expect = 200

    def __init__(
        self,
        stack: ExitStack,
        logdir: Path,
        bin_dir: Path,
        store_uri: str,
        config: str,
        flags: Sequence[str],
    ) -> None:
        self.config = config
        self.port = free_port()
        workdir = logdir / f"mlflow-{self.port}"
        workdir.mkdir()
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO", "LEDGER", "PYTHON", "DATABASE"))
        }
        argv = [
            str(bin_dir / "mlflow"),
            "server",
            "--backend-store-uri",
            store_uri,
            "--host",
            HOST,
            "--port",
            str(self.port),
            *flags,
        ]
        log(f"starting MLflow: {config} on port {self.port}")
        self.server = stack.enter_context(
            running(
                Server(
                    f"mlflow {config}", argv, port=self.port, env=env, cwd=workdir, logdir=logdir
                )
            )
        )
        self.server.wait_ready("/health", timeout=180)
        log(f"{self.name} ready; idle after {self.server.wait_quiet():.0f} s more")
        warm_up(self)

    def create_models(self, names: Sequence[str]) -> None:
        import http.client

        for name in names:
            conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
            conn.request(
                "POST",
                "/api/2.0/mlflow/registered-models/create",
                json.dumps({"name": name}),
                {"Content-Type": "application/json"},
            )
            response = conn.getresponse()
            body = response.read()
            conn.close()
            if response.status != 200:
                raise RuntimeError(f"MLflow refused model {name}: {response.status} {body!r}")

    def call(self, model: str, i: int) -> Call:
        body = {"name": model, "source": f"s3://models/{model}/{i}/model.ubj"}
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        path = "/api/2.0/mlflow/model-versions/create"
        return Call(path, json.dumps(body).encode(), headers, key=model)

    @staticmethod
    def number(body: bytes) -> int:
        return int(json.loads(body)["model_version"]["version"])

    def stored_numbers(self, model: str) -> None:
        return None


# -- the floor -----------------------------------------------------------------------------


class Floor:
    """bench/floor_app.py under the same gunicorn: a bare Django view that numbers and inserts
    one row per call. What the stack costs before any feature; not a competitor."""

    name = "Django floor"
    role = "floor"
    expect = 201

    def __init__(self, stack: ExitStack, logdir: Path, workers: int) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE bench_floor_version (model text NOT NULL, number integer NOT NULL,"
                " body jsonb NOT NULL, PRIMARY KEY (model, number))"
            )
        start_gunicorn(self, stack, logdir, "bench.floor_app:application", workers, {})

    def create_models(self, names: Sequence[str]) -> None:
        return None  # a model is just a name here

    def call(self, model: str, i: int) -> Call:
        body = Ledger.body(model, i)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        return Call(f"/floor/{model}/versions/", json.dumps(body).encode(), headers, key=model)

    @staticmethod
    def number(body: bytes) -> int:
        return int(json.loads(body)["number"])

    def stored_numbers(self, model: str) -> None:
        return None


System = Ledger | MLflow | Floor

# -- measuring -----------------------------------------------------------------------------


def warm_up(system: System, clients: int = 8, per_client: int = 6) -> None:
    """Every server worker answers a few calls (imports, connections, caches) before timing."""
    models = [f"bench-warmup-{uuid.uuid4().hex[:6]}"]
    system.create_models(models)
    calls = [system.call(models[0], i) for i in range(clients * per_client)]
    result = run_load(
        system.port, split(calls, clients), keepalive=False, expect=system.expect, max_seconds=60
    )
    if result.failures:
        raise RuntimeError(f"{system.name} warm-up failed: {result.failures[:3]}")


class Track:
    """One scenario on one system configuration with one kind of client, measured in rounds
    on the same models (the hot stream's creates all land on one model)."""

    def __init__(
        self,
        system: System,
        scenario: Scenario,
        client: str,
        keepalive: bool,
        postgres_pid: int | None,
    ) -> None:
        self.system, self.scenario, self.client = system, scenario, client
        self.keepalive, self.postgres_pid = keepalive, postgres_pid
        tag = f"{scenario.key}-{'ka' if keepalive else 'nc'}-{uuid.uuid4().hex[:6]}"
        self.models = (
            [f"bench-{tag}"]
            if scenario.shared_model
            else [f"bench-{tag}-{i}" for i in range(scenario.clients)]
        )
        system.create_models(self.models)
        self.sent = 0
        self.rounds: list[LoadResult] = []
        self.numbers: dict[str, list[int]] = defaultdict(list)
        self.warm_failures: list[str] = []

    def _plans(self, count: int) -> list[list[Call]]:
        first, self.sent = self.sent, self.sent + count
        if self.scenario.shared_model:
            calls = [self.system.call(self.models[0], first + i) for i in range(count)]
            return split(calls, self.scenario.clients)
        per = count // self.scenario.clients
        return [[self.system.call(m, first + i) for i in range(per)] for m in self.models]

    def run_round(self, count: int, max_seconds: float) -> LoadResult:
        system, clients = self.system, self.scenario.clients
        warm = run_load(
            system.port,
            self._plans(WARMUP_PER_CLIENT * clients),
            keepalive=self.keepalive,
            expect=system.expect,
            max_seconds=max_seconds,
        )
        result = run_load(
            system.port,
            self._plans(count),
            keepalive=self.keepalive,
            expect=system.expect,
            max_seconds=max_seconds,
            meter=CpuMeter(system.server.process.pid, self.postgres_pid),
        )
        self.warm_failures += warm.failures
        for key, body in warm.bodies + result.bodies:
            self.numbers[key].append(system.number(body))
        self.rounds.append(result)
        return result

    def result(self) -> LoadResult:
        return merge(self.rounds)

    def problems(self) -> list[str]:
        """Failed calls and gaps or repeats in the version numbers the server gave out."""
        where = f"{self.system.name} [{self.system.config}] {self.scenario.key} {self.client}"
        failures = self.result().failures
        found = [f"warm-up: {f}" for f in self.warm_failures[:3]] + failures[:5]
        if failures:
            found.append(f"{len(failures)} calls failed")
        for model in self.models:
            seen = sorted(self.numbers[model])
            if seen != list(range(1, len(seen) + 1)):
                found.append(f"{model}: version numbers not gapless/unique: {seen[:20]}...")
            stored = self.system.stored_numbers(model)
            if stored is not None and stored != seen:
                found.append(f"{model}: stored numbers differ from the answers")
        return [f"{where}: {problem}" for problem in found]


def fmt_ms(value: float) -> str:
    return f"{value:7.1f}"


def print_table(tracks: list[Track], best: dict[str, Track], counted: dict[str, Track]) -> None:
    header = (
        f"{'scenario':<50}{'system':<16}{'config':<30}{'client':<11}"
        f"{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'CPU ms/req srv+pg+cli':>23}"
        "  ours/MLflow-best"
    )
    print()
    print(header)
    print("-" * len(header))
    last = None
    for track in tracks:
        key = track.scenario.key
        if last is not None and key != last:
            print()
        last = key
        r = track.result()
        role = track.system.role
        if role != "baseline":
            ratio = f"{r.rate / best[key].result().rate:6.2f}x"
            if track is counted[key]:
                ratio += "  (ours, counted)"
            elif role == "floor":
                ratio += "  (floor)"
        else:
            ratio = "  (MLflow best)" if track is best[key] else ""
        cut = f"  [{r.not_sent} not sent: time cap]" if r.not_sent else ""
        cpu = "{:.1f} + {:.1f} + {:.1f}".format(
            *(r.cpu_ms_per_call(who) for who in ("server", "postgres", "client"))
        )
        print(
            f"{track.scenario.title:<50}{track.system.name:<16}{track.system.config:<30}"
            f"{track.client:<11}{r.rate:>8.0f}{fmt_ms(r.percentile(50)):>8}"
            f"{fmt_ms(r.percentile(95)):>8}{fmt_ms(r.percentile(99)):>8}{cpu:>23}  {ratio}{cut}"
        )


def mlflow_configs(flags: set[str], quick: bool) -> list[tuple[str, list[str]]]:
    """--workers 1 is MLflow's fastest single-client uvicorn setup; its default is 4 uvicorn
    workers; --gunicorn-opts serves its Flask app from gunicorn sync workers, which measured
    fastest here. --quick keeps only the last available of these."""
    configs = [("uvicorn --workers 1", ["--workers", "1"]), ("uvicorn default (4 workers)", [])]
    if "--gunicorn-opts" in flags:
        gunicorn = ["--workers", "4", "--gunicorn-opts", "--log-level warning"]
        configs.append(("gunicorn --workers 4 (Flask)", gunicorn))
    return configs[-1:] if quick else configs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests",
        type=int,
        default=800,
        help="creates per measurement at 8 clients (a quarter of it at 1 client)",
    )
    parser.add_argument("--hot", type=int, default=400, help="creates on the hot stream")
    parser.add_argument("--rounds", type=int, default=4, help="alternating timing rounds")
    parser.add_argument("--workers", type=int, default=GUNICORN_WORKERS, help="our gunicorn -w")
    parser.add_argument("--max-seconds", type=float, default=30, help="time cap per round")
    parser.add_argument(
        "--no-floor", action="store_true", help="leave out the bare-Django floor rows"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="~1 min: fewer requests, one round, one MLflow configuration",
    )
    args = parser.parse_args()
    if args.quick:
        args.requests, args.hot, args.rounds, args.max_seconds = 160, 200, 1, 10

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    bin_dir = ensure_mlflow_venv()
    flags = mlflow_server_flags(bin_dir)
    for needed in ("--backend-store-uri", "--host", "--port", "--workers"):
        if needed not in flags:
            raise SystemExit(f"mlflow server {MLFLOW_VERSION} lacks {needed}")
    base_url = os.environ["DATABASE_URL"]
    plan = scenarios(args.requests, args.hot)
    configs = mlflow_configs(flags, args.quick)
    rounds = max(1, args.rounds)

    with ExitStack() as stack:
        logdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-api-")))
        mlflow_db = stack.enter_context(throwaway_database(base_url, "mlflow_bench"))
        stack.enter_context(bench_database())
        store_uri = sqlalchemy_url(base_url, mlflow_db)
        # Every server is up (and idle) before timing starts; rounds alternate between them
        # so that background noise on the machine hits all of them alike.
        systems: list[System] = [Ledger(stack, logdir, args.workers)]
        if not args.no_floor:
            systems.append(Floor(stack, logdir, args.workers))
        for config, config_flags in configs:
            systems.append(MLflow(stack, logdir, bin_dir, store_uri, config, config_flags))
        postgres = postmaster_pid(base_url)
        tracks = [
            Track(system, scenario, client, keepalive, postgres)
            for scenario in plan
            for system in systems
            for client, keepalive in CLIENTS
        ]
        for n in range(rounds):
            for track in tracks:
                share = track.scenario.requests // rounds
                share -= share % track.scenario.clients
                if n == rounds - 1:
                    share = track.scenario.requests - share * (rounds - 1)
                track.run_round(share, args.max_seconds)
            log(f"round {n + 1} of {rounds} done")
        problems = [problem for track in tracks for problem in track.problems()]

    def pick(key: str, role: str, better) -> Track:
        candidates = [t for t in tracks if t.scenario.key == key and t.system.role == role]
        return better(candidates, key=lambda t: t.result().rate)

    best = {s.key: pick(s.key, "baseline", max) for s in plan}
    counted = {s.key: pick(s.key, "ours", min) for s in plan}
    print_table(tracks, best, counted)
    print()
    print(
        f"Model Ledger: gunicorn {args.workers} sync workers, all features on (token auth, team"
        " permissions, Idempotency-Key, ETag, hash chain, projections, outbox)."
    )
    if not args.no_floor:
        print(
            "Django floor: bench/floor_app.py under the same gunicorn, a bare view that numbers"
            " and inserts one row per call (no auth, no features): what the stack itself costs."
        )
    print(
        f"MLflow {MLFLOW_VERSION} (own venv, no auth): {'; '.join(c for c, _ in configs)}."
        " Its best configuration and client per scenario is the baseline."
    )
    print(
        f"{rounds} alternating rounds, pooled per row. Clients: Python threads with http.client"
        f" on the same {os.cpu_count()} cores; 'keep-alive' reuses its connection where the"
        " server allows it\n(gunicorn sync workers close after every response), 'new conn'"
        " opens one per call. Ours counted: the slower of our two clients."
    )
    print()

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    eight, hot = counted["eight"].result(), counted["hot"].result()
    base_eight, base_hot = best["eight"].result(), best["hot"].result()
    p99 = max(
        t.result().percentile(99)
        for t in tracks
        if t.scenario.key == "eight" and t.system.role == "ours"
    )
    print(
        f"target: >= {TARGET_EIGHT:.0f}x MLflow's best at 8 clients: "
        f"{verdict(eight.rate >= TARGET_EIGHT * base_eight.rate)} "
        f"({eight.rate / base_eight.rate:.2f}x: {eight.rate:.0f} vs {base_eight.rate:.0f} req/s)"
    )
    print(
        f"target: >= {TARGET_HOT:.0f}x MLflow's best on the hot stream: "
        f"{verdict(hot.rate >= TARGET_HOT * base_hot.rate)} "
        f"({hot.rate / base_hot.rate:.2f}x: {hot.rate:.0f} vs {base_hot.rate:.0f} req/s)"
    )
    print(
        f"target: our p99 < {TARGET_P99_MS:.0f} ms at 8 clients: "
        f"{verdict(p99 < TARGET_P99_MS)} ({p99:.1f} ms, the worse client)"
    )
    floors = {
        s.key: [t for t in tracks if t.scenario.key == s.key and t.system.role == "floor"]
        for s in plan
    }
    for key, result in (("eight", eight), ("hot", hot)):
        if floors[key]:
            floor = max(t.result().rate for t in floors[key])
            print(
                f"headroom ({key}): the bare-Django floor answers {floor:.0f} req/s,"
                f" {floor / best[key].result().rate:.2f}x MLflow's best; ours is"
                f" {result.rate / floor:.0%} of the floor"
            )
    if problems:
        print("\nproblems:")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print("every call answered as expected; version numbers gapless on both systems")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; servers stopped and databases dropped")
        sys.exit(130)
