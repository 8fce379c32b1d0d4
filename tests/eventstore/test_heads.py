"""The stream-heads tree each checkpoint signs: proofs of a stream's head and of a stream's
absence agree with a brute-force reference (every leaf built and hashed from scratch), and
the database's heads follow the log through checkpoints."""

from __future__ import annotations

import hashlib
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from eventstore import checkpoints, merkle, store, stream_heads
from eventstore.heads import HeadProof, head_leaf_input, verify_absent
from eventstore.models import Event
from eventstore.types import NO_STREAM
from tests.conftest import events, new_stream

# -- the construction, against a reference written from the README's encoding ---------------


def _reference_leaf(stream: uuid.UUID, version: int, head: bytes) -> bytes:
    """README: 0x00 || stream id's 16 bytes || version as 8 big-endian bytes || head hash."""
    return hashlib.sha256(b"\x00" + stream.bytes + version.to_bytes(8, "big") + head).digest()


def _reference_root(nodes: list[bytes]) -> bytes:
    """RFC 6962 MTH by its recursive definition."""
    if not nodes:
        return hashlib.sha256(b"").digest()
    if len(nodes) == 1:
        return nodes[0]
    split = 1 << ((len(nodes) - 1).bit_length() - 1)
    return hashlib.sha256(
        b"\x01" + _reference_root(nodes[:split]) + _reference_root(nodes[split:])
    ).digest()


heads_strategy = st.dictionaries(
    st.uuids(),
    st.tuples(st.integers(min_value=1, max_value=2**63), st.binary(min_size=32, max_size=32)),
    max_size=40,
)


def _tree(heads: dict) -> tuple[list[tuple[uuid.UUID, int, bytes]], list[bytes], bytes]:
    ordered = sorted((stream, version, head) for stream, (version, head) in heads.items())
    leaves = [_reference_leaf(*row) for row in ordered]
    return ordered, leaves, _reference_root(leaves)


def _proof(ordered, leaves, index: int) -> HeadProof:
    stream, version, head = ordered[index]
    path = merkle.inclusion_proof(leaves, index, len(leaves))
    return HeadProof(str(stream), version, head, index, len(leaves), tuple(path))


@settings(max_examples=150, deadline=None)
@given(heads=heads_strategy, probe=st.uuids())
def test_head_and_absence_proofs_agree_with_the_brute_force_tree(heads, probe):
    ordered, leaves, root = _tree(heads)
    assert merkle.root_from_leaf_hashes(leaves) == root
    assert [merkle.leaf_hash(head_leaf_input(*row)) for row in ordered] == leaves
    # Sorting by the UUID's bytes is sorting by its text, and by PostgreSQL's uuid order.
    assert sorted(str(s) for s, _, _ in ordered) == [str(s) for s, _, _ in ordered]
    for index in range(len(ordered)):
        proof = _proof(ordered, leaves, index)
        assert proof.verify(root)
        assert HeadProof.from_json(proof.as_json()) == proof
        stream, version, head = ordered[index]
        assert not HeadProof(str(stream), version + 1, head, index, len(leaves), proof.path).verify(
            root
        )
    if probe in heads:
        return
    rank = sum(1 for stream, _, _ in ordered if stream < probe)
    before = _proof(ordered, leaves, rank - 1) if rank > 0 else None
    after = _proof(ordered, leaves, rank) if rank < len(ordered) else None
    assert verify_absent(str(probe), before, after, len(leaves), root)
    # Neighbours that are not adjacent, or one side left out, prove nothing.
    if before is not None and after is not None:
        assert not verify_absent(str(probe), before, None, len(leaves), root)
        assert not verify_absent(str(probe), None, after, len(leaves), root)
    if rank + 1 < len(ordered) and before is not None:
        skipped = _proof(ordered, leaves, rank + 1)
        assert not verify_absent(str(probe), before, skipped, len(leaves), root)
    # A stream that is in the tree cannot be proven absent.
    if ordered:
        present = str(ordered[0][0])
        first = _proof(ordered, leaves, 0)
        assert not verify_absent(present, None, first, len(leaves), root)
        assert not verify_absent(present, first, None, len(leaves), root)


# -- the database's heads, as the checkpoints sign them ---------------------------------------


def _heads_from_events(size: int) -> dict[uuid.UUID, tuple[int, bytes]]:
    """Every stream's last event among the first `size` leaves, from the log itself."""
    leaves = checkpoints.leaf_hashes(0, size)
    by_leaf = {
        merkle.leaf_hash(bytes(e.hash)): e
        for e in Event.objects.only("stream_id", "version", "hash")
    }
    heads: dict[uuid.UUID, tuple[int, bytes]] = {}
    for leaf in leaves:
        event = by_leaf[leaf]
        if event.version > heads.get(event.stream_id, (0, b""))[0]:
            heads[event.stream_id] = (event.version, bytes(event.hash))
    return heads


def test_each_checkpoint_signs_the_heads_of_every_stream(pristine_ledger, meta):
    streams = [new_stream() for _ in range(5)]
    for stream in streams[:3]:
        store.append(stream, NO_STREAM, events("Made", "Changed"), meta)
    first = checkpoints.write_checkpoint()
    _, _, expected = _tree(_heads_from_events(first.tree_size))
    assert (bytes(first.heads_root), first.heads_count) == (expected, 3)
    assert first.note.endswith(f"heads 3 {checkpoints._b64(expected)}\n")
    assert first.previous_size is None and "\nprevious " not in first.note
    store.append(streams[0], 2, events("Closed"), meta)
    store.append(streams[3], NO_STREAM, events("Made"), meta)
    second = checkpoints.write_checkpoint()
    _, _, expected = _tree(_heads_from_events(second.tree_size))
    assert (bytes(second.heads_root), second.heads_count) == (expected, 4)
    assert (second.previous_size, bytes(second.previous_root)) == (
        first.tree_size,
        bytes(first.root_hash),
    )
    assert f"\nprevious {first.tree_size} {checkpoints._b64(bytes(first.root_hash))}\n" in (
        second.note
    )
    assert checkpoints.signature_valid(first) and checkpoints.signature_valid(second)

    heads = stream_heads.proofs([streams[0].id, streams[3].id, streams[4].id])
    assert (heads.tree_size, heads.size, heads.root) == (second.tree_size, 4, expected)
    zero = heads.proofs[str(streams[0].id)]
    assert (zero.version, zero.verify(expected)) == (3, True)
    assert heads.proofs[str(streams[3].id)].version == 1
    before, after = heads.absent[str(streams[4].id)]
    assert verify_absent(str(streams[4].id), before, after, 4, expected)


def test_events_after_the_checkpoint_do_not_move_its_heads(pristine_ledger, meta):
    stream = new_stream()
    store.append(stream, NO_STREAM, events("Made"), meta)
    signed = checkpoints.write_checkpoint()
    store.append(stream, 1, events("Changed"), meta)
    checkpoints.sequence()  # sequenced, not yet signed
    heads = stream_heads.proofs([stream.id])
    assert heads.tree_size == signed.tree_size
    assert heads.root == bytes(signed.heads_root)
    assert heads.proofs[str(stream.id)].version == 1


def test_verify_ledger_checks_the_checkpoint_chain_and_the_signed_heads(pristine_ledger, meta):
    from eventstore.verify import verify
    from tests.conftest import without_append_only

    stream = new_stream()
    store.append(stream, NO_STREAM, events("Made"), meta)
    first = checkpoints.write_checkpoint()
    store.append(stream, 1, events("Changed"), meta)
    second = checkpoints.write_checkpoint()
    assert verify().ok
    without_append_only(
        "UPDATE eventstore_checkpoint SET heads_count = heads_count + 1 WHERE id = %s",
        (second.id,),
    )
    problems = [p.message for p in verify().problems]
    assert f"checkpoint {second.id} (tree size {second.tree_size}) signed stream heads that" in (
        " ".join(problems)
    )
    without_append_only("DELETE FROM eventstore_checkpoint WHERE id = %s", (first.id,))
    problems = [p.message for p in verify().problems]
    assert any("names as previous a checkpoint of size" in p for p in problems)
