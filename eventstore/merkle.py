"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and proof verification for the event log.

The tree is the Certificate Transparency one: SHA-256, domain-separated leaf (0x00) and interior
node (0x01) hashes, and an unbalanced right edge where the left subtree always covers the largest
power of two strictly smaller than the number of leaves (RFC 6962 section 2.1).

This module is deliberately standard-library only and free of global state: it is copied
verbatim into the standalone offline verifier, which must not depend on Django or on anything
else installed alongside the service.

Producers (``root_from_leaf_hashes``, ``inclusion_proof``, ``consistency_proof``,
``CompactRange``, ``AuditPaths``) raise ``ValueError`` on invalid arguments, because that is a
bug in the caller. Verifiers (``verify_inclusion``, ``verify_consistency``) only ever return
``True`` or ``False``: they process untrusted input, and a malformed proof is simply an
unproven claim.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LEAF_PREFIX",
    "NODE_PREFIX",
    "AuditPaths",
    "CompactRange",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32

EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash, SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash, SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == HASH_SIZE


def _is_size(value: object) -> bool:
    # bool is an int subclass; True as a tree size is always a caller mix-up.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_proof(value: object) -> bool:
    # A bytes value is a Sequence too; iterating it would yield ints, not hashes.
    if not isinstance(value, Sequence) or isinstance(value, str | bytes | bytearray):
        return False
    return all(_is_hash(p) for p in value)


def _require_size(name: str, value: int) -> None:
    if not _is_size(value):
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def _require_hashes(leaf_hashes: Sequence[bytes], size: int) -> None:
    _require_size("tree size", size)
    if size > len(leaf_hashes):
        raise ValueError(f"tree size {size} exceeds the {len(leaf_hashes)} leaf hashes available")
    for i in range(size):
        if not _is_hash(leaf_hashes[i]):
            # Raw entry bytes passed where leaf hashes are expected would otherwise produce a
            # well-formed but meaningless root.
            raise ValueError(f"leaf hash at index {i} is not a {HASH_SIZE}-byte hash")


def _largest_power_of_two_below(n: int) -> int:
    """Return the largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: Sequence[bytes], begin: int, end: int) -> bytes:
    """Return MTH(leaves[begin:end]) for an already validated, non-empty range."""
    sha256 = hashlib.sha256
    level = list(leaves[begin:end])
    # Pairing neighbours level by level and carrying an unpaired last node up unchanged yields
    # exactly the RFC 6962 split-at-largest-power-of-two tree, with no recursion and O(n) work.
    while len(level) > 1:
        paired = [
            sha256(NODE_PREFIX + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return bytes(level[0])


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash MTH(D[n]) of RFC 6962 section 2.1 over the given leaf hashes.

    The root of the empty tree is ``EMPTY_ROOT``, the SHA-256 of the empty string.
    """
    _require_hashes(leaf_hashes, len(leaf_hashes))
    if not leaf_hashes:
        return EMPTY_ROOT
    return _mth(leaf_hashes, 0, len(leaf_hashes))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """Return the audit path PATH(index, D[tree_size]) of RFC 6962 section 2.1.1.

    Only ``leaf_hashes[:tree_size]`` is used, so a proof against an older tree head can be
    produced from the current log. The path is ordered from the leaf's sibling up to the child
    of the root.
    """
    _require_size("index", index)
    _require_hashes(leaf_hashes, tree_size)
    if index >= tree_size:
        raise ValueError(f"index {index} is outside a tree of size {tree_size}")

    # Walk down from the root; each step records the sibling subtree the leaf is not in.
    siblings: list[bytes] = []
    begin, end = 0, tree_size
    while end - begin > 1:
        split = begin + _largest_power_of_two_below(end - begin)
        if index < split:
            siblings.append(_mth(leaf_hashes, split, end))
            end = split
        else:
            siblings.append(_mth(leaf_hashes, begin, split))
            begin = split
    siblings.reverse()
    return siblings


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """Return the consistency proof PROOF(old_size, D[new_size]) of RFC 6962 section 2.1.2.

    The proof is empty when ``old_size`` is 0 (every tree extends the empty tree) or equals
    ``new_size``.
    """
    _require_size("old_size", old_size)
    _require_hashes(leaf_hashes, new_size)
    if old_size > new_size:
        raise ValueError(f"old_size {old_size} is larger than new_size {new_size}")
    if old_size in (0, new_size):
        return []

    # Iterative form of SUBPROOF(m, D[begin:end], b): m counts old leaves inside the current
    # subtree, b records whether that subtree's root is already known to the verifier.
    siblings: list[bytes] = []
    begin, end, m, old_root_known = 0, new_size, old_size, True
    while m != end - begin:
        split = _largest_power_of_two_below(end - begin)
        if m <= split:
            siblings.append(_mth(leaf_hashes, begin + split, end))
            end = begin + split
        else:
            siblings.append(_mth(leaf_hashes, begin, begin + split))
            begin += split
            m -= split
            old_root_known = False
    siblings.reverse()
    if not old_root_known:
        siblings.insert(0, _mth(leaf_hashes, begin, end))
    return siblings


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``.

    Implements RFC 9162 section 2.1.3.2. Returns ``False`` for any malformed input rather than
    raising.
    """
    if not (_is_size(index) and _is_size(tree_size)) or index >= tree_size:
        return False
    if not (_is_hash(leaf_hash) and _is_hash(root)):
        return False
    if not _is_proof(proof):
        return False

    fn, sn = index, tree_size - 1
    r = bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(bytes(p), r)
            if not fn & 1:
                # A right-edge node with no right sibling is promoted, so skip the levels
                # where it has no sibling at all.
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, bytes(p))
        fn >>= 1
        sn >>= 1
    # sn == 0 proves the path had exactly the length this (index, tree_size) requires.
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check that the tree of ``new_size`` with ``new_root`` extends the one of ``old_size``.

    Implements RFC 9162 section 2.1.4.2. Returns ``False`` for any malformed input rather than
    raising. Equal sizes need an empty proof and equal roots; ``old_size`` 0 needs an empty
    proof, and since a tree of size 0 has only one possible root, ``old_root`` must then be
    ``EMPTY_ROOT``.
    """
    if not (_is_size(old_size) and _is_size(new_size)) or old_size > new_size:
        return False
    if not (_is_hash(old_root) and _is_hash(new_root)):
        return False
    if not _is_proof(proof):
        return False

    if old_size == 0:
        if proof or old_root != EMPTY_ROOT:
            return False
        return new_size != 0 or new_root == EMPTY_ROOT
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False

    path = [bytes(p) for p in proof]
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete subtree of the new one, so the proof omits its root.
        path.insert(0, bytes(old_root))

    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1

    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            # Nodes right of the old tree's edge only contribute to the new root.
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


class CompactRange:
    """Incrementally maintained root of a growing log.

    ``frontier`` holds the roots of the perfect subtrees that exactly cover leaves
    ``[0, size)``, left to right and therefore largest first; there is one per set bit of
    ``size``. ``(size, frontier)`` is all a checkpoint has to store to resume appending without
    re-reading the log.
    """

    size: int
    frontier: list[bytes]

    def __init__(self, size: int = 0, frontier: Sequence[bytes] = ()) -> None:
        _require_size("size", size)
        if isinstance(frontier, str | bytes | bytearray):
            raise ValueError("frontier must be a sequence of hashes, not a single bytes value")
        expected = size.bit_count()
        if len(frontier) != expected:
            raise ValueError(
                f"a frontier for size {size} has {expected} hashes, got {len(frontier)}"
            )
        for i, h in enumerate(frontier):
            if not _is_hash(h):
                raise ValueError(f"frontier hash at position {i} is not a {HASH_SIZE}-byte hash")
        self.size = size
        self.frontier = [bytes(h) for h in frontier]

    def __repr__(self) -> str:
        return f"CompactRange(size={self.size}, frontier=<{len(self.frontier)} hashes>)"

    def append(self, leaf_hash: bytes) -> None:
        """Add the next leaf hash to the log, merging subtrees that became perfect."""
        if not _is_hash(leaf_hash):
            raise ValueError(f"leaf hash must be a {HASH_SIZE}-byte hash")
        self.frontier.append(bytes(leaf_hash))
        # Each trailing set bit of the old size is a perfect subtree of the same height as the
        # one just completed, so they merge like a binary carry.
        carry = self.size
        while carry & 1:
            right = self.frontier.pop()
            left = self.frontier.pop()
            self.frontier.append(node_hash(left, right))
            carry >>= 1
        self.size += 1

    def root(self) -> bytes:
        """Return MTH over all appended leaves; ``EMPTY_ROOT`` while the log is empty."""
        if not self.frontier:
            return EMPTY_ROOT
        # RFC 6962 puts the largest perfect subtree on the left at every split, so the root is
        # the right-to-left fold of the frontier.
        r = self.frontier[-1]
        for h in reversed(self.frontier[:-1]):
            r = node_hash(h, r)
        return r


class AuditPaths:
    """Audit paths of chosen leaves, gathered in one ordered pass over the leaf hashes.

    Only the subtree roots those paths need are kept, so memory grows with the number of
    chosen leaves times the tree's height, not with the tree. A node is named (level, index)
    in the bottom-up form of the tree where an unpaired last node moves up unchanged; it covers
    leaves ``[index << level, min((index + 1) << level, tree_size))``.
    """

    def __init__(self, tree_size: int, indices: Iterable[int]) -> None:
        _require_size("tree size", tree_size)
        self.size = tree_size
        self.height = (tree_size - 1).bit_length() if tree_size else 0
        self._needed: set[tuple[int, int]] = set()
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._root: bytes | None = None
        for index in indices:
            _require_size("index", index)
            if index >= tree_size:
                raise ValueError(f"index {index} is outside a tree of size {tree_size}")
            self._needed.update(self._siblings(index))

    def _siblings(self, index: int) -> Iterable[tuple[int, int]]:
        for level in range(self.height):
            sibling = (index >> level) ^ 1
            if sibling << level < self.size:
                yield level, sibling

    def feed(self, leaf_hashes: Iterable[bytes]) -> bytes:
        """Take exactly ``tree_size`` leaf hashes in tree order; return the root."""
        needed, nodes = self._needed, self._nodes
        stack: list[tuple[int, bytes]] = []  # (level, hash) of perfect subtrees, largest first
        count = 0
        for leaf in leaf_hashes:
            if count == self.size:
                raise ValueError(f"more than {self.size} leaf hashes")
            if not _is_hash(leaf):
                raise ValueError(f"leaf hash at index {count} is not a {HASH_SIZE}-byte hash")
            node, level, index = bytes(leaf), 0, count
            if (0, index) in needed:
                nodes[0, index] = node
            while stack and stack[-1][0] == level:
                node = node_hash(stack.pop()[1], node)
                level, index = level + 1, index >> 1
                if (level, index) in needed:
                    nodes[level, index] = node
            stack.append((level, node))
            count += 1
        if count != self.size:
            raise ValueError(f"{count} leaf hashes for a tree of size {self.size}")
        # The right edge: a node left incomplete at a level is the fold of the perfect
        # subtrees below that level, right to left.
        folds: list[tuple[int, bytes]] = []
        for level, node in reversed(stack):
            folds.append((level, node if not folds else node_hash(node, folds[-1][1])))
        for level in range(1, self.height + 1):
            if self.size & ((1 << level) - 1):
                key = (level, (self.size - 1) >> level)
                if key in needed:
                    nodes[key] = [fold for lower, fold in folds if lower < level][-1]
        self._root = folds[-1][1] if folds else EMPTY_ROOT
        return self._root

    @property
    def root(self) -> bytes:
        if self._root is None:
            raise ValueError("the leaf hashes have not been fed yet")
        return self._root

    def path(self, index: int) -> list[bytes]:
        """PATH(index, D[tree_size]), the leaf's sibling first, as ``inclusion_proof``."""
        if self._root is None:
            raise ValueError("the leaf hashes have not been fed yet")
        if not _is_size(index) or index >= self.size:
            raise ValueError(f"index {index} is outside a tree of size {self.size}")
        try:
            return [self._nodes[key] for key in self._siblings(index)]
        except KeyError:
            raise ValueError(f"index {index} was not chosen when the paths were gathered") from None
