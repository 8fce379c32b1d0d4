"""The same create-version workload through MLflow's own client (MlflowClient, mlflow-skinny
from the test requirements) against Model Ledger's MLflow-compatible API and against MLflow's
own server, in one run.

Run: ./ledger bench bench/mlflow_client.py [--creates N] [--rounds N] [--workers N] [--quick]

Model Ledger serves config.wsgi under gunicorn (sync workers) from a throwaway database, with
every feature on (token authentication, team permissions, hash chain, inline projections,
lineage of the run); the client sends its token as MLFLOW_TRACKING_TOKEN. MLflow's server
(installed only in .ledger/bench-mlflow-venv, as bench/api.py installs it) runs with as many
uvicorn workers on its own throwaway database on the same PostgreSQL. Both are started and
left to go idle; then rounds alternate between them, each round at 1 client and at 4 clients
(threads of this process, one registered model each, created before timing): every call is
`MlflowClient.create_model_version(name, source, run_id)`, which is what teams run. It prints
requests/s, p50/p99 latency and CPU per request (the server's process tree, the PostgreSQL
backends on its own database, and this client process), pooled over the rounds, and the
ratio of ours to MLflow's."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from bench._db import bench_database, database_url
from bench._servers import (
    HOST,
    MLFLOW_VERSION,
    ROOT,
    CpuMeter,
    Server,
    ensure_mlflow_venv,
    free_port,
    log,
    postmaster_pid,
    running,
    sqlalchemy_url,
    throwaway_database,
)

TEAM = "bench-mlflow"
SERVER_ENV = {
    "LEDGER_ENV": "development",
    "DJANGO_DEBUG": "false",
    "API_THROTTLE_USER": "100000000/hour",
}
CLIENTS = (1, 4)


class System:
    def __init__(self, name: str, server: Server, meter: CpuMeter, token: str | None) -> None:
        self.name, self.server, self.meter, self.token = name, server, meter, token
        self.url = f"http://{HOST}:{server.port}"
        self.latencies: dict[int, list[float]] = {c: [] for c in CLIENTS}
        self.seconds: dict[int, float] = dict.fromkeys(CLIENTS, 0.0)
        self.cpu: dict[int, dict[str, float]] = {
            c: {"server": 0.0, "postgres": 0.0, "client": 0.0} for c in CLIENTS
        }

    def client(self):
        from mlflow import MlflowClient

        if self.token is None:
            os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
        else:
            os.environ["MLFLOW_TRACKING_TOKEN"] = self.token
        return MlflowClient(tracking_uri=self.url, registry_uri=self.url)

    def round(self, clients: int, creates: int) -> None:
        """`creates` versions from `clients` threads, a model each; timed and metered."""
        client = self.client()
        models = [f"bench-{uuid.uuid4().hex[:10]}" for _ in range(clients)]
        for model in models:
            client.create_registered_model(model)
        per_client = creates // clients
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()

        def work(model: str) -> None:
            mine = []
            for index in range(per_client):
                began = time.perf_counter()
                try:
                    client.create_model_version(
                        model, f"s3://bench/{model}/{index}/model.pkl", run_id=uuid.uuid4().hex
                    )
                except Exception as exc:  # reported below, never hidden
                    with lock:
                        failures.append(repr(exc)[:200])
                    return
                mine.append(time.perf_counter() - began)
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=work, args=(m,)) for m in models]
        self.meter.mark()
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        used = self.meter.cpu_used()
        if failures:
            raise RuntimeError(f"{self.name}: {len(failures)} failed calls: {failures[:3]}")
        self.latencies[clients] += latencies
        self.seconds[clients] += elapsed
        for kind, amount in used.items():
            self.cpu[clients][kind] += amount

    def figures(self, clients: int) -> dict[str, float]:
        calls = self.latencies[clients]
        ordered = sorted(calls)
        per = 1000 / len(calls)
        return {
            "rate": len(calls) / self.seconds[clients],
            "p50": statistics.median(ordered) * 1000,
            "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
            "server": self.cpu[clients]["server"] * per,
            "postgres": self.cpu[clients]["postgres"] * per,
            "client": self.cpu[clients]["client"] * per,
        }


def bench_user() -> str:
    """A team, a user acting for it by default, and the user's API token."""
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from core.actors import Actor
    from registry import commands

    group = Group.objects.create(name=TEAM)
    user = User.objects.create_user("bench-mlflow-client", email="")
    user.groups.add(group)
    commands.choose_default_team(
        actor=Actor.user(user, auth_method="bench"), user_id=user.pk, team=TEAM
    )
    return Token.objects.create(user=user).key


def start_ledger(stack: ExitStack, logdir: Path, workers: int) -> Server:
    port = free_port()
    argv = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
    ]
    log(f"starting Model Ledger: gunicorn -w {workers} sync on port {port}")
    env = {**os.environ, "PYTHONPATH": str(ROOT), **SERVER_ENV}
    server = stack.enter_context(
        running(Server("ours", argv, port=port, env=env, cwd=ROOT, logdir=logdir))
    )
    server.wait_ready("/healthz", timeout=60)
    log(f"Model Ledger ready; idle after {server.wait_quiet():.0f} s more")
    return server


def start_mlflow(
    stack: ExitStack, logdir: Path, bin_dir: Path, store_uri: str, workers: int
) -> Server:
    port = free_port()
    workdir = logdir / "mlflow"
    workdir.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO", "LEDGER", "PYTHON", "DATABASE", "MLFLOW"))
    }
    argv = [
        str(bin_dir / "mlflow"),
        "server",
        "--backend-store-uri",
        store_uri,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    log(f"starting MLflow {MLFLOW_VERSION}: uvicorn --workers {workers} on port {port}")
    server = stack.enter_context(
        running(Server("mlflow", argv, port=port, env=env, cwd=workdir, logdir=logdir))
    )
    server.wait_ready("/health", timeout=180)
    log(f"MLflow ready; idle after {server.wait_quiet():.0f} s more")
    return server


def report(systems: list[System], creates: int, rounds: int) -> None:
    ours, theirs = systems
    print()
    print(
        f"create_model_version through MlflowClient ({creates} calls a round, {rounds} rounds,"
        " pooled); CPU in ms per request"
    )
    header = (
        f"{'clients':>7}  {'server':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'CPU srv':>8} {'CPU pg':>8} {'CPU cli':>8}"
    )
    print(header)
    print("-" * len(header))
    for clients in CLIENTS:
        rows = {s.name: s.figures(clients) for s in systems}
        for system in systems:
            f = rows[system.name]
            print(
                f"{clients:>7}  {system.name:<22} {f['rate']:>8.1f} {f['p50']:>8.1f}"
                f" {f['p99']:>8.1f} {f['server']:>8.2f} {f['postgres']:>8.2f} {f['client']:>8.2f}"
            )
        a, b = rows[ours.name], rows[theirs.name]
        print(
            f"{clients:>7}  {'ours / MLflow':<22} {a['rate'] / b['rate']:>8.2f}"
            f" {a['p50'] / b['p50']:>8.2f} {a['p99'] / b['p99']:>8.2f}"
            f" {a['server'] / b['server']:>8.2f} {a['postgres'] / max(b['postgres'], 1e-9):>8.2f}"
            f" {a['client'] / b['client']:>8.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creates", type=int, default=200, help="calls per round and load")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4, help="workers of each server")
    parser.add_argument("--quick", action="store_true", help="one round of 40 calls")
    args = parser.parse_args()
    if args.quick:
        args.creates, args.rounds = 40, 1
    args.creates = max(4, args.creates - args.creates % 4)
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # else a line per create
    bin_dir = ensure_mlflow_venv()
    base_url = os.environ["DATABASE_URL"]
    with (
        bench_database(),
        ExitStack() as stack,
        tempfile.TemporaryDirectory(prefix="bench-mlflow-") as tmp,
    ):
        logdir = Path(tmp)
        token = bench_user()
        postgres = postmaster_pid(base_url)
        ledger = start_ledger(stack, logdir, args.workers)
        ours_db = os.environ["DATABASE_URL"]
        mlflow_db = stack.enter_context(throwaway_database(base_url, "mlflow_bench"))
        mlflow = start_mlflow(
            stack, logdir, bin_dir, sqlalchemy_url(base_url, mlflow_db), args.workers
        )
        systems = [
            System("Model Ledger", ledger, CpuMeter(ledger.process.pid, postgres, ours_db), token),
            System(
                f"MLflow {MLFLOW_VERSION}",
                mlflow,
                CpuMeter(mlflow.process.pid, postgres, database_url(base_url, mlflow_db)),
                None,
            ),
        ]
        for system in systems:  # warm every worker up, untimed
            system.round(4, 40)
            system.__init__(system.name, system.server, system.meter, system.token)
        for index in range(args.rounds):
            order = systems if index % 2 == 0 else systems[::-1]
            for clients in CLIENTS:
                for system in order:
                    system.round(clients, args.creates)
            log(f"round {index + 1}/{args.rounds} done")
        report(systems, args.creates, args.rounds)


if __name__ == "__main__":
    main()
