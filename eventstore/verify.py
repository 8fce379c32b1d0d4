"""Verification of the whole ledger: every stream's hash chain, the Merkle leaves and every
signed checkpoint. The first problem (lowest position, then lowest leaf) is named.

A deleted newest event leaves every chain intact; the leaf that sequenced it, and the signed
root over all leaves, are what betray it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from eventstore import checkpoints, merkle, store
from eventstore.hashing import GENESIS, recorded_hash
from eventstore.heads import head_leaf_hash
from eventstore.models import Checkpoint
from eventstore.projection import EVENT_COLUMNS, row_to_event
from eventstore.snapshots import plain, registered_snapshots


@dataclass(frozen=True, order=True)
class Problem:
    order: tuple[int, int]
    message: str = field(compare=False)


@dataclass
class Report:
    events: int = 0
    streams: int = 0
    leaves: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> str | None:
        return min(self.problems).message if self.problems else None

    def add(self, message: str, *, position: int | None = None, stage: int = 0) -> None:
        self.problems.append(Problem((stage, position if position is not None else -1), message))


def verify(*, batch_size: int = 5000, progress: Callable[[int], None] | None = None) -> Report:
    """Check everything, in one repeatable-read snapshot so concurrent appends do not race it."""
    report = Report()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        _verify_chains(report, batch_size, progress)
        saved = list(Checkpoint.objects.order_by("tree_size"))
        _verify_tree(report, batch_size, saved)
        _verify_checkpoint_chain(report, saved)
    return report


def _verify_checkpoint_chain(report: Report, saved: list[Checkpoint]) -> None:
    """Each checkpoint names the one stored before it as previous, and the newest one's heads
    root is the heads tree of the leaves it signed, rebuilt here from the log."""
    for before, after in zip([None, *saved], saved, strict=False):
        if after.previous_size is None:
            if after.heads_root is not None and before is not None:
                report.add(
                    f"checkpoint {after.id} (tree size {after.tree_size}) names no previous"
                    f" checkpoint, but {before.tree_size} was signed before it",
                    stage=4,
                )
            continue
        stated = (after.previous_size, bytes(after.previous_root))
        if before is None or stated != (before.tree_size, bytes(before.root_hash)):
            report.add(
                f"checkpoint {after.id} (tree size {after.tree_size}) names as previous a"
                f" checkpoint of size {after.previous_size} that is not the one stored before it",
                stage=4,
            )
    newest = saved[-1] if saved else None
    if newest is None or newest.heads_root is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT ON (l.stream_id) l.stream_id, l.version, e.hash"
            "  FROM eventstore_leaf l JOIN eventstore_event e ON e.position = l.position"
            " WHERE l.leaf_index < %s ORDER BY l.stream_id, l.version DESC",
            (newest.tree_size,),
        )
        compact = merkle.CompactRange()
        for stream, version, head in cursor.fetchall():
            compact.append(head_leaf_hash(stream, version, bytes(head)))
    if (compact.root(), compact.size) != (bytes(newest.heads_root), newest.heads_count):
        report.add(
            f"checkpoint {newest.id} (tree size {newest.tree_size}) signed stream heads that"
            " are not the heads of the streams in its leaves",
            stage=4,
        )


def _verify_chains(report: Report, batch_size: int, progress: Callable[[int], None] | None) -> None:
    raw = connection.connection
    current = None
    expected_version = 1
    prev = GENESIS
    with raw.cursor(name="eventstore_verify") as cursor:
        cursor.execute(f"SELECT {EVENT_COLUMNS} FROM eventstore_event ORDER BY stream_id, version")
        while rows := cursor.fetchmany(batch_size):
            for row in rows:
                event = row_to_event(row)
                if event.stream_id != current:
                    current, expected_version, prev = event.stream_id, 1, GENESIS
                    report.streams += 1
                where = (
                    f"event #{event.position} (stream {event.stream_id} version {event.version})"
                )
                if event.version != expected_version:
                    report.add(
                        f"stream {event.stream_id}: version {expected_version} is missing"
                        f" before {where}",
                        position=event.position,
                    )
                if event.prev_hash != prev:
                    report.add(
                        f"{where}: prev_hash does not link to the previous event",
                        position=event.position,
                    )
                if recorded_hash(event) != event.hash:
                    report.add(
                        f"{where}: content does not match its hash (changed after it was written)",
                        position=event.position,
                    )
                expected_version = event.version + 1
                prev = event.hash
                report.events += 1
            if progress:
                progress(report.events)


def _missing(where: str, stream_id: object, version: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(max(version), 0) FROM eventstore_event WHERE stream_id = %s",
            (stream_id,),
        )
        newest = cursor.fetchone()[0]
    if newest < version:
        return (
            f"stream {stream_id}: head version {version} is missing from the log (it ends at"
            f" version {newest}); {where} was signed into a checkpoint"
        )
    return f"{where}: the event is missing from the log"


def _leaves(start: int, end: int) -> str:
    """Names the missing leaf indices start..end-1."""
    if end - start == 1:
        return f"leaf {start} is missing"
    return f"leaves {start} to {end - 1} are missing"


def _verify_tree(report: Report, batch_size: int, saved: list[Checkpoint]) -> None:
    report.checkpoints = len(saved)
    for checkpoint in saved:
        if not checkpoints.signature_valid(checkpoint):
            report.add(
                f"checkpoint {checkpoint.id} (tree size {checkpoint.tree_size}) has no valid"
                " signature from a trusted key",
                stage=2,
            )
    pending = iter(saved)
    next_checkpoint = next(pending, None)
    compact = merkle.CompactRange()
    raw = connection.connection

    def check_due() -> None:
        nonlocal next_checkpoint
        while next_checkpoint is not None and next_checkpoint.tree_size == compact.size:
            if compact.root() != bytes(next_checkpoint.root_hash):
                report.add(
                    f"checkpoint {next_checkpoint.id} (tree size {next_checkpoint.tree_size})"
                    " does not match the log: history before it was rewritten",
                    position=next_checkpoint.tree_size,
                    stage=3,
                )
            next_checkpoint = next(pending, None)

    check_due()
    with raw.cursor(name="eventstore_verify_leaves") as cursor:
        cursor.execute(
            "SELECT l.leaf_index, l.position, l.stream_id, l.version, l.leaf_hash, e.hash"
            " FROM eventstore_leaf l LEFT JOIN eventstore_event e ON e.position = l.position"
            " ORDER BY l.leaf_index"
        )
        while rows := cursor.fetchmany(batch_size):
            for leaf_index, position, stream_id, version, stored_leaf, event_hash in rows:
                if leaf_index != compact.size:
                    report.add(
                        f"{_leaves(compact.size, leaf_index)} from the tree",
                        position=compact.size,
                        stage=3,
                    )
                    return
                where = (
                    f"leaf {leaf_index} (event #{position}, stream {stream_id} version {version})"
                )
                if event_hash is None:
                    report.add(_missing(where, stream_id, version), position=leaf_index, stage=3)
                    leaf = bytes(stored_leaf)
                else:
                    leaf = merkle.leaf_hash(bytes(event_hash))
                    if leaf != bytes(stored_leaf):
                        report.add(
                            f"{where}: the event's hash changed after it was sequenced",
                            position=leaf_index,
                            stage=3,
                        )
                compact.append(leaf)
                report.leaves += 1
                check_due()
    if next_checkpoint is not None:
        report.add(
            f"checkpoint {next_checkpoint.id} signed {next_checkpoint.tree_size} leaves but the log"
            f" has only {compact.size}: {_leaves(compact.size, next_checkpoint.tree_size)}"
            + (f" (events after leaf {compact.size - 1} were removed)" if compact.size else ""),
            position=compact.size,
            stage=3,
        )


@dataclass(frozen=True)
class Mismatch:
    table: str
    id: str
    column: str
    row: Any
    fold: Any


def snapshot_mismatches(limit: int = 100) -> list[Mismatch]:
    """Where a snapshot table's row differs from the fold of its stream (at most `limit`):
    what a rebuild would change. Empty when every snapshot table agrees with the log."""
    found: list[Mismatch] = []
    for spec in registered_snapshots():
        for row in spec.model.objects.values(*spec.columns, "id").iterator():
            state, _ = store.load(row["id"], spec.fold, spec.fold.initial())
            expected = spec.row_of(state)
            for column in spec.columns:
                if column == "id":
                    continue
                actual = plain(row[column])
                if actual != expected[column]:
                    found.append(
                        Mismatch(
                            spec.model._meta.db_table,
                            str(row["id"]),
                            column,
                            actual,
                            expected[column],
                        )
                    )
                    if len(found) >= limit:
                        return found
    return found
