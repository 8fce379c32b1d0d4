"""The role the service connects as (manage.py grant_app_role): it runs the product, appends
to the log, and can neither change nor unprotect what was appended."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from eventstore import checkpoints, store
from eventstore.models import Event
from eventstore.types import NO_STREAM
from eventstore.verify import verify
from registry import commands
from tests.conftest import events, new_stream

pytestmark = pytest.mark.django_db
ROLE = "ledger_app_check"


@pytest.fixture
def as_app_role():
    call_command("grant_app_role", ROLE, stdout=open("/dev/null", "w"))  # noqa: SIM115
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {ROLE}")
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (ROLE, False)


def test_app_role_registers_versions_and_checkpoints_when_granted(as_app_role, owner_actor, meta):
    model = commands.register_model(actor=owner_actor, name="granted-model", team="fraud-ml")
    commands.create_model_version(
        actor=owner_actor, model_id=model.id, data=commands.VersionInput(framework="sklearn")
    )
    store.append(new_stream(), NO_STREAM, events("A", "B"), meta)
    checkpoint = checkpoints.write_checkpoint()
    assert checkpoint.tree_size >= 4
    assert verify().ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE eventstore_event SET data = '{}'",
        "DELETE FROM eventstore_event",
        "TRUNCATE eventstore_event",
        "UPDATE eventstore_leaf SET leaf_hash = '\\x00'",
        "DELETE FROM eventstore_checkpoint",
        "ALTER TABLE eventstore_event DISABLE TRIGGER USER",
        "ALTER TABLE eventstore_event DISABLE TRIGGER ALL",
        "DROP TRIGGER IF EXISTS eventstore_event_no_change ON eventstore_event",
        "DROP TRIGGER IF EXISTS eventstore_event_chain ON eventstore_event",
        "ALTER TABLE eventstore_event DISABLE TRIGGER eventstore_event_chain",
        "SET session_replication_role = replica",
    ],
)
def test_app_role_is_refused_when_it_tries_to_change_the_log(as_app_role, meta, statement):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A"), meta)
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement)
    assert Event.objects.filter(stream_id=stream.id).count() == 1


def test_app_role_cannot_stand_a_temporary_table_in_for_the_log_the_chain_check_reads(
    as_app_role, meta
):
    """pg_temp comes first in the search path: a temporary eventstore_event holding a made-up
    head must not make the chain check accept an event linked to it."""
    stream = new_stream()
    store.append(stream, NO_STREAM, events("A"), meta)
    made_up = b"\x05" * 32
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT quote_ident(current_schema())")
            log = f"{cursor.fetchone()[0]}.eventstore_event"
            cursor.execute(
                "CREATE TEMP TABLE eventstore_event (stream_id uuid, version bigint, hash bytea)"
            )
            cursor.execute(
                "INSERT INTO pg_temp.eventstore_event VALUES (%s, 1, %s)", (stream.id, made_up)
            )
            cursor.execute(
                f"INSERT INTO {log} (stream_id, stream_type, version, type, schema_version, data,"
                " metadata, occurred_at, recorded_at, prev_hash, hash) VALUES (%s, %s, 2,"
                " 'test.Raw', 1, '{}', '{}', now(), now(), %s, %s)",
                (stream.id, stream.type, made_up, b"\x06" * 32),
            )
    assert Event.objects.filter(stream_id=stream.id).count() == 1


def test_grant_app_role_is_idempotent_when_run_after_every_migrate(monkeypatch):
    monkeypatch.setenv("LEDGER_TEST_ROLE_PASSWORD", "not-a-real-password")
    for _ in range(2):
        call_command(
            "grant_app_role",
            ROLE,
            password_env="LEDGER_TEST_ROLE_PASSWORD",
            stdout=open("/dev/null", "w"),  # noqa: SIM115
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT privilege_type FROM information_schema.role_table_grants"
            " WHERE grantee = %s AND table_name = 'eventstore_event' ORDER BY 1",
            (ROLE,),
        )
        assert [row[0] for row in cursor.fetchall()] == ["INSERT", "SELECT"]
        cursor.execute("SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = %s", (ROLE,))
        assert cursor.fetchone() == (True, False)
