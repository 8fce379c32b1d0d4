"""The stream-heads tree: where every stream ends, committed to by each signed checkpoint.

Leaves are the streams of the log as of a checkpoint, one per stream, sorted by stream id
(the UUID's 16 bytes, which is also the order of its lower-case hex text and PostgreSQL's
uuid order). The leaf input of a stream is 56 bytes:

    stream id (16 bytes, the UUID's bytes) || version (8 bytes, unsigned big-endian)
    || head hash (32 bytes, the chain hash of the stream's event at that version)

and the tree over them is the log's own RFC 6962 tree (eventstore/merkle.py): leaf hash
SHA-256(0x00 || input), node hash SHA-256(0x01 || left || right), the empty tree's root
SHA-256 of nothing. A stream's head is proven by the inclusion proof of its leaf; a stream is
proven absent by the leaves on either side of where it would sort (adjacent indices), or by
the first or the last leaf alone when it would sort before or after every stream.

Standard library only: the offline verifier bundles this file verbatim."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from eventstore.merkle import leaf_hash, verify_inclusion  # bundled

HEAD_LEAF_SIZE = 56


def head_leaf_input(stream_id: str | uuid.UUID, version: int, head: bytes) -> bytes:
    """The 56-byte leaf input of a stream whose event `version` has chain hash `head`."""
    if not isinstance(version, int) or isinstance(version, bool) or not 0 < version < 1 << 64:
        raise ValueError(f"a stream head's version must be a positive 64-bit integer: {version!r}")
    if not isinstance(head, bytes | bytearray) or len(head) != 32:
        raise ValueError("a stream head's hash must be 32 bytes")
    return uuid.UUID(str(stream_id)).bytes + version.to_bytes(8, "big") + bytes(head)


def head_leaf_hash(stream_id: str | uuid.UUID, version: int, head: bytes) -> bytes:
    return leaf_hash(head_leaf_input(stream_id, version, head))


def sort_key(stream_id: str | uuid.UUID) -> bytes:
    return uuid.UUID(str(stream_id)).bytes


@dataclass(frozen=True)
class HeadProof:
    """Leaf `index` of the heads tree of `size` streams is (stream, version, head)."""

    stream_id: str
    version: int
    head: bytes
    index: int
    size: int
    path: tuple[bytes, ...]

    def verify(self, root: bytes) -> bool:
        try:
            leaf = head_leaf_hash(self.stream_id, self.version, self.head)
        except (ValueError, TypeError, AttributeError):
            return False
        return verify_inclusion(leaf, self.index, self.size, list(self.path), root)

    def as_json(self) -> dict:
        return {
            "stream_id": self.stream_id,
            "version": self.version,
            "head": self.head.hex(),
            "index": self.index,
            "size": self.size,
            "path": [node.hex() for node in self.path],
        }

    @classmethod
    def from_json(cls, doc: dict) -> HeadProof:
        """Raises ValueError, KeyError or TypeError on a malformed document."""
        return cls(
            stream_id=str(uuid.UUID(doc["stream_id"])),
            version=int(doc["version"]),
            head=bytes.fromhex(doc["head"]),
            index=int(doc["index"]),
            size=int(doc["size"]),
            path=tuple(bytes.fromhex(node) for node in doc["path"]),
        )


def verify_absent(
    stream_id: str,
    before: HeadProof | None,
    after: HeadProof | None,
    size: int,
    root: bytes,
) -> bool:
    """True when the heads tree of `size` streams under `root` has no leaf for `stream_id`:
    `before` is the leaf sorting just below it and `after` the one just above (adjacent
    indices), `before` alone being the last leaf, `after` alone the first, neither when the
    tree is empty."""
    try:
        key = sort_key(stream_id)
    except ValueError:
        return False
    for proof in (before, after):
        if proof is not None and (proof.size != size or not proof.verify(root)):
            return False
    if before is None and after is None:
        return size == 0
    if before is not None and not sort_key(before.stream_id) < key:
        return False
    if after is not None and not key < sort_key(after.stream_id):
        return False
    if before is None:
        return after is not None and after.index == 0
    if after is None:
        return before.index == size - 1
    return after.index == before.index + 1
