"""What this process remembers of the log, so appends and loads skip reads: every assumption
the store's caches make is stated here, and nowhere else.

Two caches, both plain dictionaries of this module, kept per process:

- heads: stream id -> CachedHead (version, hash, stream type, recorded_at) of the newest
  event this process saw committed. An append at that version chains onto it without
  reading the head (`known_head`); `load_locked` starts from it.
- states: (stream id, evolve) -> (version, state) of the newest committed fold. `load` reads
  only the events after it (or nothing, with cached=True); `load_locked` starts from it when
  the head cache is at the same version.

What they assume:

- Only committed facts go in. Appends remember their head in `transaction.on_commit`;
  `read_stream`, `load` and `remember` store only outside a transaction or on commit. A
  committed event never changes, so an entry is always true of its version.
- An entry may be stale: another process (or thread) may have appended since. That is safe
  because whoever uses an entry appends at its version, and UNIQUE (stream_id, version)
  turns a stale one into ConcurrencyConflict, as an expected version should; the command
  then reloads. `load(cached=True)` is only for such a command.
- An entry may name a head the log no longer holds: the database lost commits this process
  saw (a failover to an asynchronous replica, a restore under running workers). The
  database refuses any event that does not link to its stream's stored head (the chain
  trigger of migration 0005: version 1 onto GENESIS, N+1 onto the stored hash of N), so an
  append onto such an entry is refused, raises StaleHead (a ConcurrencyConflict) and forgets
  the stream (`forget`); the retry reads the stored head. No gap, no fork, whatever a cache
  holds.
- One thread per process: the service runs gunicorn sync workers and Celery prefork workers.
  There is no lock. Other threads (the test server, the concurrency tests' writers) are
  still safe, since an entry is one tuple replaced whole, and the worst they see is a
  stale entry, which the point above covers.
- States are immutable values: the cached one is handed out and folded further by callers.
- The log only grows. That is what the database guarantees (append-only triggers), and
  what a stale entry relies on to conflict. Where it went back (lost commits), the point
  above holds for appends; reads that need no append (`load` of a stream nobody appends to
  again) may still serve the lost state until the stream is forgotten or the process
  restarts.

When they are dropped:

- A rollback drops nothing, and needs not: on_commit callbacks of a rolled-back transaction
  never run, and reads inside a transaction are not cached.
- Eviction: the least recently used entries beyond HEADS_KEPT and STATES_KEPT.
- Process exit: a worker restart starts empty.
- `forget(stream_id)`: when the database refused an append onto the stream's cached head.
- `clear()`: when the log behind the process went back in time, which only tests do (they
  truncate the log between tests that commit, see tests/conftest.py `wipe_ledger`). A
  database restored from a backup or failed over to a replica that lost commits breaks the
  "only grows" assumption in the same way: appends recover by themselves (`forget`), but
  restart the workers (or call clear()) then so that reads do too.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from eventstore.store.rows import NO_HEAD, Head
from eventstore.types import NO_STREAM, StreamRef

HEADS_KEPT = 10_000
STATES_KEPT = 5_000


class CachedHead(NamedTuple):
    """The newest committed event of a stream that this process wrote or read."""

    version: int
    hash: bytes
    stream_type: str
    recorded_at: datetime


heads: OrderedDict[uuid.UUID, CachedHead] = OrderedDict()
states: OrderedDict[tuple[uuid.UUID, Callable[..., Any]], tuple[int, Any]] = OrderedDict()


def remember_head(
    stream_id: uuid.UUID, version: int, hash_: bytes, stream_type: str, recorded_at: datetime
) -> None:
    """Keep a committed head (called on commit, or for a read outside a transaction)."""
    heads[stream_id] = CachedHead(version, hash_, stream_type, recorded_at)
    heads.move_to_end(stream_id)
    while len(heads) > HEADS_KEPT:
        heads.popitem(last=False)


def known_head(stream: StreamRef, expected: int) -> Head | None:
    """The head an append at `expected` chains onto, when known without reading the log."""
    if expected == NO_STREAM:
        return NO_HEAD
    cached = heads.get(stream.id)
    if cached is None or cached.version != expected or cached.stream_type != stream.type:
        return None
    return Head(cached.version, cached.hash, cached.recorded_at)


def known_state(stream_id: uuid.UUID, evolve: Callable[..., Any], initial: Any) -> tuple[int, Any]:
    """(version, state) of the newest committed fold known, or (0, initial)."""
    return states.get((stream_id, evolve), (0, initial))


def keep_state(stream_id: uuid.UUID, evolve: Callable[..., Any], version: int, state: Any) -> None:
    states[(stream_id, evolve)] = (version, state)
    states.move_to_end((stream_id, evolve))
    while len(states) > STATES_KEPT:
        states.popitem(last=False)


def forget(stream_id: uuid.UUID) -> None:
    """Forget the stream's head and states (the database refused an append onto its cached
    head: the log does not hold it)."""
    heads.pop(stream_id, None)
    for key in [key for key in states if key[0] == stream_id]:
        del states[key]


def clear() -> None:
    """Forget every head and state (the log behind this process went back in time)."""
    heads.clear()
    states.clear()
