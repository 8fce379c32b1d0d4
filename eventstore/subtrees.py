"""Stored hashes of the log's complete subtrees, and the consistency proofs served from them.

The Merkle tree of the log (RFC 6962) is made of aligned subtrees: node (level, index) covers
leaves [index << level, (index + 1) << level). Once the log holds all of those leaves the node's
hash never changes, so the checkpoint writer stores it in `eventstore_subtree` (append-only like
the other log tables) for every level from SUBTREE_LEVEL up, as it signs a checkpoint. Below
that level, nodes are hashed from at most 2^SUBTREE_LEVEL stored leaves each time.

A range [begin, end) that begins on a multiple of the smallest power of two >= its length is a
node of some tree of the log (every range a proof names is). Its hash MTH(D[begin:end]) is the
fold of the aligned complete subtrees it splits into, largest first: the ones from
SUBTREE_LEVEL up are read from the table, the tail below it (fewer than 2^SUBTREE_LEVEL leaves)
from eventstore_leaf. A consistency proof names O(log n) ranges that share their right edge, so
it reads O(log n) nodes and O(2^SUBTREE_LEVEL) leaves, whatever the size of the log.

The stored level is fixed for the life of a database: the writer stores from it, the proofs
expect to find nodes from it; 64-leaf subtrees keep the table at 1/32 of the leaf count."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator

from django.db import connection, transaction

from eventstore import merkle

SUBTREE_LEVEL = 6
FLUSH = 1000  # nodes inserted per statement while filling


class SubtreesMissing(LookupError):
    """The stored leaves or subtree hashes do not cover the range asked about."""


def _level(level: int | None) -> int:
    return SUBTREE_LEVEL if level is None else level


def _parts(begin: int, end: int) -> list[tuple[int, int]]:
    """The aligned complete subtrees (level, index) that make [begin, end), largest first."""
    size = end - begin
    if size <= 0 or begin < 0:
        raise ValueError(f"[{begin}, {end}) is not a non-empty range of leaves")
    if begin % (1 << (size - 1).bit_length()):
        raise ValueError(f"[{begin}, {end}) is not a node of any tree of the log")
    parts, at = [], begin
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            parts.append((level, at >> level))
            at += 1 << level
    return parts


def _fold(hashes: list[bytes]) -> bytes:
    root = hashes[-1]
    for h in reversed(hashes[:-1]):
        root = merkle.node_hash(h, root)
    return root


class RangeHasher:
    """Hashes of ranges of the log, resolved together: one query for the stored nodes and one
    for the leaves every range needs."""

    def __init__(self, level: int | None = None) -> None:
        self.level = _level(level)
        self.ranges: list[tuple[int, int]] = []

    def add(self, begin: int, end: int) -> None:
        _parts(begin, end)
        self.ranges.append((begin, end))

    def _needs(self) -> tuple[set[tuple[int, int]], set[int]]:
        nodes, leaves = set(), set()
        for begin, end in self.ranges:
            for level, index in _parts(begin, end):
                if level >= self.level:
                    nodes.add((level, index))
                else:
                    leaves.update(range(index << level, (index + 1) << level))
        return nodes, leaves

    def hashes(self) -> list[bytes]:
        """MTH(D[begin:end]) of each range added, in the order they were added."""
        keys, indices = self._needs()
        nodes = read_nodes(keys)
        leaves = read_leaves(indices)
        if len(nodes) != len(keys):
            missing = min(keys - nodes.keys())
            raise SubtreesMissing(f"subtree {missing} of the log is not stored")
        if len(leaves) != len(indices):
            raise SubtreesMissing(f"leaf {min(indices - leaves.keys())} of the log is not stored")
        out = []
        for begin, end in self.ranges:
            parts = []
            for level, index in _parts(begin, end):
                if level >= self.level:
                    parts.append(nodes[level, index])
                else:
                    first = index << level
                    span = [leaves[i] for i in range(first, first + (1 << level))]
                    parts.append(merkle.root_from_leaf_hashes(span))
            out.append(_fold(parts))
        return out


def range_hash(begin: int, end: int, *, level: int | None = None) -> bytes:
    """MTH(D[begin:end]) from stored subtree hashes and fewer than 2^level leaves."""
    hasher = RangeHasher(level)
    hasher.add(begin, end)
    return hasher.hashes()[0]


def read_nodes(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    keys = sorted(keys)
    if not keys:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            # One primary-key probe per node: a join could hash the whole table instead.
            "SELECT k.level, k.index, s.hash FROM unnest(%s::smallint[], %s::bigint[])"
            " AS k(level, index) CROSS JOIN LATERAL (SELECT hash FROM eventstore_subtree"
            " WHERE level = k.level AND index = k.index LIMIT 1) AS s",
            ([k[0] for k in keys], [k[1] for k in keys]),
        )
        return {(row[0], row[1]): bytes(row[2]) for row in cursor.fetchall()}


def read_leaves(indices: Iterable[int]) -> dict[int, bytes]:
    indices = sorted(indices)
    if not indices:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT leaf_index, leaf_hash FROM eventstore_leaf"
            " WHERE leaf_index = ANY(%s::bigint[])",
            (indices,),
        )
        return {row[0]: bytes(row[1]) for row in cursor.fetchall()}


def consistency_proof(old_size: int, new_size: int, *, level: int | None = None) -> list[bytes]:
    """PROOF(old_size, D[new_size]) of RFC 6962 section 2.1.2, equal to
    merkle.consistency_proof over the first new_size leaves, without reading them all."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    if not read_leaves([new_size - 1]):
        raise SubtreesMissing(f"the log has fewer than {new_size} leaves")
    # The iteration of merkle.consistency_proof, naming ranges instead of hashing leaves.
    hasher = RangeHasher(level)
    begin, end, m, old_root_known = 0, new_size, old_size, True
    while m != end - begin:
        split = 1 << ((end - begin - 1).bit_length() - 1)
        if m <= split:
            hasher.add(begin + split, end)
            end = begin + split
        else:
            hasher.add(begin, begin + split)
            begin += split
            m -= split
            old_root_known = False
    hasher.ranges.reverse()
    if not old_root_known:
        hasher.ranges.insert(0, (begin, end))
    return hasher.hashes()


# -- the writer's side ----------------------------------------------------------------------


def _stored_size(level: int) -> int:
    """Leaves covered by the stored nodes of `level` (they are stored in order, so the last)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(index) FROM eventstore_subtree WHERE level = %s", (level,))
        last = cursor.fetchone()[0]
    return 0 if last is None else (last + 1) << level


def _blocks(start: int, stop: int, level: int, batch: int = 10_000) -> Iterator[bytes]:
    """MTH of each block of 2^level leaves in [start, stop), streamed from the leaf table."""
    width = 1 << level
    with (
        transaction.atomic(),
        connection.connection.cursor(name=f"subtrees_{uuid.uuid4().hex}") as cursor,
    ):
        cursor.itersize = batch
        cursor.execute(
            "SELECT leaf_hash FROM eventstore_leaf WHERE leaf_index >= %s AND leaf_index < %s"
            " ORDER BY leaf_index",
            (start, stop),
        )
        block: list[bytes] = []
        count = 0
        while rows := cursor.fetchmany(batch):
            for row in rows:
                block.append(bytes(row[0]))
                count += 1
                if len(block) == width:
                    yield merkle.root_from_leaf_hashes(block)
                    block = []
    if count != stop - start:
        raise SubtreesMissing(f"the log has fewer than {stop} leaves")


def _insert(rows: list[tuple[int, int, bytes]]) -> None:
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO eventstore_subtree (level, index, hash)"
            " SELECT * FROM unnest(%s::smallint[], %s::bigint[], %s::bytea[])",
            ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]),
        )
    rows.clear()


def store(tree_size: int, *, level: int | None = None) -> int:
    """Store every complete subtree of the first `tree_size` leaves from `level` up that is not
    stored yet, reading only the leaves past the stored ones (in batches); returns the number
    of nodes added. Run under the sequencer's lock (the checkpoint writer) or alone (the
    migration that fills the table for a log that had checkpoints before it)."""
    level = _level(level)
    start, stop = _stored_size(level), tree_size >> level << level
    if stop <= start:
        return 0
    # Left siblings still waiting for their right half: one per set bit of the stored count,
    # as in merkle.CompactRange, but keyed by level.
    count = start >> level
    waiting_keys = [
        (level + bit, (count >> bit) - 1) for bit in range(count.bit_length()) if count >> bit & 1
    ]
    waiting = {k[0]: h for k, h in read_nodes(waiting_keys).items()}
    if len(waiting) != len(waiting_keys):
        raise SubtreesMissing("the stored subtrees have a gap; the table was changed")
    rows: list[tuple[int, int, bytes]] = []
    added = 0
    for index, node in enumerate(_blocks(start, stop, level), start=count):
        at, i = level, index
        rows.append((at, i, node))
        while i & 1:
            node = merkle.node_hash(waiting.pop(at), node)
            at, i = at + 1, i >> 1
            rows.append((at, i, node))
        waiting[at] = node
        if len(rows) >= FLUSH:
            added += len(rows)
            _insert(rows)
    added += len(rows)
    _insert(rows)
    return added
