"""Consistency proofs served from stored subtree hashes equal the proofs over every leaf, and
read a bounded number of rows whatever the size of the log."""

from __future__ import annotations

import importlib

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore import checkpoints, merkle, store, subtrees
from eventstore.types import NO_STREAM
from tests.conftest import events, new_stream

pytestmark = pytest.mark.django_db
LEVEL = 2  # four-leaf subtrees: a few hundred leaves reach eight stored levels


def _append_leaves(start: int, stop: int) -> None:
    """Leaves as the sequencer would add them, without events behind them: the proofs only
    read leaf hashes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO eventstore_leaf (leaf_index, position, stream_id, version, leaf_hash)"
            " SELECT i, i, gen_random_uuid(), 1, sha256('\\x00'::bytea || int8send(i))"
            " FROM generate_series(%s::bigint, %s::bigint - 1) AS i",
            (start, stop),
        )


def _stored() -> dict[tuple[int, int], bytes]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT level, index, hash FROM eventstore_subtree")
        return {(row[0], row[1]): bytes(row[2]) for row in cursor.fetchall()}


def _expected_nodes(leaves: list[bytes], level: int) -> dict[tuple[int, int], bytes]:
    nodes = {}
    for at in range(level, len(leaves).bit_length()):
        for index in range(len(leaves) >> at):
            nodes[at, index] = merkle.root_from_leaf_hashes(leaves[index << at : (index + 1) << at])
    return nodes


@pytest.fixture
def empty_log():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM eventstore_leaf")
        assert cursor.fetchone()[0] == 0


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    batches=st.lists(st.integers(min_value=0, max_value=90), min_size=1, max_size=6),
    data=st.data(),
)
def test_proofs_from_stored_subtrees_equal_proofs_over_every_leaf_when_the_log_grows(
    empty_log, batches, data
):
    with transaction.atomic():
        size = 0
        for batch in batches:
            _append_leaves(size, size + batch)
            size += batch
            subtrees.store(size, level=LEVEL)
        leaves = checkpoints.leaf_hashes(0, size)
        assert _stored() == _expected_nodes(leaves, LEVEL)
        new = data.draw(st.integers(min_value=0, max_value=size), label="new")
        for old in sorted({0, 1, new // 2, new, *data.draw(st.lists(st.integers(0, new)))}):
            if old <= new:
                assert subtrees.consistency_proof(old, new, level=LEVEL) == (
                    merkle.consistency_proof(leaves, old, new)
                ), (old, new)
        if size:
            begin = data.draw(st.integers(min_value=0, max_value=size - 1), label="begin")
            width = begin & -begin if begin else size  # begin's alignment bounds the width
            end = data.draw(st.integers(begin + 1, min(size, begin + width)), label="end")
            expected = merkle.root_from_leaf_hashes(leaves[begin:end])
            assert subtrees.range_hash(begin, end, level=LEVEL) == expected
        transaction.set_rollback(True)


def test_range_hash_refuses_a_range_that_is_no_node_of_the_log(empty_log):
    _append_leaves(0, 16)
    subtrees.store(16, level=LEVEL)
    with pytest.raises(ValueError, match="not a node"):
        subtrees.range_hash(2, 6, level=LEVEL)
    with pytest.raises(ValueError, match="not a non-empty range"):
        subtrees.range_hash(3, 3, level=LEVEL)


def _reads(table: str) -> tuple[int, int]:
    """(rows read, sequential scans) of a table so far in this transaction, as PostgreSQL
    counts them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0), coalesce(seq_scan, 0)"
            " FROM pg_stat_xact_user_tables WHERE relname = %s",
            (table,),
        )
        return cursor.fetchone()


def test_a_consistency_proof_reads_a_bounded_number_of_rows_when_the_log_is_large(empty_log):
    size, level = 1 << 14, 4
    _append_leaves(0, size)
    subtrees.store(size, level=level)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE eventstore_leaf, eventstore_subtree")
    leaves = checkpoints.leaf_hashes(0, size)
    # Leaves read by PostgreSQL's own count, in this transaction: the writer's pass above and
    # the full read just made, then each proof's reads on top.
    for old, new in [(1, size), (5, 9999), (4097, 16000), (size // 2 + 3, size - 1), (777, 778)]:
        leaves_before, leaf_scans = _reads("eventstore_leaf")
        nodes_before, node_scans = _reads("eventstore_subtree")
        proof = subtrees.consistency_proof(old, new, level=level)
        leaves_after, leaf_scans_after = _reads("eventstore_leaf")
        nodes_after, node_scans_after = _reads("eventstore_subtree")
        assert proof == merkle.consistency_proof(leaves, old, new)
        assert (leaf_scans_after, node_scans_after) == (leaf_scans, node_scans)
        assert leaves_after - leaves_before <= 2 * (1 << level) + 1, (old, new)
        assert nodes_after - nodes_before <= 2 * new.bit_length(), (old, new)


def test_checkpoints_store_their_subtrees_and_serve_proofs_from_them(
    pristine_ledger, meta, monkeypatch
):
    monkeypatch.setattr(subtrees, "SUBTREE_LEVEL", 1)
    written = []
    for count in (3, 5, 1, 8):
        for _ in range(count):
            store.append(new_stream(), NO_STREAM, events("A", "B"), meta)
        written.append(checkpoints.write_checkpoint())
    size = written[-1].tree_size
    leaves = checkpoints.leaf_hashes(0, size)
    assert _stored() == _expected_nodes(leaves, 1)
    # A checkpoint's frontier holds the roots of its largest subtrees: the stored ones.
    for checkpoint in written:
        tops = subtrees._parts(0, checkpoint.tree_size)
        stored = _stored()
        for (level, index), hexed in zip(tops, checkpoint.frontier, strict=True):
            if level >= 1:
                assert stored[level, index].hex() == hexed
    for old in written:
        for new in written:
            if old.tree_size <= new.tree_size:
                proof = checkpoints.consistency_proof(old.tree_size, new.tree_size)
                assert proof == merkle.consistency_proof(leaves, old.tree_size, new.tree_size)
                assert checkpoints.verify_consistency(old, new, proof)


def test_the_migration_fills_the_subtrees_of_a_log_signed_before_it(empty_log):
    migration = importlib.import_module("eventstore.migrations.0006_subtrees")
    _append_leaves(0, 1000)
    migration.fill(None, connection.schema_editor())
    stored = _stored()
    assert stored == _expected_nodes(checkpoints.leaf_hashes(0, 1000), subtrees.SUBTREE_LEVEL)
    assert len(stored) == 15 + 7 + 3 + 1  # 1000 leaves: subtrees of 64, 128, 256, 512
    assert checkpoints.consistency_proof(700, 1000) == merkle.consistency_proof(
        checkpoints.leaf_hashes(0, 1000), 700, 1000
    )
    with pytest.raises(checkpoints.ProofUnavailable):
        checkpoints.consistency_proof(700, 1001)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE eventstore_subtree SET hash = sha256(hash)",
        "DELETE FROM eventstore_subtree",
        "TRUNCATE eventstore_subtree",
    ],
)
def test_stored_subtrees_cannot_be_changed_when_the_triggers_are_on(empty_log, statement):
    _append_leaves(0, 8)
    subtrees.store(8, level=LEVEL)
    before = _stored()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert _stored() == before
