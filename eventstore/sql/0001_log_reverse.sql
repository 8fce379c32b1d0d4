DROP TABLE IF EXISTS eventstore_checkpoint, eventstore_sequencer, eventstore_leaf,
    eventstore_outbox, eventstore_idempotency, eventstore_event, eventstore_stream;
DROP FUNCTION IF EXISTS eventstore_reject_change();
