"""Helpers for benchmarks that drive HTTP servers: the MLflow virtual environment, throwaway
databases, server processes that are always stopped, and a closed-loop load generator.

Only 127.0.0.1 is ever contacted; every load run is bounded in requests and in time."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import dj_database_url
import psutil
import psycopg
from psycopg import sql

from bench._db import _admin_url

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"

# MLflow lives only in the benchmark's own environment, never in the project's requirements.
# 3.18.0 is listed on PyPI but its mlflow-skinny 3.18.0 was not installable here.
MLFLOW_VERSION = "3.17.2"
MLFLOW_REQUIREMENTS = (f"mlflow=={MLFLOW_VERSION}", "psycopg[binary]==3.3.9")
MLFLOW_VENV = ROOT / ".ledger" / "bench-mlflow-venv"


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


# -- the MLflow environment --------------------------------------------------------------


def ensure_mlflow_venv() -> Path:
    """Create .ledger/bench-mlflow-venv with the pinned MLflow once; return its bin folder."""
    bin_dir = MLFLOW_VENV / "bin"
    stamp = MLFLOW_VENV / (".installed-" + "-".join(MLFLOW_REQUIREMENTS).replace("/", "_"))
    if stamp.exists():
        return bin_dir
    if not (bin_dir / "python").exists():
        log(f"creating {MLFLOW_VENV.relative_to(ROOT)}")
        subprocess.run([sys.executable, "-m", "venv", str(MLFLOW_VENV)], check=True)
    log(f"installing {', '.join(MLFLOW_REQUIREMENTS)} there (once; a few minutes)")
    subprocess.run(
        [
            str(bin_dir / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *MLFLOW_REQUIREMENTS,
        ],
        check=True,
    )
    stamp.touch()
    return bin_dir


def mlflow_server_flags(bin_dir: Path) -> set[str]:
    """The long options the installed `mlflow server` accepts."""
    out = subprocess.run(
        [str(bin_dir / "mlflow"), "server", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {word.rstrip(",") for word in out.split() if word.startswith("--")}


# -- databases ---------------------------------------------------------------------------


def sqlalchemy_url(database_url: str, dbname: str) -> str:
    """The SQLAlchemy (psycopg 3) URL of database `dbname` on the server of `database_url`,
    which may be a unix-socket URL such as postgres://postgres@%2Fsock%2Fdir:5432/db."""
    parsed = dj_database_url.parse(database_url)
    user = quote(parsed.get("USER") or "", safe="")
    password = quote(parsed.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host, port = parsed.get("HOST") or "", str(parsed.get("PORT") or "")
    if host.startswith("/"):
        query = {"host": host, **({"port": port} if port else {})}
        return f"postgresql+psycopg://{auth}/{dbname}?{urlencode(query)}"
    netloc = (host or "127.0.0.1") + (f":{port}" if port else "")
    return f"postgresql+psycopg://{auth}{netloc}/{dbname}"


@contextmanager
def throwaway_database(database_url: str, prefix: str) -> Iterator[str]:
    """An empty database on the server of `database_url`; yields its name, drops it after."""
    admin = _admin_url(database_url)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


# -- processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """A server process in its own session (process group), output to a log file; stop()
    ends the whole group, gracefully first."""

    def __init__(
        self, name: str, argv: Sequence[str], *, port: int, env: dict, cwd: Path, logdir: Path
    ) -> None:
        self.name, self.port = name, port
        self.logfile = logdir / f"{name.replace(' ', '_')}.log"
        self._log = self.logfile.open("wb")
        self.process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}\n{self.tail()}"
                )
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", path)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s\n{self.tail()}")

    def wait_quiet(self, timeout: float = 120, cores: float = 0.1, windows: int = 3) -> float:
        """Wait until the process tree idles (below `cores` for `windows` one-second windows
        in a row): workers and background processes (MLflow's job runner and huey consumers)
        keep importing for many seconds after the first answer. Returns the seconds waited."""
        meter, began, quiet = CpuMeter(self.process.pid), time.monotonic(), 0
        while quiet < windows and time.monotonic() - began < timeout:
            meter.mark()
            time.sleep(1)
            quiet = quiet + 1 if meter.cpu_used()["server"] < cores else 0
        return time.monotonic() - began

    def tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = self.logfile.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        # The leader may be gone while its children (uvicorn, huey, gunicorn workers) linger.
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=5)
        self._log.close()


def _cpu(process: psutil.Process) -> float:
    """CPU seconds a process has used, all its threads (exited ones too). Linux's CPU clock of
    the process gives nanoseconds: the clock id clock_getcpuclockid(pid) would return, which
    Python lacks (MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) in the kernel). Elsewhere psutil's
    user + system time, in clock ticks (10 ms): coarse beside the few ms a request costs."""
    if sys.platform == "linux":
        with suppress(OSError, OverflowError):
            return time.clock_gettime_ns(((~process.pid) << 3) | 2) / 1e9
    try:
        times = process.cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0
    return times.user + times.system


def postmaster_pid(database_url: str) -> int | None:
    """The PID of the local PostgreSQL server behind `database_url` (None when remote)."""
    with psycopg.connect(_admin_url(database_url)) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    try:
        return psutil.Process(backend).ppid()
    except psutil.Error:
        return None


class CpuMeter:
    """CPU seconds used by a server's process tree, by PostgreSQL's processes (the postmaster
    and its children) and by this (client) process; cpu_used() gives the amounts since the
    last mark().

    With `database_url`, only the PostgreSQL processes connected to that URL's database count
    (the server's own backends, and autovacuum's there): on a PostgreSQL that others use too,
    their work is not ours, while the shared background writers are left out."""

    def __init__(
        self, server_pid: int, postgres_pid: int | None = None, database_url: str | None = None
    ) -> None:
        self.server = psutil.Process(server_pid)
        self.postgres = psutil.Process(postgres_pid) if postgres_pid else None
        self.database_url = database_url
        self.marked: dict[int, float] = {}
        self.marked_client = 0.0

    @staticmethod
    def _tree(process: psutil.Process | None) -> list[psutil.Process]:
        if process is None:
            return []
        try:
            return [process, *process.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def _backends(self) -> set[int] | None:
        """The PIDs connected to `database_url`'s database; None when every process counts."""
        if self.database_url is None:
            return None
        name = dj_database_url.parse(self.database_url)["NAME"]
        with psycopg.connect(_admin_url(self.database_url), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)
            ).fetchall()
        return {pid for (pid,) in rows}

    def _sample(self) -> tuple[dict[int, str], dict[int, float]]:
        kinds: dict[int, str] = {}
        seconds: dict[int, float] = {}
        backends = self._backends() if self.postgres is not None else None
        for kind, root in (("server", self.server), ("postgres", self.postgres)):
            for proc in self._tree(root):
                if kind == "postgres" and backends is not None and proc.pid not in backends:
                    continue
                kinds[proc.pid], seconds[proc.pid] = kind, _cpu(proc)
        return kinds, seconds

    def mark(self) -> None:
        _, self.marked = self._sample()
        self.marked_client = time.process_time()

    def cpu_used(self) -> dict[str, float]:
        client = time.process_time()  # before sampling, which is not the client's work
        kinds, seconds = self._sample()
        used = {"server": 0.0, "postgres": 0.0}
        for pid, kind in kinds.items():
            used[kind] += max(0.0, seconds[pid] - self.marked.get(pid, 0.0))
        used["client"] = client - self.marked_client
        return used


@contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        server.stop()


# -- load --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    path: str
    body: bytes
    headers: dict[str, str]
    key: str = ""  # which object the call writes to (for gap checks)


@dataclass
class LoadResult:
    clients: int
    keepalive: bool
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, successful calls only
    bodies: list[tuple[str, bytes]] = field(default_factory=list)  # (call key, body)
    failures: list[str] = field(default_factory=list)
    not_sent: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by whom, while timed

    def cpu_ms_per_call(self, who: str) -> float:
        return 1000 * self.cpu.get(who, float("nan")) / self.ok if self.ok else float("nan")

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, pct: float) -> float:
        """Nearest-rank percentile in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, -(-len(ordered) * pct // 100))
        return ordered[int(rank) - 1] * 1000


def merge(results: Sequence[LoadResult]) -> LoadResult:
    """Pool the rounds of one measurement: calls, time, latencies and CPU add up."""
    pooled = LoadResult(clients=results[0].clients, keepalive=results[0].keepalive)
    for result in results:
        pooled.elapsed += result.elapsed
        pooled.latencies += result.latencies
        pooled.bodies += result.bodies
        pooled.failures += result.failures
        pooled.not_sent += result.not_sent
        for who, seconds in result.cpu.items():
            pooled.cpu[who] = pooled.cpu.get(who, 0.0) + seconds
    return pooled


def run_load(
    port: int,
    plans: Sequence[Sequence[Call]],
    *,
    keepalive: bool,
    expect: int,
    max_seconds: float,
    timeout: float = 30,
    meter: CpuMeter | None = None,
) -> LoadResult:
    """Closed loop: one thread per plan sends its calls back to back and waits for each
    answer. keepalive=True reuses one connection per thread (reopened only when the server
    closes it); False opens a new connection per call and asks the server to close it.
    Latency includes connecting. Calls not started within max_seconds are counted as not sent."""
    result = LoadResult(clients=len(plans), keepalive=keepalive)
    lock = threading.Lock()
    start = threading.Barrier(len(plans) + 1)
    ends: list[float] = []
    began: list[float] = []

    def client(plan: Sequence[Call]) -> None:
        conn: http.client.HTTPConnection | None = None
        latencies, bodies, failures, skipped = [], [], [], 0
        start.wait()
        deadline = time.perf_counter() + max_seconds
        try:
            for call in plan:
                if time.perf_counter() > deadline:
                    skipped += 1
                    continue
                headers = call.headers if keepalive else {**call.headers, "Connection": "close"}
                if conn is None:
                    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
                t0 = time.perf_counter()
                try:
                    conn.request("POST", call.path, call.body, headers)
                    response = conn.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    failures.append(f"{call.path}: {type(exc).__name__}: {exc}")
                    conn.close()
                    conn = None
                    continue
                elapsed = time.perf_counter() - t0
                if response.status == expect:
                    latencies.append(elapsed)
                    bodies.append((call.key, data))
                else:
                    failures.append(f"{call.path}: HTTP {response.status} {data[:300]!r}")
                if not keepalive or response.will_close:
                    conn.close()
                    conn = None
        finally:
            if conn is not None:
                conn.close()
            with lock:
                ends.append(time.perf_counter())
                result.latencies.extend(latencies)
                result.bodies.extend(bodies)
                result.failures.extend(failures)
                result.not_sent += skipped

    threads = [threading.Thread(target=client, args=(plan,), daemon=True) for plan in plans]
    for thread in threads:
        thread.start()
    if meter is not None:
        meter.mark()
    start.wait()
    began.append(time.perf_counter())
    for thread in threads:
        thread.join(max_seconds + timeout + 5)
    if meter is not None:
        result.cpu = meter.cpu_used()
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError("a load client did not finish in time")
    result.elapsed = max(ends) - began[0]
    return result
