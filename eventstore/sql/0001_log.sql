-- The event log and its companions. Hand-written because Django cannot express identity
-- columns, xid8 defaults or the append-only triggers.

CREATE TABLE eventstore_event (
    position       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id      uuid NOT NULL,
    stream_type    text NOT NULL,
    version        bigint NOT NULL CHECK (version >= 1),
    type           text NOT NULL,
    schema_version integer NOT NULL CHECK (schema_version >= 1),
    data           jsonb NOT NULL,
    metadata       jsonb NOT NULL,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL,
    prev_hash      bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash           bytea NOT NULL CHECK (length(hash) = 32),
    -- The writing transaction: catch-up readers only read below the oldest running one.
    xid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    -- The optimistic concurrency guard: two writers of the same version cannot both commit.
    CONSTRAINT eventstore_event_stream_version UNIQUE (stream_id, version)
);
-- Few indexes on purpose: each one is paid by every append. recorded_at grows with position,
-- so a BRIN index serves time ranges at almost no write cost.
CREATE INDEX eventstore_event_xid ON eventstore_event (xid, position);
CREATE INDEX eventstore_event_recorded ON eventstore_event USING brin (recorded_at);

CREATE TABLE eventstore_idempotency (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor         text NOT NULL,
    key           text NOT NULL,
    fingerprint   bytea NOT NULL,
    stream_id     uuid NOT NULL,
    first_version bigint,
    last_version  bigint,
    positions     jsonb,
    created_at    timestamptz NOT NULL,
    CONSTRAINT eventstore_idempotency_actor_key UNIQUE (actor, key)
);

CREATE TABLE eventstore_outbox (
    id              uuid PRIMARY KEY,
    position        bigint,
    task            text NOT NULL,
    kwargs          jsonb NOT NULL,
    created_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    dispatched_at   timestamptz,
    last_error      text NOT NULL DEFAULT '',
    xid             xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX eventstore_outbox_pending ON eventstore_outbox (next_attempt_at)
    WHERE dispatched_at IS NULL;

-- Merkle leaves in sequencer order, and the sequencer's horizon.
CREATE TABLE eventstore_leaf (
    leaf_index bigint PRIMARY KEY CHECK (leaf_index >= 0),
    position   bigint NOT NULL UNIQUE,
    stream_id  uuid NOT NULL,
    version    bigint NOT NULL,
    leaf_hash  bytea NOT NULL CHECK (length(leaf_hash) = 32)
);

CREATE TABLE eventstore_sequencer (
    id      smallint PRIMARY KEY CHECK (id = 1),
    horizon xid8 NOT NULL
);
INSERT INTO eventstore_sequencer (id, horizon) VALUES (1, '0'::xid8);

CREATE TABLE eventstore_checkpoint (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tree_size  bigint NOT NULL UNIQUE CHECK (tree_size >= 0),
    root_hash  bytea NOT NULL CHECK (length(root_hash) = 32),
    frontier   jsonb NOT NULL,
    origin     text NOT NULL,
    key_id     text NOT NULL,
    signature  bytea NOT NULL,
    note       text NOT NULL,
    created_at timestamptz NOT NULL
);

-- Append-only, for everyone: row triggers for UPDATE/DELETE, a statement trigger for
-- TRUNCATE, all ENABLE ALWAYS so session_replication_role = replica does not skip them.
CREATE FUNCTION eventstore_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: the ledger is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['eventstore_event', 'eventstore_leaf', 'eventstore_checkpoint'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I
                        FOR EACH ROW EXECUTE FUNCTION eventstore_reject_change()',
                       t || '_no_change', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION eventstore_reject_change()',
                       t || '_no_truncate', t);
        EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER %I', t, t || '_no_change');
        EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER %I', t, t || '_no_truncate');
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM PUBLIC', t);
    END LOOP;
END;
$$;
