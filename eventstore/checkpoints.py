"""Signed checkpoints of the log (RFC 6962 Merkle tree) and the proofs auditors check.

Leaf order comes from one sequencer: under an advisory lock it takes the events whose writing
transaction is older than every running one (xid < pg_snapshot_xmin), ordered by (xid,
position), and numbers them after the last leaf. Positions come from a sequence and commit out
of order, so a bare `position > last` cursor could skip an event for ever.

A checkpoint signs the text note (C2SP tlog-checkpoint form: three lines, then extension
lines)
    <origin>
    <tree size>
    <base64 root>
    time <RFC 3339 UTC, microseconds, Z>
    previous <tree size> <base64 root>        (the checkpoint before it; not on the first)
    heads <number of streams> <base64 root of the stream-heads tree>
with the Ed25519 key of LEDGER_SIGNING_KEY (base64 of the 32-byte seed), which only the signer
process holds (eventstore/signer.py); every other process verifies with the public keys of
LEDGER_TRUSTED_KEYS. Checkpoints written
before the extension lines have the three lines alone and keep verifying. The leaf input of
an event is its 32-byte chain hash; the heads tree is eventstore/heads.py."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.db import connection, transaction

from core import clock
from eventstore import merkle, stream_heads, subtrees
from eventstore.canonical import canonical_json
from eventstore.models import Checkpoint
from eventstore.stream_heads import SEQUENCER_LOCK


class SigningKeyError(RuntimeError):
    """This process holds no usable signing key (only the signer, `manage.py run_signer`, is
    given LEDGER_SIGNING_KEY), or a configured key is not a base64 Ed25519 key."""


def _decode(encoded: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise SigningKeyError(f"{what} is not base64") from exc
    if len(raw) != 32:
        raise SigningKeyError(f"{what} must be the base64 of 32 bytes, not {len(raw)}")
    return raw


@cache
def private_key_from_seed(seed_b64: str) -> Ed25519PrivateKey:
    """The Ed25519 key of a base64 32-byte seed (the form of LEDGER_SIGNING_KEY)."""
    return Ed25519PrivateKey.from_private_bytes(_decode(seed_b64, "LEDGER_SIGNING_KEY"))


@cache
def _public_key(encoded: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_decode(encoded, "a key of LEDGER_TRUSTED_KEYS"))


def holds_signing_key() -> bool:
    """Whether this process was given a signing key: the signer (and the tests) only."""
    return bool(settings.LEDGER_SIGNING_KEY)


def signing_key() -> Ed25519PrivateKey:
    """The private key of the signer process. Web, worker, beat and relay processes hold none
    and call this nowhere: they ask the signer for a checkpoint (eventstore.signer)."""
    if not holds_signing_key():
        raise SigningKeyError(
            "this process holds no checkpoint signing key: LEDGER_SIGNING_KEY is given only to"
            " the signer (manage.py run_signer); other processes verify with LEDGER_TRUSTED_KEYS"
            " and ask the signer for checkpoints"
        )
    return private_key_from_seed(settings.LEDGER_SIGNING_KEY)


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_of_seed(seed_b64: str) -> str:
    """The base64 raw public key of a base64 seed, as LEDGER_TRUSTED_KEYS lists it."""
    return base64.b64encode(public_key_bytes(private_key_from_seed(seed_b64).public_key())).decode()


def key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def trusted_keys() -> dict[str, Ed25519PublicKey]:
    """Keys whose checkpoints verify: the public keys of LEDGER_TRUSTED_KEYS (the current
    signer's and retired ones) and, in the signer, its own key's. Needs no private key."""
    keys = {}
    if holds_signing_key():
        own = signing_key().public_key()
        keys[key_id(public_key_bytes(own))] = own
    for encoded in settings.LEDGER_TRUSTED_KEYS:
        public = _public_key(encoded)
        keys.setdefault(key_id(public_key_bytes(public)), public)
    return keys


def current_key_id(keys: dict[str, Ed25519PublicKey]) -> str | None:
    """The key that signs now: the process's own where it holds one (the signer), else the key
    of the newest checkpoint where it is trusted, else the first of LEDGER_TRUSTED_KEYS."""
    if holds_signing_key():
        return key_id(public_key_bytes(signing_key().public_key()))
    newest = latest()
    if newest is not None and newest.key_id in keys:
        return newest.key_id
    return next(iter(keys), None)


@dataclass(frozen=True)
class PublishedKey:
    """A checkpoint verification key as auditors pin it: base64 of the raw Ed25519 key."""

    key_id: str
    public_key: str
    current: bool


def published_keys() -> list[PublishedKey]:
    """The current key first, then the retired keys of LEDGER_TRUSTED_KEYS."""
    keys = trusted_keys()
    current = current_key_id(keys)
    return [
        PublishedKey(kid, base64.b64encode(public_key_bytes(key)).decode(), kid == current)
        for kid, key in sorted(keys.items(), key=lambda item: item[0] != current)
    ]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def note_text(
    origin: str,
    tree_size: int,
    root: bytes,
    *,
    time: datetime | None = None,
    previous: tuple[int, bytes] | None = None,
    heads: tuple[int, bytes] | None = None,
) -> str:
    """The signed note: three lines, then the extension lines a checkpoint has."""
    lines = [origin, str(tree_size), _b64(root)]
    if time is not None:
        lines.append(f"time {time.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}")
    if previous is not None:
        lines.append(f"previous {previous[0]} {_b64(previous[1])}")
    if heads is not None:
        lines.append(f"heads {heads[0]} {_b64(heads[1])}")
    return "\n".join(lines) + "\n"


def stored_note(checkpoint: Checkpoint) -> str:
    """The note a stored checkpoint must have signed, rebuilt from its columns."""
    if checkpoint.heads_root is None:
        return note_text(checkpoint.origin, checkpoint.tree_size, bytes(checkpoint.root_hash))
    previous = None
    if checkpoint.previous_size is not None:
        previous = (checkpoint.previous_size, bytes(checkpoint.previous_root))
    return note_text(
        checkpoint.origin,
        checkpoint.tree_size,
        bytes(checkpoint.root_hash),
        time=checkpoint.created_at,
        previous=previous,
        heads=(checkpoint.heads_count, bytes(checkpoint.heads_root)),
    )


def signature_valid(checkpoint: Checkpoint) -> bool:
    key = trusted_keys().get(checkpoint.key_id)
    if key is None:
        return False
    expected = stored_note(checkpoint)
    if checkpoint.note != expected:
        return False
    try:
        key.verify(bytes(checkpoint.signature), expected.encode())
    except InvalidSignature:
        return False
    return True


def sequence() -> int:
    """Give leaf numbers to every event below the transaction horizon; return the tree size."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (SEQUENCER_LOCK,))
        # Taken before this transaction writes, so our own xid cannot hold the horizon back.
        cursor.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text, horizon::text,"
            " (SELECT coalesce(max(leaf_index) + 1, 0) FROM eventstore_leaf)"
            " FROM eventstore_sequencer WHERE id = 1"
        )
        horizon, previous, size = cursor.fetchone()
        if int(horizon) <= int(previous):
            return size
        cursor.execute(
            "INSERT INTO eventstore_leaf (leaf_index, position, stream_id, version, leaf_hash)"
            " SELECT %s + row_number() OVER (ORDER BY xid, position) - 1,"
            "        position, stream_id, version,"
            "        sha256('\\x00'::bytea || hash)"
            " FROM eventstore_event WHERE xid >= %s::xid8 AND xid < %s::xid8",
            (size, previous, horizon),
        )
        added = cursor.rowcount
        cursor.execute(
            "UPDATE eventstore_sequencer SET horizon = %s::xid8 WHERE id = 1", (horizon,)
        )
        return size + added


def leaf_hashes(start: int = 0, stop: int | None = None) -> list[bytes]:
    """Stored leaf hashes in tree order, [start, stop)."""
    with connection.cursor() as cursor:
        if stop is None:
            cursor.execute(
                "SELECT leaf_hash FROM eventstore_leaf WHERE leaf_index >= %s ORDER BY leaf_index",
                (start,),
            )
        else:
            cursor.execute(
                "SELECT leaf_hash FROM eventstore_leaf WHERE leaf_index >= %s AND leaf_index < %s"
                " ORDER BY leaf_index",
                (start, stop),
            )
        return [bytes(row[0]) for row in cursor.fetchall()]


def iter_leaf_hashes(start: int = 0, stop: int | None = None, batch: int = 10_000):
    """Stored leaf hashes in tree order, [start, stop), read in batches from a server-side
    cursor so the log is never held in memory at once."""
    sql = "SELECT leaf_hash FROM eventstore_leaf WHERE leaf_index >= %s"
    params: list[int] = [start]
    if stop is not None:
        sql += " AND leaf_index < %s"
        params.append(stop)
    # atomic() opens the connection before the named cursor is made on it.
    with (
        transaction.atomic(),
        connection.connection.cursor(name=f"leaves_{uuid.uuid4().hex}") as cursor,
    ):
        cursor.itersize = batch
        cursor.execute(sql + " ORDER BY leaf_index", params)
        while rows := cursor.fetchmany(batch):
            for row in rows:
                yield bytes(row[0])


def audit_paths(indices, tree_size: int) -> merkle.AuditPaths:
    """Audit paths of the given leaves in the tree of `tree_size`, gathered in one streamed
    pass over the stored leaves; memory grows with the leaves asked about, not with the log."""
    paths = merkle.AuditPaths(tree_size, indices)
    try:
        paths.feed(iter_leaf_hashes(0, tree_size))
    except ValueError as exc:
        raise ProofUnavailable(f"the stored leaves do not make a tree of size {tree_size}") from exc
    return paths


def latest() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-tree_size").first()


def write_checkpoint(key: Ed25519PrivateKey | None = None) -> Checkpoint:
    """Sequence new events and sign the tree and the heads of its streams with `key` (default:
    this process's signing key); returns the newest checkpoint (an unchanged tree is not
    signed again). Only the signer process holds a key (eventstore/signer.py)."""
    size = sequence()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (SEQUENCER_LOCK,))
        last = latest()
        if last is not None and last.tree_size >= size:
            return last
        compact = (
            merkle.CompactRange(last.tree_size, [bytes.fromhex(h) for h in last.frontier])
            if last is not None
            else merkle.CompactRange()
        )
        for leaf in iter_leaf_hashes(compact.size, size):
            compact.append(leaf)
        root = compact.root()
        # The complete subtrees of the new leaves, which consistency proofs are served from.
        subtrees.store(size)
        with connection.cursor() as cursor:
            stream_heads.advance(cursor, stream_heads.heads_size(cursor), size)
            heads_root, heads_count = stream_heads.root(cursor)
        key = key if key is not None else signing_key()
        checkpoint = Checkpoint(
            tree_size=size,
            root_hash=root,
            frontier=[h.hex() for h in compact.frontier],
            origin=settings.LEDGER_ORIGIN,
            key_id=key_id(public_key_bytes(key.public_key())),
            created_at=clock.now(),
            heads_root=heads_root,
            heads_count=heads_count,
            previous_size=last.tree_size if last is not None else None,
            previous_root=bytes(last.root_hash) if last is not None else None,
        )
        checkpoint.note = stored_note(checkpoint)
        checkpoint.signature = key.sign(checkpoint.note.encode())
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO eventstore_checkpoint (tree_size, root_hash, frontier, origin, key_id,"
                " signature, note, created_at, heads_root, heads_count, previous_size,"
                " previous_root) VALUES (%s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " RETURNING id",
                (
                    checkpoint.tree_size,
                    root,
                    canonical_json(checkpoint.frontier).decode(),
                    checkpoint.origin,
                    checkpoint.key_id,
                    checkpoint.signature,
                    checkpoint.note,
                    checkpoint.created_at,
                    heads_root,
                    heads_count,
                    checkpoint.previous_size,
                    checkpoint.previous_root,
                ),
            )
            checkpoint.id = cursor.fetchone()[0]
    return checkpoint


@dataclass(frozen=True)
class InclusionProof:
    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    path: tuple[bytes, ...]

    def verify(self, root: bytes) -> bool:
        return merkle.verify_inclusion(
            self.leaf_hash, self.leaf_index, self.tree_size, self.path, root
        )


class ProofUnavailable(LookupError):
    pass


def inclusion_proof(position: int, tree_size: int) -> InclusionProof:
    """Proof that the event at `position` is leaf i of the tree of `tree_size` leaves."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT leaf_index, leaf_hash FROM eventstore_leaf WHERE position = %s", (position,)
        )
        row = cursor.fetchone()
    if row is None or row[0] >= tree_size:
        raise ProofUnavailable(f"event {position} is not in the tree of size {tree_size}")
    path = audit_paths([row[0]], tree_size).path(row[0])
    return InclusionProof(position, row[0], tree_size, bytes(row[1]), tuple(path))


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    """Proof that the tree of `new_size` leaves extends the tree of `old_size` leaves, from the
    stored subtree hashes and a bounded number of leaves (eventstore.subtrees)."""
    try:
        return subtrees.consistency_proof(old_size, new_size)
    except subtrees.SubtreesMissing as exc:
        raise ProofUnavailable(str(exc)) from exc


def verify_consistency(old: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> bool:
    return merkle.verify_consistency(
        old.tree_size, new.tree_size, bytes(old.root_hash), bytes(new.root_hash), proof
    )
