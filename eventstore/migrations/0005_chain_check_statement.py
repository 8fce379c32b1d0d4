"""The chain check once per statement instead of once per row.

Same rule as migration 0004: version 1 links to GENESIS (32 zero bytes), version N+1 to the
stored hash of version N of the same stream. An AFTER INSERT ... FOR EACH STATEMENT trigger
sees the statement's rows as a transition table and checks them all in one query, after every
row of the statement is in, so a multi-event append chained within itself goes in. Inside a
statement the rows of a stream are checked against each other (sorted by version, each must
follow the one before and link to its hash); only the first row of each stream is looked up
in the log, through the UNIQUE (stream_id, version) index. By induction on the version every
event then hangs on a chain down to GENESIS, and UNIQUE (stream_id, version) leaves one event
per version: no gap and no fork, whatever a writer believes the head is. A row that ON
CONFLICT DO NOTHING skips is not in the transition table: it went nowhere, there is nothing
to check (0004 checked it before the conflict was found; the append then sees fewer rows).
COPY fires the trigger too.

The log is named with its schema in the function, so a temporary table named eventstore_event
(pg_temp comes first in the search path) cannot stand in for it. ENABLE ALWAYS like the
append-only triggers; the application role does not own the table or the function, so it can
neither disable, drop nor replace them. The refusal keeps 0004's SQLSTATE, constraint name and
detail (the stream id), which eventstore/store/inserts.py turns into StaleHead."""

from importlib import import_module

from django.db import migrations

ROW_TRIGGER = import_module("eventstore.migrations.0004_chain_check")

FORWARD = r"""
DROP TRIGGER eventstore_event_chain ON eventstore_event;
DROP FUNCTION eventstore_check_chain();

CREATE FUNCTION eventstore_check_chain_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    refused record;
BEGIN
    SELECT n.stream_id, n.version INTO refused
    FROM (SELECT stream_id, version, prev_hash,
                 lag(version) OVER w AS before_version, lag(hash) OVER w AS before_hash
          FROM new_rows WINDOW w AS (PARTITION BY stream_id ORDER BY version)) AS n
    WHERE CASE
        WHEN n.before_version IS NOT NULL
            THEN n.before_version <> n.version - 1 OR n.before_hash <> n.prev_hash
        WHEN n.version = 1
            THEN n.prev_hash <> '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
        ELSE NOT EXISTS (SELECT 1 FROM {log} AS e
                         WHERE e.stream_id = n.stream_id AND e.version = n.version - 1
                           AND e.hash = n.prev_hash)
    END
    ORDER BY n.stream_id, n.version
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'event % of stream % does not link to the stored head of its stream',
                refused.version, refused.stream_id
            USING ERRCODE = 'integrity_constraint_violation',
                  CONSTRAINT = 'eventstore_event_chain',
                  TABLE = 'eventstore_event',
                  DETAIL = refused.stream_id::text;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER eventstore_event_chain AFTER INSERT ON eventstore_event
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_check_chain_statement();
ALTER TABLE eventstore_event ENABLE ALWAYS TRIGGER eventstore_event_chain;
"""

REVERSE = """
DROP TRIGGER eventstore_event_chain ON eventstore_event;
DROP FUNCTION eventstore_check_chain_statement();
"""


def forward(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
    log = f"{schema_editor.quote_name(schema)}.eventstore_event"
    schema_editor.execute(FORWARD.replace("{log}", log), params=None)


def reverse(apps, schema_editor) -> None:
    schema_editor.execute(REVERSE, params=None)
    schema_editor.execute(ROW_TRIGGER.FORWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0004_chain_check")]

    operations = [migrations.RunPython(forward, reverse)]
