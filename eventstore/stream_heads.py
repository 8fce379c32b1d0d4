"""Where every stream ends, as of the newest checkpoint: the table behind the heads tree
(eventstore/heads.py) that each checkpoint signs, and the proofs a bundle carries.

The checkpoint writer calls `advance` and `root` in the transaction that signs the next
checkpoint, under the sequencer's lock; readers take the same lock shared (`proofs`), so they
see the heads of exactly the newest checkpoint."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction

from eventstore import merkle
from eventstore.heads import HeadProof

SEQUENCER_LOCK = 0x6C6564676572  # pg_advisory_xact_lock key: the sequencer and checkpoint writer
# take it exclusive, readers of the heads table shared

# The 56-byte leaf input of eventstore/heads.py, in SQL: uuid_send and int8send are the UUID's
# 16 bytes and the version's 8 big-endian bytes.
_LEAF_SQL = "sha256('\\x00'::bytea || uuid_send(stream_id) || int8send(version) || hash)"


def advance(cursor, from_size: int, to_size: int) -> None:
    """Bring every stream's head forward to the leaves [from_size, to_size)."""
    cursor.execute(
        "INSERT INTO eventstore_stream_head (stream_id, version, hash, leaf_index)"
        " SELECT DISTINCT ON (l.stream_id) l.stream_id, l.version, e.hash, l.leaf_index"
        "   FROM eventstore_leaf l JOIN eventstore_event e ON e.position = l.position"
        "  WHERE l.leaf_index >= %s AND l.leaf_index < %s"
        "  ORDER BY l.stream_id, l.version DESC"
        " ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version,"
        "   hash = EXCLUDED.hash, leaf_index = EXCLUDED.leaf_index"
        " WHERE eventstore_stream_head.version < EXCLUDED.version",
        (from_size, to_size),
    )
    cursor.execute("UPDATE eventstore_sequencer SET heads_size = %s WHERE id = 1", (to_size,))


def heads_size(cursor) -> int:
    """The tree size whose heads the table holds."""
    cursor.execute("SELECT heads_size FROM eventstore_sequencer WHERE id = 1")
    return cursor.fetchone()[0]


def _leaf_hashes(batch: int = 10_000) -> Iterator[bytes]:
    """The heads tree's leaf hashes in stream-id order, from a server-side cursor (inside
    the caller's transaction)."""
    with connection.connection.cursor(name=f"heads_{uuid.uuid4().hex}") as cursor:
        cursor.itersize = batch
        cursor.execute(f"SELECT {_LEAF_SQL} FROM eventstore_stream_head ORDER BY stream_id")
        while rows := cursor.fetchmany(batch):
            for row in rows:
                yield bytes(row[0])


def root(cursor) -> tuple[bytes, int]:
    """The heads tree's root and its number of streams."""
    compact = merkle.CompactRange()
    for leaf in _leaf_hashes():
        compact.append(leaf)
    return compact.root(), compact.size


@dataclass(frozen=True)
class Heads:
    """The heads tree of one checkpoint: its size and root, the proven head of each stream
    asked about that has one, and the neighbours proving the others absent."""

    tree_size: int
    size: int
    root: bytes
    proofs: dict[str, HeadProof]
    absent: dict[str, tuple[HeadProof | None, HeadProof | None]]


def _rows(batch: int = 10_000) -> Iterator[tuple[str, int, bytes]]:
    """(stream id, version, head hash) of every stream in stream-id order."""
    with connection.connection.cursor(name=f"heads_{uuid.uuid4().hex}") as cursor:
        cursor.itersize = batch
        cursor.execute(
            "SELECT stream_id, version, hash FROM eventstore_stream_head ORDER BY stream_id"
        )
        while rows := cursor.fetchmany(batch):
            for stream, version, head in rows:
                yield str(stream), version, bytes(head)


def proofs(streams: Iterable[uuid.UUID | str]) -> Heads:
    """Head proofs of `streams` (and absence proofs of those without events) in the heads tree
    of the newest checkpoint, in two streamed passes over the heads; memory grows with the
    streams asked about, not with the log."""
    wanted = sorted({str(uuid.UUID(str(s))) for s in streams})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", (SEQUENCER_LOCK,))
        size_of_tree = heads_size(cursor)
        # Pass 1: each wanted stream's leaf, or the leaves on either side of where it sorts.
        leaves: dict[int, tuple[str, int, bytes]] = {}
        places: dict[str, tuple[int, ...]] = {}
        at, previous, count = 0, None, 0
        for index, row in enumerate(_rows()):
            while at < len(wanted) and wanted[at] <= row[0]:
                if wanted[at] == row[0]:
                    places[row[0]] = (index,)
                    leaves[index] = row
                else:
                    places[wanted[at]] = (index - 1, index) if previous else (-1, index)
                    leaves[index] = row
                    if previous:
                        leaves[index - 1] = previous
                at += 1
            previous, count = row, index + 1
        for stream in wanted[at:]:
            places[stream] = (count - 1, -1) if previous else (-1, -1)
            if previous:
                leaves[count - 1] = previous
        # Pass 2: the audit paths of those leaves.
        paths = merkle.AuditPaths(count, leaves)
        tree_root = paths.feed(_leaf_hashes())

    def proof(index: int) -> HeadProof | None:
        if index < 0:
            return None
        stream, version, head = leaves[index]
        return HeadProof(stream, version, head, index, count, tuple(paths.path(index)))

    found = {s: proof(p[0]) for s, p in places.items() if len(p) == 1}
    absent = {s: (proof(p[0]), proof(p[1])) for s, p in places.items() if len(p) == 2}
    return Heads(size_of_tree, count, tree_root, found, absent)
