"""Create-model-version requests/s and latency over HTTP: Model Ledger under gunicorn beside
MLflow's tracking server on the same PostgreSQL, measured in one run.

Run: ./ledger bench bench/api.py [--requests N] [--hot N] [--rounds N] [--quick]
     ./ledger bench bench/api.py --compare REF_OR_PATH [--against REF_OR_PATH] [--quick]

Model Ledger runs with every feature on (token authentication, team permissions,
Idempotency-Key, ETag, hash chain, inline projections, outbox) in a throwaway database; MLflow
(installed only in .ledger/bench-mlflow-venv, pinned) gets a second throwaway database on the
same server. Every server is started and left to go idle first; then rounds alternate between
them. MLflow is measured in several configurations, each with two clients (keep-alive and a
new connection per request), and its best is the baseline; our figure is the slower of our
two clients. A bare Django view under the same gunicorn (bench/floor_app.py; --no-floor leaves
it out) shows what the stack costs before any feature. CPU per request is read from the
kernel's per-process CPU clocks (nanoseconds; clock ticks off Linux) for the server's process
tree, PostgreSQL's processes (0 when PostgreSQL is not local) and this client process.
--quick (about a minute) is a smoke test: one round, fewer calls, one MLflow configuration.

--compare measures two checkouts of Model Ledger alone (no MLflow, no floor): A is a git
revision (exported with git archive into a temporary directory) or a checkout's directory,
B likewise with --against, by default this working tree. Each side runs its own code under
the same gunicorn, against its own throwaway database on the same PostgreSQL; both are
started and warmed up, then 24 rounds alternate A and B (B first in every other round) at 8
clients with a model each, and 24 more on the hot stream. It prints req/s, p50/p99 and CPU
per request for each side and B/A, pooled and paired round by round with its 95% confidence
interval. CPU counts only the PostgreSQL processes on the side's own database, so that
another database's load does not."""

from __future__ import annotations

import argparse
import http.client
import inspect
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench._db import bench_database, database_url
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


def post_json(port: int, path: str, body: dict, headers: dict[str, str], expect: int) -> bytes:
    """One POST outside the timed load (setting up models); anything but `expect` is an error."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("POST", path, json.dumps(body), headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    if response.status != expect:
        raise RuntimeError(f"POST {path} {body}: HTTP {response.status} {data[:300]!r}")
    return data


# -- Model Ledger --------------------------------------------------------------------------


def start_gunicorn(
    system: Ledger | Floor,
    stack: ExitStack,
    logdir: Path,
    app: str,
    workers: int,
    env: dict[str, str],
    root: Path = ROOT,
) -> None:
    """Serve `app` from gunicorn sync workers for `system` (sets its config, port and server)
    with the code of checkout `root`, wait until it answers and idles, then warm every worker
    up."""
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
        env={**os.environ, "PYTHONPATH": str(root), **env},
        cwd=root,
        logdir=logdir,
    )
    system.server = stack.enter_context(running(server))
    system.server.wait_ready("/healthz", timeout=60)
    log(f"{system.name} ready; idle after {system.server.wait_quiet():.0f} s more")
    warm_up(system)


def create_client(team: str):
    """The bench's API client: a team, a user in it and the user's token; returns both. Run
    in-process for the working tree, and by another checkout's own manage.py (its source is
    handed over), so it uses nothing but Django and DRF."""
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    group = Group.objects.create(name=team)
    user = User.objects.create_user("bench-client", email="")
    user.set_unusable_password()
    user.save()
    user.groups.add(group)
    return user, Token.objects.create(user=user).key


# How every Model Ledger server here runs: development settings without DEBUG, and a user
# throttle that no bench reaches.
LEDGER_SERVER_ENV = {
    "LEDGER_ENV": "development",
    "DJANGO_DEBUG": "false",
    "API_THROTTLE_USER": "100000000/hour",
}


class Ledger:
    """Our service under gunicorn (sync workers), against the bench database."""

    name = "Model Ledger"
    role = "ours"
    expect = 201

    def __init__(self, stack: ExitStack, logdir: Path, workers: int) -> None:
        from core.actors import Actor

        user, token = create_client(TEAM)
        self.actor = Actor.user(user, auth_method="bench")
        self.auth = f"Bearer {token}"
        start_gunicorn(self, stack, logdir, "config.wsgi:application", workers, LEDGER_SERVER_ENV)

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
        headers = {"Content-Type": "application/json"}
        for name in names:
            path = "/api/2.0/mlflow/registered-models/create"
            post_json(self.port, path, {"name": name}, headers, expect=200)

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


# -- another checkout ----------------------------------------------------------------------


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def describe(path: Path) -> str:
    """The commit a checkout is at, and whether it has changes on top."""
    try:
        sha = git("rev-parse", "--short=9", "HEAD", cwd=path)
        changed = git("status", "--porcelain", cwd=path)
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"{sha} + changes" if changed else sha


@contextmanager
def checkout(spec: str | None) -> Iterator[tuple[Path, str]]:
    """The code to serve and its label. None is this working tree; an existing directory is
    used as it is; anything else is a git revision of this repository, exported with git
    archive into a temporary directory that is removed afterwards."""
    if spec is None:
        yield ROOT, f"working tree ({describe(ROOT)})"
        return
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "manage.py").is_file() or not (path / "config" / "wsgi.py").is_file():
            raise SystemExit(f"{spec}: not a Model Ledger checkout (no manage.py, config/wsgi.py)")
        yield path.resolve(), f"{spec} ({describe(path)})"
        return
    try:
        sha = git("rev-parse", "--verify", "--end-of-options", f"{spec}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"{spec}: neither a directory nor a git revision") from None
    with tempfile.TemporaryDirectory(prefix="bench-checkout-") as tmp:
        archive = subprocess.Popen(["git", "archive", sha], cwd=ROOT, stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", tmp], stdin=archive.stdout, check=True)
        archive.stdout.close()
        if archive.wait():
            raise RuntimeError(f"git archive {sha} failed")
        yield Path(tmp), f"{spec} ({sha[:9]})"


class Checkout(Ledger):
    """Model Ledger as one checkout has it, under the same gunicorn and settings as Ledger: its
    own code (cwd and PYTHONPATH; the same venv) and its own throwaway database, migrated and
    given the bench's client by the checkout's own manage.py. Models go through its API."""

    def __init__(
        self,
        stack: ExitStack,
        logdir: Path,
        workers: int,
        *,
        side: str,
        root: Path,
        label: str,
        database_url: str,
    ) -> None:
        self.side, self.name, self.role = side, label, f"checkout {side}"
        self.database_url = database_url
        env = {**LEDGER_SERVER_ENV, "DATABASE_URL": database_url}
        log(f"migrating {side}'s database with its own code ({root})")
        self.manage(root, env, "migrate", "--noinput", "--verbosity", "0")
        script = inspect.getsource(create_client) + (
            "import config, json\n"
            f"user, token = create_client({TEAM!r})\n"
            "print(json.dumps([token, config.__file__]))\n"
        )
        out = self.manage(root, env, "shell", "--verbosity", "0", "--command", script)
        token, code = json.loads(out.splitlines()[-1])
        if not Path(code).resolve().is_relative_to(root.resolve()):
            raise RuntimeError(f"{label}: manage.py imported {code}, not the checkout's code")
        self.auth = f"Bearer {token}"
        start_gunicorn(self, stack, logdir, "config.wsgi:application", workers, env, root=root)

    @staticmethod
    def manage(root: Path, env: dict[str, str], *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root), **env},
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {args[0]} in {root} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def create_models(self, names: Sequence[str]) -> None:
        headers = {"Authorization": self.auth, "Content-Type": "application/json"}
        for name in names:
            body = {"name": name, "team": TEAM}
            post_json(self.port, "/api/v1/models/", body, headers, expect=201)

    def stored_numbers(self, model: str) -> None:
        return None  # its tables are its own; the numbers it answered are checked


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
        database_url: str | None = None,
    ) -> None:
        """`database_url`: count only PostgreSQL's processes on that database (CpuMeter)."""
        self.system, self.scenario, self.client = system, scenario, client
        self.keepalive, self.postgres_pid = keepalive, postgres_pid
        self.database_url = database_url
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
            meter=CpuMeter(system.server.process.pid, self.postgres_pid, self.database_url),
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


def share(scenario: Scenario, rounds: int, n: int) -> int:
    """Round n's part of a scenario's calls: a multiple of its clients; the last takes the rest."""
    part = scenario.requests // rounds
    part -= part % scenario.clients
    return scenario.requests - part * (rounds - 1) if n == rounds - 1 else part


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


def cpu_ms(result: LoadResult) -> list[float]:
    """CPU ms per call: server, PostgreSQL, client and their sum."""
    parts = [result.cpu_ms_per_call(who) for who in ("server", "postgres", "client")]
    return [*parts, sum(parts)]


def paired(ratios: list[float]) -> str:
    """The geometric mean of one ratio per round (A and B measured next to each other) and,
    from two rounds on, its 95% confidence interval (Student's t over the rounds): how far
    apart the same code may come out on this machine."""
    from scipy.stats import t

    logs = [math.log(r) for r in ratios if r > 0]  # a round with no answer has no ratio
    if not logs:
        return "n/a"
    mean = statistics.fmean(logs)
    if len(logs) < 2:
        return f"{math.exp(mean):.3f}x"
    error = t.ppf(0.975, len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
    return f"{math.exp(mean):.3f}x ({math.exp(mean - error):.3f}-{math.exp(mean + error):.3f})"


def print_comparison(plan: list[Scenario], tracks: dict[tuple[str, str], Track]) -> None:
    header = (
        f"{'scenario':<50}{'checkout':<40}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'CPU ms/req srv + pg + cli':>30}{'= total':>9}"
    )
    print()
    print(header)
    print("-" * len(header))
    for n, scenario in enumerate(plan):
        if n:
            print()
        results = [tracks[scenario.key, side].result() for side in "AB"]
        for side, r in zip("AB", results, strict=True):
            cut = f"  [{r.not_sent} not sent: time cap]" if r.not_sent else ""
            title = scenario.title if side == "A" else ""
            srv, pg, cli, total = cpu_ms(r)
            print(
                f"{title:<50}{side + ': ' + tracks[scenario.key, side].system.name:<40}"
                f"{r.rate:>8.0f}{fmt_ms(r.percentile(50)):>8}{fmt_ms(r.percentile(99)):>8}"
                f"{f'{srv:.2f} + {pg:.2f} + {cli:.2f}':>30}{total:>9.2f}{cut}"
            )
        a, b = results
        p50, p99 = (b.percentile(pct) / a.percentile(pct) for pct in (50, 99))
        cpu = [y / x for x, y in zip(cpu_ms(a), cpu_ms(b), strict=True)]
        print(
            f"{'':<50}{'B/A':<40}{b.rate / a.rate:>7.3f}x{p50:>7.3f}x{p99:>7.3f}x"
            f"{'{:.3f} / {:.3f} / {:.3f}'.format(*cpu[:3]):>30}{cpu[3]:>8.3f}x"
        )
        pairs = list(zip(*(tracks[scenario.key, side].rounds for side in "AB"), strict=True))
        rate = paired([b.rate / a.rate for a, b in pairs])
        cpu = paired([cpu_ms(b)[3] / cpu_ms(a)[3] for a, b in pairs])
        print(f"{'':<50}B/A paired by round: req/s {rate}, CPU total {cpu}")


def compare(args: argparse.Namespace) -> int:
    """Two checkouts of Model Ledger alone, in alternating rounds (the order flips every round,
    so neither always follows the other): creates at 8 clients (a model each) and on one hot
    model, each side's CPU counted on its own server, database and this client."""
    base_url = os.environ["DATABASE_URL"]
    plan = [s for s in scenarios(args.requests, args.hot) if s.key != "one"]
    rounds = max(1, args.rounds)
    client, keepalive = CLIENTS[1]  # gunicorn's sync workers close every connection anyway
    with ExitStack() as stack:
        logdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-api-")))
        checkouts = [stack.enter_context(checkout(spec)) for spec in (args.compare, args.against)]
        sides: list[Checkout] = []
        for side, (root, label) in zip("AB", checkouts, strict=True):
            name = stack.enter_context(throwaway_database(base_url, f"ledger_cmp_{side.lower()}"))
            url = database_url(base_url, name)
            sides.append(
                Checkout(
                    stack, logdir, args.workers, side=side, root=root, label=label, database_url=url
                )
            )
        postgres = postmaster_pid(base_url)
        tracks = {
            (scenario.key, s.side): Track(s, scenario, client, keepalive, postgres, s.database_url)
            for scenario in plan
            for s in sides
        }
        # One scenario at a time, its rounds back to back, A and B of a round next to each
        # other and in turn first (A B, B A, A B, ...): the load others put on the machine
        # changes from second to second, and so weighs on both sides alike.
        for scenario in plan:
            for n in range(rounds):
                for s in sides if n % 2 == 0 else sides[::-1]:
                    r = tracks[scenario.key, s.side].run_round(
                        share(scenario, rounds, n), args.max_seconds
                    )
                    log(
                        f"{scenario.key} round {n + 1} of {rounds}, {s.side}: {r.rate:.0f} req/s,"
                        " CPU {:.2f} + {:.2f} + {:.2f} = {:.2f} ms/req".format(*cpu_ms(r))
                    )
        problems = [problem for track in tracks.values() for problem in track.problems()]

    print_comparison(plan, tracks)
    print()
    for s in sides:
        print(f"{s.side}: {s.name}")
    print(
        f"Each: gunicorn {args.workers} sync workers, all features on, its own code and its own"
        f" throwaway database on the same PostgreSQL; {rounds} timed rounds, A and B next to"
        " each other, B first in every other round; rows pool the rounds.\nClients: Python"
        f" threads with http.client on the same {os.cpu_count()} cores, a new connection per"
        " call. CPU: the side's gunicorn process tree, the PostgreSQL processes on its database"
        " (not the cluster's: others' work is not ours), this client.\nPaired by round: the"
        " geometric mean of the rounds' B/A and its 95% confidence interval: one that holds 1"
        " means no difference this machine can tell at this length."
    )
    if problems:
        print("\nproblems:")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print("every call answered as expected; version numbers gapless on both sides")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests",
        type=int,
        help="creates per measurement at 8 clients (a quarter of it at 1 client);"
        " default 800, 1200 with --compare",
    )
    parser.add_argument(
        "--hot", type=int, help="creates on the hot stream; default 400, 1200 with --compare"
    )
    parser.add_argument(
        "--rounds", type=int, help="alternating timing rounds; default 4, 24 with --compare"
    )
    parser.add_argument("--workers", type=int, default=GUNICORN_WORKERS, help="our gunicorn -w")
    parser.add_argument("--max-seconds", type=float, default=30, help="time cap per round")
    parser.add_argument(
        "--no-floor", action="store_true", help="leave out the bare-Django floor rows"
    )
    parser.add_argument(
        "--compare",
        metavar="REF_OR_PATH",
        help="compare two checkouts of Model Ledger alone: this one (a git revision, exported,"
        " or a checkout's directory) is A",
    )
    parser.add_argument(
        "--against",
        metavar="REF_OR_PATH",
        help="with --compare: B (default: this working tree)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="~1 min: fewer requests, one round (two with --compare), one MLflow configuration",
    )
    args = parser.parse_args()
    if args.against and not args.compare:
        parser.error("--against needs --compare")
    if args.quick:
        args.requests, args.hot, args.max_seconds = 160, 200, 10
        args.rounds = 2 if args.compare else 1  # comparing, each side goes first once
    # Comparing looks for differences of a few percent: more, shorter rounds pair A and B more
    # closely in time, so that the machine's other work weighs on both alike.
    for name, usual, comparing in (("requests", 800, 1200), ("hot", 400, 1200), ("rounds", 4, 24)):
        if getattr(args, name) is None:
            setattr(args, name, comparing if args.compare else usual)

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    if args.compare:
        return compare(args)
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
                track.run_round(share(track.scenario, rounds, n), args.max_seconds)
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
