"""The append-only, hash-chained event log: append, read, verify, replay, outbox."""
