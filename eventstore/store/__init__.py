"""The event store's contract: append and load are the only way events enter the log and the
ways they are read back. Callers use this package (`from eventstore import store`); its
modules are:

- appends.py: `append`, `append_all`, `Append`; the one append path, and where the
  transaction's COMMIT is sent (its docstring, "Transactions").
- reactions.py: `react`; subscribers run after an append's projection writes, in its
  transaction.
- read.py: `read_stream`, `read_all`, `opening_event`, `load`, `load_existing`,
  `load_locked`, `remember`.
- versions.py: `stream_version`, `stream_versions`, `require_versions`; the head an append
  reads and the stream lock.
- idempotency.py: idempotency keys (claim, repeat, reuse).
- inserts.py: the insert statement and the runner every append goes through.
- rows.py: `Head` and `EventRow`, the rows an append chains and inserts.
- caches.py: what this process remembers of heads and states, what that assumes (one thread
  per process, among others) and when it is dropped.

An append is one transaction (or part of the caller's): it chains the new events onto the
stored head hash, inserts them, runs the inline projectors and records side effects in the
outbox. `UNIQUE (stream_id, version)` backs the optimistic concurrency check, and a trigger
refuses any event that does not link to its stream's stored head (StaleHead)."""

from eventstore.store.appends import MAX_EVENTS_PER_APPEND, Append, append, append_all
from eventstore.store.reactions import catch_up, react
from eventstore.store.read import (
    load,
    load_existing,
    load_locked,
    opening_event,
    read_all,
    read_stream,
    remember,
)
from eventstore.store.rows import Head
from eventstore.store.versions import require_versions, stream_version, stream_versions

__all__ = [
    "MAX_EVENTS_PER_APPEND",
    "Append",
    "Head",
    "append",
    "append_all",
    "catch_up",
    "load",
    "load_existing",
    "load_locked",
    "opening_event",
    "react",
    "read_all",
    "read_stream",
    "remember",
    "require_versions",
    "stream_version",
    "stream_versions",
]
