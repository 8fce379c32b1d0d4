"""Tamper evidence: verify_ledger names the first bad event, checkpoints catch deletions, and
consistency proofs fail after history is rewritten."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from eventstore import checkpoints, merkle, store
from eventstore.canonical import canonical_json
from eventstore.hashing import GENESIS, recorded_hash
from eventstore.models import Checkpoint, Event, LedgerLeaf
from eventstore.types import NO_STREAM, NewEvent
from eventstore.verify import verify
from tests.conftest import events, new_stream, without_append_only


def _fill(meta, streams: int = 3, per_stream: int = 4):
    refs = []
    for _ in range(streams):
        stream = new_stream()
        store.append(stream, NO_STREAM, events(*[f"E{i}" for i in range(per_stream)]), meta)
        refs.append(stream)
    return refs


def _rewrite_carefully(stream_id, version: int, new_data: dict) -> None:
    """An attacker with superuser rights: change an event's data and recompute its hash and
    every later hash in the stream, so the chain alone still holds."""
    prev = GENESIS
    for event in store.read_stream(stream_id, upcast=False):
        if event.version == version:
            event = replace(event, data=new_data)
        digest = recorded_hash(replace(event, prev_hash=prev))
        without_append_only(
            "UPDATE eventstore_event SET data = %s::jsonb, prev_hash = %s, hash = %s"
            " WHERE position = %s",
            (canonical_json(event.data).decode(), prev, digest, event.position),
        )
        prev = digest


def test_verify_ledger_passes_when_nothing_was_changed(pristine_ledger, meta):
    _fill(meta)
    checkpoints.write_checkpoint()
    _fill(meta, streams=1)
    call_command("verify_ledger")
    report = verify()
    assert report.ok
    assert (report.events, report.streams, report.leaves, report.checkpoints) == (16, 4, 12, 1)


@pytest.mark.django_db
def test_verify_ledger_names_the_event_when_its_data_changed_behind_the_application(meta):
    streams = _fill(meta)
    target = Event.objects.get(stream_id=streams[1].id, version=2)
    without_append_only(
        "UPDATE eventstore_event SET data = jsonb_set(data, '{n}', '99') WHERE position = %s",
        (target.position,),
    )
    with pytest.raises(CommandError) as failed:
        call_command("verify_ledger")
    assert f"event #{target.position} " in str(failed.value)
    assert str(streams[1].id) in str(failed.value)
    assert "does not match its hash" in str(failed.value)


@pytest.mark.django_db
def test_verify_ledger_names_the_first_bad_event_when_several_changed(meta):
    streams = _fill(meta)
    first = Event.objects.get(stream_id=streams[0].id, version=3)
    later = Event.objects.get(stream_id=streams[2].id, version=1)
    for target in (later, first):
        without_append_only(
            'UPDATE eventstore_event SET metadata = metadata || \'{"actor": "user:666"}\''
            " WHERE position = %s",
            (target.position,),
        )
    report = verify()
    assert len(report.problems) == 2
    assert report.first_problem.startswith(f"event #{first.position} ")


@pytest.mark.django_db
def test_verify_ledger_names_the_gap_when_an_event_inside_a_stream_is_deleted(meta):
    streams = _fill(meta)
    middle = Event.objects.get(stream_id=streams[0].id, version=2)
    without_append_only("DELETE FROM eventstore_event WHERE position = %s", (middle.position,))
    report = verify()
    assert f"stream {streams[0].id}: version 2 is missing" in report.first_problem


def test_checkpoint_names_the_missing_head_when_a_streams_newest_event_is_deleted(
    pristine_ledger, meta
):
    streams = _fill(meta)
    checkpoints.write_checkpoint()
    newest = Event.objects.get(stream_id=streams[2].id, version=4)
    without_append_only("DELETE FROM eventstore_event WHERE position = %s", (newest.position,))
    report = verify()
    assert not report.ok
    assert f"stream {streams[2].id}: head version 4 is missing" in report.first_problem
    with pytest.raises(CommandError, match="head version 4 is missing"):
        call_command("verify_ledger")


def test_checkpoint_catches_deletion_when_the_leaf_is_removed_too(pristine_ledger, meta):
    streams = _fill(meta)
    checkpoints.write_checkpoint()
    newest = Event.objects.get(stream_id=streams[2].id, version=4)
    without_append_only("DELETE FROM eventstore_leaf WHERE position = %s", (newest.position,))
    without_append_only("DELETE FROM eventstore_event WHERE position = %s", (newest.position,))
    report = verify()
    assert not report.ok
    assert report.first_problem.endswith("leaf 11 is missing (events after leaf 10 were removed)")
    assert "signed 12 leaves but the log has only 11" in report.first_problem
    with pytest.raises(CommandError, match="leaf 11 is missing"):
        call_command("verify_ledger")


def test_verify_ledger_names_every_missing_leaf_when_leaves_inside_the_tree_are_removed(
    pristine_ledger, meta
):
    streams = _fill(meta)
    checkpoints.write_checkpoint()
    removed = Event.objects.filter(stream_id=streams[1].id, version__in=(2, 3))
    positions = sorted(removed.values_list("position", flat=True))
    for position in positions:
        without_append_only("DELETE FROM eventstore_leaf WHERE position = %s", (position,))
    report = verify()
    assert report.first_problem == "leaves 5 to 6 are missing from the tree"


def test_leaves_and_checkpoints_cannot_be_changed_when_the_triggers_are_on(pristine_ledger, meta):
    _fill(meta, streams=1)
    checkpoints.write_checkpoint()
    before = (
        list(LedgerLeaf.objects.order_by("leaf_index").values_list()),
        list(Checkpoint.objects.order_by("id").values_list()),
    )
    for statement in (
        "UPDATE eventstore_leaf SET leaf_hash = sha256(leaf_hash)",
        "DELETE FROM eventstore_leaf",
        "TRUNCATE eventstore_leaf",
        "UPDATE eventstore_checkpoint SET tree_size = tree_size + 1",
        "DELETE FROM eventstore_checkpoint",
        "TRUNCATE eventstore_checkpoint",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    after = (
        list(LedgerLeaf.objects.order_by("leaf_index").values_list()),
        list(Checkpoint.objects.order_by("id").values_list()),
    )
    assert after == before
    assert len(before[0]) == 4 and len(before[1]) == 1
    assert verify().ok


def test_careful_rewrite_is_caught_by_the_checkpoint_when_chains_were_recomputed(
    pristine_ledger, meta
):
    streams = _fill(meta)
    checkpoints.write_checkpoint()
    _rewrite_carefully(streams[0].id, 2, {"n": "rewritten"})
    report = verify()
    # Every chain holds after the careful rewrite; only the signed trees betray it: the log's
    # (stage 3) and the stream heads' (stage 4), since the stream's head hash changed.
    assert {p.order[0] for p in report.problems} == {3, 4}
    assert any("signed stream heads that are not the heads" in p.message for p in report.problems)
    assert "changed after it was sequenced" in report.first_problem
    assert f"stream {streams[0].id} version 2" in report.first_problem


def test_forged_checkpoint_is_rejected_when_not_signed_by_a_trusted_key(pristine_ledger, meta):
    _fill(meta)
    checkpoint = checkpoints.write_checkpoint()
    without_append_only(
        "UPDATE eventstore_checkpoint SET signature = %s WHERE id = %s",
        (bytes(64), checkpoint.id),
    )
    report = verify()
    assert "no valid signature" in report.first_problem


def test_inclusion_proof_of_an_event_verifies_against_the_signed_root(pristine_ledger, meta):
    streams = _fill(meta)
    checkpoint = checkpoints.write_checkpoint()
    event = Event.objects.get(stream_id=streams[1].id, version=3)
    proof = checkpoints.inclusion_proof(event.position, checkpoint.tree_size)
    assert proof.leaf_hash == merkle.leaf_hash(bytes(event.hash))
    assert proof.verify(bytes(checkpoint.root_hash))
    assert not proof.verify(hashlib.sha256(b"another root").digest())


def test_streamed_inclusion_proofs_equal_proofs_over_the_whole_leaf_list(pristine_ledger, meta):
    _fill(meta, streams=5, per_stream=5)
    checkpoint = checkpoints.write_checkpoint()
    size = checkpoint.tree_size
    leaves = checkpoints.leaf_hashes(0, size)
    assert list(checkpoints.iter_leaf_hashes(0, size, batch=4)) == leaves
    assert list(checkpoints.iter_leaf_hashes(3, 7, batch=2)) == leaves[3:7]
    for event in Event.objects.all():
        proof = checkpoints.inclusion_proof(event.position, size)
        assert list(proof.path) == merkle.inclusion_proof(leaves, proof.leaf_index, size)
    paths = checkpoints.audit_paths(range(size), size)
    assert paths.root == bytes(checkpoint.root_hash)
    with pytest.raises(checkpoints.ProofUnavailable):
        checkpoints.audit_paths([0], size + 1)


def test_consistency_proof_holds_between_checkpoints_when_history_is_intact(pristine_ledger, meta):
    _fill(meta)
    old = checkpoints.write_checkpoint()
    _fill(meta, streams=2)
    new = checkpoints.write_checkpoint()
    assert new.tree_size == old.tree_size + 8
    proof = checkpoints.consistency_proof(old.tree_size, new.tree_size)
    assert checkpoints.verify_consistency(old, new, proof)
    assert checkpoints.signature_valid(old) and checkpoints.signature_valid(new)


@pytest.mark.parametrize("rewrite", ["before_old_checkpoint", "between_checkpoints"])
def test_consistency_proof_fails_when_history_between_checkpoints_is_rewritten(
    pristine_ledger, meta, rewrite
):
    early = _fill(meta)
    old = checkpoints.write_checkpoint()
    late = _fill(meta, streams=2)
    new = checkpoints.write_checkpoint()
    victim = early[1] if rewrite == "before_old_checkpoint" else late[0]
    _rewrite_carefully(victim.id, 2, {"n": "rewritten"})
    # The attacker also rewrites the leaf hashes so the server's proof uses the new history.
    without_append_only(
        "UPDATE eventstore_leaf l SET leaf_hash = sha256('\\x00'::bytea || e.hash)"
        " FROM eventstore_event e WHERE e.position = l.position"
    )
    proof = checkpoints.consistency_proof(old.tree_size, new.tree_size)
    kept_old = Checkpoint(tree_size=old.tree_size, root_hash=bytes(old.root_hash))
    kept_new = Checkpoint(tree_size=new.tree_size, root_hash=bytes(new.root_hash))
    assert not checkpoints.verify_consistency(kept_old, kept_new, proof)
    # A checkpoint signed over the rewritten log does not extend the auditor's old one either.
    fresh_root = merkle.root_from_leaf_hashes(checkpoints.leaf_hashes(0, new.tree_size))
    fresh = Checkpoint(tree_size=new.tree_size, root_hash=fresh_root)
    if rewrite == "before_old_checkpoint":
        assert not checkpoints.verify_consistency(kept_old, fresh, proof)
    assert not verify().ok


def test_checkpoint_is_not_signed_again_when_the_log_did_not_grow(pristine_ledger, meta):
    _fill(meta, streams=1)
    first = checkpoints.write_checkpoint()
    again = checkpoints.write_checkpoint()
    assert again.id == first.id
    assert Checkpoint.objects.count() == 1


def test_sequencer_leaves_uncommitted_events_for_later_when_a_writer_is_still_open(
    pristine_ledger, meta
):
    """An event whose transaction is still open must not be skipped by a later checkpoint."""
    import threading

    from django.db import connection, transaction

    opened, release, done = threading.Event(), threading.Event(), threading.Event()
    slow_stream = new_stream()

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                store.append(slow_stream, NO_STREAM, [NewEvent("test.Slow", {})], meta)
                opened.set()
                release.wait(30)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert opened.wait(30)
    _fill(meta, streams=1)  # committed after the slow writer took its transaction id
    size_while_open = checkpoints.write_checkpoint().tree_size
    release.set()
    thread.join(30)
    final = checkpoints.write_checkpoint()
    assert size_while_open == 0
    assert final.tree_size == 5
    assert verify().ok
