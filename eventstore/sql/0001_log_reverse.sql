DROP TABLE IF EXISTS eventstore_checkpoint, eventstore_sequencer, eventstore_leaf,
    eventstore_outbox, eventstore_idempotency, eventstore_event;
DROP FUNCTION IF EXISTS eventstore_reject_change();
