"""The database keeps the chain: an event goes in only onto its stream's stored head.

Version 1 must link to GENESIS (32 zero bytes); version N+1 must link to the stored hash of
version N of the same stream, found through the UNIQUE (stream_id, version) index. A row
trigger sees the rows its own statement inserted before it, so a multi-event append chained
within itself goes in. With UNIQUE (stream_id, version) this leaves no gap and no fork,
whatever a writer believes the head is (a cached head the log lost, a bug, a direct INSERT).
ENABLE ALWAYS like the append-only triggers; the application role does not own the table, so
it can neither disable nor drop it."""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION eventstore_check_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.version = 1 THEN
        IF NEW.prev_hash = '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea THEN
            RETURN NEW;
        END IF;
    ELSIF EXISTS (SELECT 1 FROM eventstore_event
                  WHERE stream_id = NEW.stream_id AND version = NEW.version - 1
                    AND hash = NEW.prev_hash) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'event % of stream % does not link to the stored head of its stream',
            NEW.version, NEW.stream_id
        USING ERRCODE = 'integrity_constraint_violation',
              CONSTRAINT = 'eventstore_event_chain',
              TABLE = 'eventstore_event',
              DETAIL = NEW.stream_id::text;
END;
$$;

CREATE TRIGGER eventstore_event_chain BEFORE INSERT ON eventstore_event
    FOR EACH ROW EXECUTE FUNCTION eventstore_check_chain();
ALTER TABLE eventstore_event ENABLE ALWAYS TRIGGER eventstore_event_chain;
"""

REVERSE = """
DROP TRIGGER eventstore_event_chain ON eventstore_event;
DROP FUNCTION eventstore_check_chain();
"""


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0003_outbox_completion")]

    operations = [migrations.RunSQL(FORWARD, reverse_sql=REVERSE)]
