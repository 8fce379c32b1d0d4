"""Shared fixtures: actors, stream helpers and a clean ledger for tests that commit."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
import uuid
from functools import cache
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from pytest_django.plugin import blocking_manager_key

from core.actors import Actor
from eventstore import checkpoints
from eventstore.projection import registered_tables
from eventstore.store import caches
from eventstore.types import NewEvent, StreamRef

LEDGER_TABLES = (
    "eventstore_event",
    "eventstore_leaf",
    "eventstore_checkpoint",
    "eventstore_subtree",
)
PLAIN_TABLES = ("eventstore_idempotency", "eventstore_outbox", "eventstore_stream_head")


def superuser_sql(sql: str, params: tuple = ()) -> None:
    """Run SQL as what the tests connect as: a PostgreSQL superuser (embedded or local)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def without_append_only(sql: str, params: tuple = ()) -> None:
    """What a superuser can always do: switch the triggers off (the append-only ones and the
    chain check), change history, switch back. Tamper tests use this to prove the hashes
    catch it."""
    with connection.cursor() as cursor:
        for table in LEDGER_TABLES:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        try:
            cursor.execute(sql, params)
        finally:
            for table in LEDGER_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_change")
                cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate")
            cursor.execute(
                "ALTER TABLE eventstore_event ENABLE ALWAYS TRIGGER eventstore_event_chain"
            )


def lose_newest(stream_id, keep: int) -> None:
    """What a failover to an asynchronous replica (or a restore under running workers) does
    to a stream: its events after version `keep` are gone, deleted as a superuser past the
    append-only trigger, and the projections are as the log left them (rebuilt). What this
    process cached of the stream is left alone, pointing at the lost head."""
    from eventstore.projection import rebuild

    without_append_only(
        "DELETE FROM eventstore_event WHERE stream_id = %s AND version > %s", (stream_id, keep)
    )
    rebuild()


def wipe_ledger() -> None:
    projections = [m._meta.db_table for m in registered_tables()]
    tables = ", ".join([*LEDGER_TABLES, *PLAIN_TABLES, *projections])
    without_append_only(f"TRUNCATE {tables}")
    superuser_sql(
        "UPDATE eventstore_sequencer SET horizon = '0'::xid8, heads_size = 0, checked_at = NULL"
    )
    caches.clear()  # the log went back in time: what this process knew of it is gone


def seed_ledger() -> None:
    """What the migrations record on a new database: the default policy and review boards, and
    the auditors group (a data migration's, which a flush of Django's tables removes).
    Reads never seed them, so a test that emptied the log seeds it again where it needs them."""
    from django.contrib.auth.models import Group

    call_command("seed_governance", verbosity=0)
    Group.objects.get_or_create(name="auditors")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Tests that commit leave no events of their own behind: the log tables are not flushed by
    Django, and projections of leftover events would be. Once every fixture is torn down (the
    flush of Django's tables comes last), the ledger is left as the migrations leave it: wiped,
    then seeded, so the tests after see the same database whatever ran before them. After the
    last test the test database is gone already."""
    committed = {"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))
    try:
        return (yield)
    finally:
        if committed and nextitem is not None:
            with item.config.stash[blocking_manager_key].unblock():
                wipe_ledger()
                seed_ledger()


@pytest.fixture
def pristine_ledger(transactional_db):
    """An empty log for tests that commit (the log tables are not flushed between tests): not
    even the seeded policy and boards, which a test that needs them seeds (`seed_ledger`)."""
    wipe_ledger()


@pytest.fixture
def actor() -> Actor:
    return Actor.system("tests", request_id="req-1")


@pytest.fixture
def meta(actor, settings) -> dict:
    return actor.metadata(pseudonym_key=settings.LEDGER_PSEUDONYM_KEY)


def wait_until(predicate, timeout: float = 60, what: str = "condition"):
    """Poll `predicate` until it gives a true value, and return that value; fail the test if
    it does not within `timeout` seconds (work done by a broker and a worker elsewhere)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def new_stream(kind: str = "test.Thing") -> StreamRef:
    return StreamRef(uuid.uuid4(), kind)


def events(*names: str, **data) -> list[NewEvent]:
    return [NewEvent(type=f"test.{name}", data={"n": i, **data}) for i, name in enumerate(names)]


# -- the offline verifier, run as auditors run it ----------------------------------------

SYSTEM_PYTHON = Path("/usr/bin/python3")
NEW_ENOUGH = "import sys; sys.exit(sys.version_info < (3, 11))"


@cache
def verifier_python() -> tuple[str, ...]:
    """The interpreter an auditor runs verify.py with: isolated (-I) and without
    site-packages (-S), so only the standard library is importable; the system Python where it
    is 3.11 or newer (not this virtualenv's), else this interpreter."""
    if SYSTEM_PYTHON.exists():
        probe = subprocess.run(
            [str(SYSTEM_PYTHON), "-I", "-S", "-c", NEW_ENOUGH],
            capture_output=True,
            timeout=30,
        )
        if probe.returncode == 0:
            return (str(SYSTEM_PYTHON), "-I", "-S")
    return (sys.executable, "-I", "-S")


def ledger_public_key() -> str:
    """The ledger's current signing key as an auditor pins it: base64, as the checkpoint API
    and `manage.py ledger_public_key` publish it, never read from the bundle."""
    return base64.b64encode(
        checkpoints.public_key_bytes(checkpoints.signing_key().public_key())
    ).decode()


def run_verifier(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """verify.py on `folder` with `args` as given: pass `--public-key KEY` (see
    ledger_public_key) or `--trust-bundle-key`; without either it refuses, exit status 2."""
    return subprocess.run(
        [*verifier_python(), str(folder / "verify.py"), str(folder), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


# -- personas ----------------------------------------------------------------------------


@pytest.fixture
def team(db):
    from django.contrib.auth.models import Group

    return Group.objects.create(name="fraud-ml")


def make_user(username: str, *groups, perms: tuple[str, ...] = (), superuser: bool = False):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user(
        username=username, password=f"{username}-password-1", is_superuser=superuser
    )
    for group in groups:
        user.groups.add(group)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return get_user_model().objects.get(pk=user.pk)  # fresh, without permission caches


@pytest.fixture
def owner(team):
    return make_user("olivia-owner", team)


@pytest.fixture
def owner_actor(owner):
    return Actor.user(owner, auth_method="token")


@pytest.fixture
def outsider(db):
    return make_user("oscar-outsider")


@pytest.fixture
def reviewer(db):
    return make_user("rita-risk", perms=("registry.review_modelversion",))


@pytest.fixture
def no_reactions(monkeypatch):
    """Append events on their own, without the apps' subscribers: for tests of an event's
    encoding that append it to a bare stream, outside any aggregate it could react to."""
    from collections import defaultdict

    from eventstore import subscribers

    monkeypatch.setattr(subscribers, "_subscribers", defaultdict(list))
