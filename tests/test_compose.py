"""docker-compose.yml, Dockerfile and .env.example hold together: no Docker engine needed.

The compose file is validated against the official Compose Specification JSON schema
(tests/fixtures/compose-spec.json, from compose-spec/compose-spec, schema/compose-spec.json),
then checked for what the schema cannot know: the services the design names, secrets that
only ever come from the environment, start-up order and pinned images.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest
import yaml
from jsonschema.validators import validator_for

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = Path(__file__).resolve().parent / "fixtures" / "compose-spec.json"

DESIGN_SERVICES = {"postgres", "redis", "s3", "web", "worker", "beat"}
APP_PROCESSES = ("web", "worker", "beat", "relay", "signer")
BUCKET = "model-ledger-artifacts"

SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|_KEY|PRIVATE|CREDENTIAL)", re.IGNORECASE)
REQUIRED_INTERPOLATION = re.compile(r"^\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*):\?[^}]+\}$")
# ${NAME}, ${NAME:-default}, ${NAME:?error}; `$${` is compose's escape for a literal `${`.
INTERPOLATION = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
URL_PASSWORD = re.compile(r"://[^:/@\s]+:(?P<password>[^@\s]+)@")
PINNED_TAG = re.compile(
    r"^(\d+(\.\d+)*(-[a-z0-9.]+)?|RELEASE\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)$"
)


@cache
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@cache
def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text())


def services() -> dict:
    return compose()["services"]


def schema_errors(document: dict) -> list[str]:
    validator_class = validator_for(schema(), default=None)
    assert validator_class is not None, f"jsonschema does not know {schema()['$schema']}"
    validator_class.check_schema(schema())
    validator = validator_class(schema())
    return [
        f"{error.json_path}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: e.json_path)
    ]


def environment_of(definition: dict) -> dict[str, str]:
    env = definition.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {pair[0]: pair[1] if len(pair) == 2 else "" for pair in pairs}
    return {key: "" if value is None else str(value) for key, value in env.items()}


def environments(document: dict) -> dict[str, dict[str, str]]:
    """Every environment block: each service's, and the shared x- anchors'."""
    found = {f"services.{name}": environment_of(d) for name, d in document["services"].items()}
    for key, value in document.items():
        if key.startswith("x-") and isinstance(value, dict):
            found[key] = {k: "" if v is None else str(v) for k, v in value.items()}
    return found


def literal_secrets(document: dict) -> list[str]:
    problems = []
    for where, env in environments(document).items():
        for name, value in env.items():
            if SECRET_NAME.search(name) and not REQUIRED_INTERPOLATION.match(value):
                problems.append(f"{where}.{name} = {value!r}")
            for match in URL_PASSWORD.finditer(value):
                if not REQUIRED_INTERPOLATION.match(match["password"]):
                    problems.append(f"{where}.{name}: password in URL is {match['password']!r}")
    return problems


def strings_in(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (*strings_in(key), *strings_in(value))]
    if isinstance(node, list):
        return [s for item in node for s in strings_in(item)]
    return []


def interpolated_names() -> set[str]:
    return {m["name"] for text in strings_in(compose()) for m in INTERPOLATION.finditer(text)}


def command_of(name: str) -> list[str]:
    command = services()[name]["command"]
    return command.split() if isinstance(command, str) else [str(part) for part in command]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    return [tuple(item.split(None, 1)) for item in logical]


def test_compose_matches_compose_spec_schema_when_validated():
    assert schema_errors(compose()) == []


def test_schema_validation_catches_mistakes_when_compose_is_broken():
    broken = yaml.safe_load(COMPOSE_FILE.read_text())
    broken["services"]["web"]["depends_on"]["migrate"]["condition"] = "service_finished"
    broken["services"]["worker"]["restart_policy"] = "always"
    errors = schema_errors(broken)
    assert any("web" in error for error in errors)
    assert any("worker" in error for error in errors)


def test_schema_fixture_is_the_compose_spec_when_loaded():
    assert schema()["title"] == "Compose Specification"
    assert schema()["$schema"].startswith("https://json-schema.org/draft/")
    assert "service" in schema()["definitions"]


def test_compose_has_no_version_key_when_following_compose_spec():
    assert "version" not in compose()


def test_every_design_service_exists_when_compose_is_loaded():
    assert DESIGN_SERVICES | {"relay", "migrate", "s3-init"} <= set(services())


def test_secrets_come_from_required_interpolation_when_set_in_environment():
    assert literal_secrets(compose()) == []
    checked = [
        name for env in environments(compose()).values() for name in env if SECRET_NAME.search(name)
    ]
    assert {
        "DJANGO_SECRET_KEY",
        "LEDGER_SIGNING_KEY",
        "LEDGER_PSEUDONYM_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "POSTGRES_PASSWORD",
        "LEDGER_APP_DB_PASSWORD",
        "MINIO_ROOT_PASSWORD",
    } <= set(checked)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DJANGO_SECRET_KEY", "hunter2"),
        ("AWS_SECRET_ACCESS_KEY", "${AWS_SECRET_ACCESS_KEY:-fallback}"),
        ("DATABASE_URL", "postgres://ledger:hunter2@postgres:5432/model_ledger"),
    ],
)
def test_secret_check_reports_value_when_it_is_literal_or_defaulted(name, value):
    document = {"services": {"web": {"image": "x:1", "environment": {name: value}}}}
    assert literal_secrets(document) != []


def test_database_url_takes_password_from_environment_when_shared():
    env = compose()["x-ledger-env"]
    assert env["DATABASE_URL"] == (
        "postgres://ledger_app:${LEDGER_APP_DB_PASSWORD:?set LEDGER_APP_DB_PASSWORD in .env}"
        "@postgres:5432/model_ledger"
    )
    assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert env["LEDGER_ENV"] == "production"
    assert env["DJANGO_SECURE_SSL_REDIRECT"] == "false"
    assert env["S3_ENDPOINT_URL"] == "http://s3:9000"
    assert env["S3_BUCKET"] == BUCKET


@pytest.mark.parametrize("name", APP_PROCESSES)
def test_app_process_waits_for_migrate_when_starting(name):
    depends_on = services()[name]["depends_on"]
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert depends_on["postgres"]["condition"] == "service_healthy"


def test_migrate_connects_as_owner_and_grants_the_app_role_when_run():
    migrate = services()["migrate"]
    env = environment_of(migrate)
    assert env["DATABASE_URL"] == (
        "postgres://ledger:${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}"
        "@postgres:5432/model_ledger"
    )
    shared = {key: str(value) for key, value in compose()["x-ledger-env"].items()}
    assert {
        k: v for k, v in env.items() if k not in ("DATABASE_URL", "LEDGER_APP_DB_PASSWORD")
    } == {k: v for k, v in shared.items() if k != "DATABASE_URL"}
    script = " ".join(command_of("migrate"))
    assert script.index("manage.py migrate --noinput") < script.index(
        "manage.py grant_app_role ledger_app --password-env LEDGER_APP_DB_PASSWORD"
    )


@pytest.mark.parametrize("name", APP_PROCESSES)
def test_app_process_uses_project_image_and_environment_when_defined(name):
    definition = services()[name]
    assert definition["build"] == "."
    shared = {key: str(value) for key, value in compose()["x-ledger-env"].items()}
    own = {"LEDGER_SIGNING_KEY": "${LEDGER_SIGNING_KEY:?set LEDGER_SIGNING_KEY in .env}"}
    assert environment_of(definition) == (shared | own if name == "signer" else shared)


def test_only_the_signer_is_given_the_signing_key_when_compose_starts():
    holders = {
        where for where, env in environments(compose()).items() if "LEDGER_SIGNING_KEY" in env
    }
    assert holders == {"services.signer"}
    for name in APP_PROCESSES:
        assert environment_of(services()[name])["LEDGER_TRUSTED_KEYS"].startswith(
            "${LEDGER_TRUSTED_KEYS:?"
        )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("web", ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000"]),
        ("worker", ["celery", "-A", "config", "worker"]),
        ("beat", ["celery", "-A", "config", "beat"]),
        ("relay", ["python", "manage.py", "relay_outbox"]),
        ("signer", ["python", "manage.py", "run_signer"]),
    ],
)
def test_service_runs_launcher_command_when_started(name, expected):
    assert command_of(name)[: len(expected)] == expected


def test_web_runs_sync_workers_when_started():
    command = command_of("web")
    # config/gunicorn.py names the worker: gunicorn's sync worker, refusals as problem+json.
    assert command[command.index("--config") + 1] == "config/gunicorn.py"
    assert "--worker-class" not in command
    assert command[command.index("--workers") + 1] == "${WEB_WORKERS:-3}"
    assert services()["web"]["ports"] == ["8000:8000"]


def test_migrate_runs_once_when_compose_starts():
    assert services()["migrate"]["restart"] == "no"
    assert services()["s3-init"]["restart"] == "no"


def test_s3_init_creates_artifact_bucket_when_store_is_healthy():
    init = services()["s3-init"]
    assert init["depends_on"]["s3"]["condition"] == "service_healthy"
    assert environment_of(init)["S3_BUCKET"] == BUCKET
    assert 'mc mb --ignore-existing "ledger/$$S3_BUCKET"' in " ".join(strings_in(init["command"]))
    assert command_of("s3")[:2] == ["server", "/data"]
    assert "--console-address" in command_of("s3")


@pytest.mark.parametrize(
    ("name", "probe"),
    [("postgres", "pg_isready"), ("redis", "redis-cli"), ("s3", "mc"), ("web", "/healthz")],
)
def test_service_has_healthcheck_when_others_wait_on_it(name, probe):
    healthcheck = services()[name]["healthcheck"]
    assert not healthcheck.get("disable", False)
    assert probe in " ".join(strings_in(healthcheck["test"]))


def test_postgres_keeps_data_in_named_volume_when_recreated():
    assert "postgres-data:/var/lib/postgresql/data" in services()["postgres"]["volumes"]
    assert "postgres-data" in compose()["volumes"]


@pytest.mark.parametrize("name", ["postgres", "redis", "s3", "s3-init"])
def test_image_is_pinned_when_pulled_from_registry(name):
    image = services()[name]["image"]
    assert "@" not in image or image.split("@", 1)[1].startswith("sha256:")
    repository, _, tag = image.split("@", 1)[0].rpartition(":")
    assert repository, f"{image} has no tag"
    assert tag != "latest"
    assert PINNED_TAG.match(tag), f"{image} is not pinned to a version"


def test_env_example_lists_every_variable_when_compose_interpolates_it():
    listed = {
        line.split("=", 1)[0].strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    assert interpolated_names() - listed == set()
    assert "POSTGRES_PASSWORD" in interpolated_names()


def test_dockerfile_keeps_build_secrets_out_of_image_env_when_collecting_static():
    instructions = dockerfile_instructions()
    env_text = " ".join(args for instruction, args in instructions if instruction == "ENV")
    assert not SECRET_NAME.search(env_text)
    assert "DATABASE_URL" not in env_text
    assert "LEDGER_ENV" not in env_text
    collect = [args for instruction, args in instructions if "collectstatic" in args]
    assert len(collect) == 1
    assert "LEDGER_ENV=production" in collect[0]
    assert "DJANGO_SECRET_KEY=" in collect[0]


def test_dockerfile_runs_unprivileged_web_server_when_started():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    users = [args for instruction, args in instructions if instruction == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert ("EXPOSE", "8000") in instructions
    health = [args for instruction, args in instructions if instruction == "HEALTHCHECK"]
    assert len(health) == 1
    assert "urllib" in health[0]
    assert "/healthz" in health[0]
    cmd = json.loads(next(args for instruction, args in instructions if instruction == "CMD"))
    assert "gunicorn config.wsgi:application --bind 0.0.0.0:8000" in cmd[-1]
    assert "${WEB_WORKERS:-3}" in cmd[-1]
    assert "--config config/gunicorn.py" in cmd[-1]
    assert "--worker-class" not in cmd[-1]


def test_dockerignore_excludes_local_state_when_building():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    expected = {".venv", ".ledger", ".git", "__pycache__", "staticfiles", ".pytest_cache"}
    assert expected | {".hypothesis", ".env"} <= ignored
