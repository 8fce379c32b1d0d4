"""Tests for the RFC 6962 / RFC 9162 Merkle tree in eventstore.merkle.

Known-answer vectors are the Certificate Transparency ones as published in
transparency-dev/merkle:
  - testonly/constants.go: leaf inputs, node hashes per level, roots for sizes 0..8 and the
    compact-range frontiers for sizes 0..8;
  - proof/verify_test.go: inclusion and consistency proofs as hashes;
  - proof/proof_test.go: inclusion and consistency proofs as (level, index) node IDs, resolved
    here through the node hashes of constants.go (only the cases that need no rehashing).
Only the data is copied. Everything else is checked against the RFC 6962 definitions written
out below and against properties that must hold for any tree.
"""

from __future__ import annotations

import ast
import hashlib
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstore import merkle
from eventstore.merkle import (
    EMPTY_ROOT,
    LEAF_PREFIX,
    NODE_PREFIX,
    AuditPaths,
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# --- Known-answer data (transparency-dev/merkle testonly/constants.go) ----------------------

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

# NODE_HASHES[level][index]: roots of every perfect subtree of the 8-leaf tree.
NODE_HASHES = [
    [
        bytes.fromhex(h)
        for h in (
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
        )
    ],
    [
        bytes.fromhex(h)
        for h in (
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        )
    ],
    [
        bytes.fromhex(h)
        for h in (
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        )
    ],
    [bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")],
]

EMPTY_ROOT_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# ROOTS[size] for sizes 1..8.
ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

# Compact-range frontiers as (level, index) into NODE_HASHES, for sizes 0..8.
COMPACT_FRONTIERS = {
    0: [],
    1: [(0, 0)],
    2: [(1, 0)],
    3: [(1, 0), (0, 2)],
    4: [(2, 0)],
    5: [(2, 0), (0, 4)],
    6: [(2, 0), (1, 2)],
    7: [(2, 0), (1, 2), (0, 6)],
    8: [(3, 0)],
}

# --- Known-answer proofs as hashes (transparency-dev/merkle proof/verify_test.go) ------------
# The source numbers leaves from 1 ({leaf, size, proof}); the indices below are 0-based.

INCLUSION_VECTORS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

# --- Known-answer proofs as node IDs (transparency-dev/merkle proof/proof_test.go) -----------
# (index, size, [(level, index), ...]) and (size1, size2, [(level, index), ...]).

INCLUSION_NODE_VECTORS = [
    (0, 2, [(0, 1)]),
    (1, 2, [(0, 0)]),
    (1, 3, [(0, 0), (0, 2)]),
    (4, 7, [(0, 5), (0, 6), (2, 0)]),
    (5, 7, [(0, 4), (0, 6), (2, 0)]),
    (6, 7, [(1, 2), (2, 0)]),
    (2, 4, [(0, 3), (1, 0)]),
    (3, 5, [(0, 2), (1, 0), (0, 4)]),
    (3, 6, [(0, 2), (1, 0), (1, 2)]),
    (4, 6, [(0, 5), (2, 0)]),
]

CONSISTENCY_NODE_VECTORS = [
    (1, 2, [(0, 1)]),
    (1, 4, [(0, 1), (1, 1)]),
    (1, 6, [(0, 1), (1, 1), (1, 2)]),
    (2, 3, [(0, 2)]),
    (2, 8, [(1, 1), (2, 1)]),
    (5, 7, [(0, 4), (0, 5), (0, 6), (2, 0)]),
    (6, 7, [(1, 2), (0, 6), (2, 0)]),
    (7, 8, [(0, 6), (0, 7), (1, 2), (2, 0)]),
    (2, 4, [(1, 1)]),
    (3, 5, [(0, 2), (0, 3), (1, 0), (0, 4)]),
    (3, 6, [(0, 2), (0, 3), (1, 0), (1, 2)]),
    (4, 6, [(1, 2)]),
]

VECTOR_LEAVES = [leaf_hash(d) for d in LEAF_INPUTS]


def _nodes(ids: list[tuple[int, int]]) -> list[bytes]:
    return [NODE_HASHES[level][index] for level, index in ids]


def _hexes(hashes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hashes]


# --- RFC 6962 section 2.1 written out literally, as an oracle for small trees ----------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _rfc_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return node_hash(_rfc_mth(d[:k]), _rfc_mth(d[k:]))


def _rfc_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*_rfc_path(m, d[:k]), _rfc_mth(d[k:])]
    return [*_rfc_path(m - k, d[k:]), _rfc_mth(d[:k])]


def _rfc_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [_rfc_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*_rfc_subproof(m, d[:k], b), _rfc_mth(d[k:])]
    return [*_rfc_subproof(m - k, d[k:], False), _rfc_mth(d[:k])]


# --- Helpers for property tests -------------------------------------------------------------


def _leaves(n: int, salt: bytes) -> list[bytes]:
    # Distinct leaves: with duplicates, a proof for one index can honestly verify for another.
    return [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(n)]


def _flip(h: bytes, bit: int = 0) -> bytes:
    b = bytearray(h)
    b[bit // 8 % len(b)] ^= 1 << (bit % 8)
    return bytes(b)


def _prefix_roots(leaves: list[bytes]) -> list[bytes]:
    cr = CompactRange()
    roots = [cr.root()]
    for h in leaves:
        cr.append(h)
        roots.append(cr.root())
    return roots


sizes = st.integers(min_value=1, max_value=300)
salts = st.binary(min_size=0, max_size=8)
FAST = settings(max_examples=25, deadline=None)
SLOW = settings(max_examples=10, deadline=None)


# --- Hashing primitives ---------------------------------------------------------------------


def test_prefixes_are_rfc6962_domain_separators_when_imported():
    assert LEAF_PREFIX == b"\x00"
    assert NODE_PREFIX == b"\x01"


@pytest.mark.parametrize("index", range(8))
def test_leaf_hash_matches_reference_when_hashing_ct_leaf_inputs(index):
    assert leaf_hash(LEAF_INPUTS[index]) == NODE_HASHES[0][index]


@pytest.mark.parametrize("level", [1, 2, 3])
def test_node_hash_matches_reference_when_combining_sibling_subtrees(level):
    below = NODE_HASHES[level - 1]
    for i, expected in enumerate(NODE_HASHES[level]):
        assert node_hash(below[2 * i], below[2 * i + 1]) == expected


def test_empty_root_is_sha256_of_nothing_when_tree_is_empty():
    assert EMPTY_ROOT.hex() == EMPTY_ROOT_HEX
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert CompactRange().root() == EMPTY_ROOT


# --- Known-answer roots, proofs and frontiers -----------------------------------------------


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_root_matches_reference_when_tree_has_vector_size(size):
    assert root_from_leaf_hashes(VECTOR_LEAVES[:size]).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_proof_matches_reference_when_built_from_ct_leaves(index, size, proof):
    expected = _hexes(proof)
    assert inclusion_proof(VECTOR_LEAVES, index, size) == expected
    root = bytes.fromhex(ROOTS[size])
    assert verify_inclusion(VECTOR_LEAVES[index], index, size, expected, root)


@pytest.mark.parametrize(("index", "size", "ids"), INCLUSION_NODE_VECTORS)
def test_inclusion_proof_matches_reference_nodes_when_built_from_ct_leaves(index, size, ids):
    expected = _nodes(ids)
    assert inclusion_proof(VECTOR_LEAVES, index, size) == expected
    root = bytes.fromhex(ROOTS[size])
    assert verify_inclusion(VECTOR_LEAVES[index], index, size, expected, root)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_consistency_proof_matches_reference_when_built_from_ct_leaves(old, new, proof):
    expected = _hexes(proof)
    assert consistency_proof(VECTOR_LEAVES, old, new) == expected
    old_root, new_root = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new])
    assert verify_consistency(old, new, old_root, new_root, expected)


@pytest.mark.parametrize(("old", "new", "ids"), CONSISTENCY_NODE_VECTORS)
def test_consistency_proof_matches_reference_nodes_when_built_from_ct_leaves(old, new, ids):
    expected = _nodes(ids)
    assert consistency_proof(VECTOR_LEAVES, old, new) == expected
    old_root, new_root = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new])
    assert verify_consistency(old, new, old_root, new_root, expected)


def test_compact_range_matches_reference_frontiers_when_appending_ct_leaves():
    cr = CompactRange()
    for size in range(9):
        assert cr.size == size
        assert cr.frontier == _nodes(COMPACT_FRONTIERS[size])
        assert cr.root() == (bytes.fromhex(ROOTS[size]) if size else EMPTY_ROOT)
        if size < 8:
            cr.append(VECTOR_LEAVES[size])


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS[1:])
def test_reference_inclusion_proof_is_rejected_when_tampered(index, size, proof):
    # The corruptions applied by transparency-dev's verifierCheck.
    good = _hexes(proof)
    leaf = VECTOR_LEAVES[index]
    root = bytes.fromhex(ROOTS[size])
    some_hash = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
    for wrong_index in (index - 1, index + 1, index ^ 2):
        assert not verify_inclusion(leaf, wrong_index, size, good, root)
    assert not verify_inclusion(leaf, index, size * 2, good, root)
    assert not verify_inclusion(leaf, index, size // 2, good, root)
    assert not verify_inclusion(leaf_hash(b"WrongLeaf"), index, size, good, root)
    assert not verify_inclusion(leaf, index, size, good, EMPTY_ROOT)
    assert not verify_inclusion(leaf, index, size, good, some_hash)
    assert not verify_inclusion(leaf, index, size, [*good, root], root)
    assert not verify_inclusion(leaf, index, size, [root, *good], root)
    assert not verify_inclusion(leaf, index, size, good[:-1], root)
    if len(good) > 1:
        assert not verify_inclusion(leaf, index, size, [good[0], some_hash, *good[1:]], root)
    for i in range(len(good)):
        assert not verify_inclusion(leaf, index, size, [*good[:i], _flip(good[i], 3)], root)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS[1:])
def test_reference_consistency_proof_is_rejected_when_tampered(old, new, proof):
    # The corruptions applied by transparency-dev's verifierConsistencyCheck.
    good = _hexes(proof)
    r1, r2 = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new])
    for o, n in ((old - 1, new), (old + 1, new), (old ^ 2, new), (old, new * 2), (old, new // 2)):
        assert not verify_consistency(o, n, r1, r2, good)
    assert not verify_consistency(old, new, r2, r1, good)
    assert not verify_consistency(old, new, _flip(r1), r2, good)
    assert not verify_consistency(old, new, r1, _flip(r2), good)
    assert not verify_consistency(old, new, r1, r2, [])
    for extra in (r1, r2, good[0]):
        assert not verify_consistency(old, new, r1, r2, [*good, extra])
        assert not verify_consistency(old, new, r1, r2, [extra, *good])
    assert not verify_consistency(old, new, r1, r2, good[:-1])
    for i in range(len(good)):
        assert not verify_consistency(old, new, r1, r2, [*good[:i], _flip(good[i], 4)])


# --- Edge cases -----------------------------------------------------------------------------


def test_single_leaf_tree_root_is_the_leaf_hash_when_proof_is_empty():
    h = leaf_hash(b"data")
    assert root_from_leaf_hashes([h]) == h
    assert inclusion_proof([h], 0, 1) == []
    assert verify_inclusion(h, 0, 1, [], h)
    assert not verify_inclusion(h, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], h)


def test_consistency_proof_is_empty_when_old_size_is_zero():
    assert consistency_proof(VECTOR_LEAVES, 0, 0) == []
    assert consistency_proof(VECTOR_LEAVES, 0, 8) == []


def test_consistency_from_empty_tree_verifies_when_proof_is_empty():
    root8 = bytes.fromhex(ROOTS[8])
    assert verify_consistency(0, 8, EMPTY_ROOT, root8, [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])


def test_consistency_from_empty_tree_fails_when_proof_or_roots_are_wrong():
    root8 = bytes.fromhex(ROOTS[8])
    assert not verify_consistency(0, 8, EMPTY_ROOT, root8, [EMPTY_ROOT])
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    # A tree of size 0 has exactly one root.
    assert not verify_consistency(0, 8, root8, root8, [])
    assert not verify_consistency(0, 0, root8, root8, [])


@pytest.mark.parametrize("size", range(1, 9))
def test_consistency_proof_is_empty_when_sizes_are_equal(size):
    assert consistency_proof(VECTOR_LEAVES, size, size) == []
    root = bytes.fromhex(ROOTS[size])
    assert verify_consistency(size, size, root, root, [])


def test_equal_size_consistency_fails_when_roots_differ_or_proof_is_not_empty():
    r1, r2 = bytes.fromhex(ROOTS[1]), bytes.fromhex(ROOTS[2])
    assert not verify_consistency(1, 1, r1, r2, [])
    assert not verify_consistency(1, 1, r1, r1, [EMPTY_ROOT])
    assert not verify_consistency(2, 2, r2, r2, [r2])


def test_consistency_fails_when_sizes_go_backwards_or_proof_is_missing():
    r1, r2 = bytes.fromhex(ROOTS[1]), bytes.fromhex(ROOTS[2])
    assert not verify_consistency(1, 0, r1, EMPTY_ROOT, [])
    assert not verify_consistency(2, 1, r2, r1, [])
    assert not verify_consistency(1, 2, r1, r2, [])


def test_proofs_use_only_the_prefix_when_more_leaves_are_available():
    leaves = _leaves(20, b"prefix")
    for size in range(1, 21):
        prefix = leaves[:size]
        for i in range(size):
            assert inclusion_proof(leaves, i, size) == inclusion_proof(prefix, i, size)
        for old in range(size + 1):
            assert consistency_proof(leaves, old, size) == consistency_proof(prefix, old, size)


def test_hashes_are_accepted_when_given_as_bytearray():
    leaves = [bytearray(h) for h in VECTOR_LEAVES]
    root = bytes.fromhex(ROOTS[8])
    assert root_from_leaf_hashes(leaves) == root
    proof = [bytearray(p) for p in inclusion_proof(leaves, 3, 8)]
    assert verify_inclusion(bytearray(leaves[3]), 3, 8, proof, bytearray(root))


# --- Argument validation --------------------------------------------------------------------

GOOD = VECTOR_LEAVES


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: inclusion_proof(GOOD, 8, 8), "index 8 is outside a tree of size 8"),
        (lambda: inclusion_proof(GOOD, 0, 0), "index 0 is outside a tree of size 0"),
        (lambda: inclusion_proof(GOOD, -1, 8), "index must be a non-negative integer"),
        (lambda: inclusion_proof(GOOD, 0, -1), "tree size must be a non-negative integer"),
        (lambda: inclusion_proof(GOOD, 0, 9), "tree size 9 exceeds the 8 leaf hashes"),
        (lambda: consistency_proof(GOOD, 5, 4), "old_size 5 is larger than new_size 4"),
        (lambda: consistency_proof(GOOD, -1, 4), "old_size must be a non-negative integer"),
        (lambda: consistency_proof(GOOD, 0, -4), "tree size must be a non-negative integer"),
        (lambda: consistency_proof(GOOD, 2, 9), "tree size 9 exceeds the 8 leaf hashes"),
        (lambda: root_from_leaf_hashes([b"raw entry"]), "leaf hash at index 0 is not"),
        (lambda: inclusion_proof([*GOOD[:3], b"x"], 0, 4), "leaf hash at index 3 is not"),
        (lambda: CompactRange(-1), "size must be a non-negative integer"),
        (lambda: CompactRange(3, [GOOD[0]]), "a frontier for size 3 has 2 hashes, got 1"),
        (lambda: CompactRange(0, [GOOD[0]]), "a frontier for size 0 has 0 hashes, got 1"),
        (lambda: CompactRange(1, [b"short"]), "frontier hash at position 0 is not"),
        (lambda: CompactRange(32, GOOD[0]), "frontier must be a sequence of hashes"),
        (lambda: CompactRange().append(b"raw entry"), "leaf hash must be a 32-byte hash"),
    ],
)
def test_invalid_arguments_raise_value_error_when_building(call, message):
    with pytest.raises(ValueError, match=message):
        call()


ROOT8 = bytes.fromhex(ROOTS[8])
PROOF_0_8 = _hexes(INCLUSION_VECTORS[1][2])
PROOF_6_8 = _hexes(CONSISTENCY_VECTORS[2][2])
ROOT6 = bytes.fromhex(ROOTS[6])


@pytest.mark.parametrize(
    "args",
    [
        (GOOD[0], 0, 8, PROOF_0_8, ROOT8[:31]),
        (GOOD[0], 0, 8, PROOF_0_8, ROOT8 + b"\x00"),
        (GOOD[0][:31], 0, 8, PROOF_0_8, ROOT8),
        (GOOD[0].hex(), 0, 8, PROOF_0_8, ROOT8),
        (None, 0, 8, PROOF_0_8, ROOT8),
        (GOOD[0], 0, 8, [*PROOF_0_8[:2], PROOF_0_8[2][:31]], ROOT8),
        (GOOD[0], 0, 8, [*PROOF_0_8[:2], b""], ROOT8),
        (GOOD[0], 0, 8, [*PROOF_0_8[:2], None], ROOT8),
        (GOOD[0], 0, 8, b"".join(PROOF_0_8), ROOT8),
        (GOOD[0], 0, 8, None, ROOT8),
        (GOOD[0], -1, 8, PROOF_0_8, ROOT8),
        (GOOD[0], 0, -8, PROOF_0_8, ROOT8),
        (GOOD[0], 8, 8, PROOF_0_8, ROOT8),
        (GOOD[0], 0, 0, [], EMPTY_ROOT),
        (GOOD[0], 0.0, 8, PROOF_0_8, ROOT8),
        (GOOD[0], "0", 8, PROOF_0_8, ROOT8),
        (GOOD[0], False, True, [], GOOD[0]),
    ],
)
def test_verify_inclusion_returns_false_when_input_is_malformed(args):
    assert verify_inclusion(*args) is False


@pytest.mark.parametrize(
    "args",
    [
        (6, 8, ROOT6[:31], ROOT8, PROOF_6_8),
        (6, 8, ROOT6, ROOT8 + b"\x00", PROOF_6_8),
        (6, 8, None, ROOT8, PROOF_6_8),
        (6, 8, ROOT6, ROOT8, [*PROOF_6_8[:2], PROOF_6_8[2][:31]]),
        (6, 8, ROOT6, ROOT8, [*PROOF_6_8[:2], b""]),
        (6, 8, ROOT6, ROOT8, b"".join(PROOF_6_8)),
        (6, 8, ROOT6, ROOT8, None),
        (-6, 8, ROOT6, ROOT8, PROOF_6_8),
        (6, -8, ROOT6, ROOT8, PROOF_6_8),
        (8, 6, ROOT8, ROOT6, PROOF_6_8),
        (6.0, 8, ROOT6, ROOT8, PROOF_6_8),
        (0, 0, b"", b"", []),
        (1, 1, b"", b"", []),
    ],
)
def test_verify_consistency_returns_false_when_input_is_malformed(args):
    assert verify_consistency(*args) is False


# --- Agreement with the literal RFC 6962 definitions ----------------------------------------


def test_root_and_proofs_match_rfc6962_definitions_when_trees_are_small():
    leaves = _leaves(48, b"oracle")
    for n in range(1, len(leaves) + 1):
        d = leaves[:n]
        assert root_from_leaf_hashes(d) == _rfc_mth(d)
        for m in range(n):
            assert inclusion_proof(d, m, n) == _rfc_path(m, d)
        for m in range(1, n + 1):
            assert consistency_proof(d, m, n) == _rfc_subproof(m, d, True)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(min_value=0, max_value=600), salt=salts)
def test_root_matches_rfc6962_definition_when_leaf_count_is_random(n, salt):
    leaves = _leaves(n, salt)
    assert root_from_leaf_hashes(leaves) == _rfc_mth(leaves)


def test_root_is_computed_without_recursion_when_log_has_a_million_leaves():
    n = 1_000_000
    # Leaf hashes need not be real leaf hashes here; distinct 32-byte values are enough.
    leaves = [i.to_bytes(32, "big") for i in range(n)]
    root = root_from_leaf_hashes(leaves)
    cr = CompactRange()
    for h in leaves:
        cr.append(h)
    assert cr.size == n
    assert cr.root() == root
    proof = inclusion_proof(leaves, n - 1, n)
    assert verify_inclusion(leaves[-1], n - 1, n, proof, root)


# --- Audit paths gathered in one streamed pass ----------------------------------------------


def test_audit_paths_equal_inclusion_proofs_when_every_leaf_is_chosen():
    leaves = _leaves(70, b"stream")
    for n in range(1, len(leaves) + 1):
        paths = AuditPaths(n, range(n))
        assert paths.feed(iter(leaves[:n])) == root_from_leaf_hashes(leaves[:n])
        for m in range(n):
            assert paths.path(m) == inclusion_proof(leaves, m, n)


@FAST
@given(n=st.integers(min_value=1, max_value=3000), salt=salts, data=st.data())
def test_audit_paths_of_a_few_leaves_equal_inclusion_proofs_when_the_tree_is_large(n, salt, data):
    leaves = _leaves(n, salt)
    chosen = data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=12), label="chosen")
    paths = AuditPaths(n, chosen)
    root = paths.feed(leaf for leaf in leaves)
    assert root == root_from_leaf_hashes(leaves)
    for m in chosen:
        assert paths.path(m) == inclusion_proof(leaves, m, n)
        assert verify_inclusion(leaves[m], m, n, paths.path(m), root)
    # Only the nodes the chosen paths need are kept: at most one per level per chosen leaf.
    assert len(paths._nodes) <= len(chosen) * paths.height


def test_audit_paths_refuse_wrong_leaf_counts_and_unchosen_or_outside_leaves():
    leaves = _leaves(9, b"count")
    with pytest.raises(ValueError, match="outside"):
        AuditPaths(9, [9])
    with pytest.raises(ValueError, match="leaf hashes for a tree"):
        AuditPaths(9, [1]).feed(leaves[:8])
    with pytest.raises(ValueError, match="more than 8"):
        AuditPaths(8, [1]).feed(leaves)
    paths = AuditPaths(9, [8])
    with pytest.raises(ValueError, match="not been fed"):
        paths.path(8)
    paths.feed(leaves)
    assert paths.path(8) == inclusion_proof(leaves, 8, 9)
    with pytest.raises(ValueError, match="not chosen"):
        paths.path(0)
    with pytest.raises(ValueError, match="outside"):
        paths.path(9)
    assert AuditPaths(0, []).feed([]) == EMPTY_ROOT


# --- Properties: inclusion ------------------------------------------------------------------


@FAST
@given(n=sizes, salt=salts)
def test_inclusion_proof_verifies_when_checked_for_every_index(n, salt):
    leaves = _leaves(n, salt)
    root = root_from_leaf_hashes(leaves)
    for i in range(n):
        assert verify_inclusion(leaves[i], i, n, inclusion_proof(leaves, i, n), root)


@FAST
@given(n=sizes, salt=salts, data=st.data())
def test_inclusion_proof_fails_when_any_proof_element_or_the_leaf_is_flipped(n, salt, data):
    leaves = _leaves(n, salt)
    root = root_from_leaf_hashes(leaves)
    i = data.draw(st.integers(0, n - 1), label="index")
    bit = data.draw(st.integers(0, 255), label="bit")
    proof = inclusion_proof(leaves, i, n)
    assert not verify_inclusion(_flip(leaves[i], bit), i, n, proof, root)
    assert not verify_inclusion(leaves[i], i, n, proof, _flip(root, bit))
    for j in range(len(proof)):
        tampered = [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]]
        assert not verify_inclusion(leaves[i], i, n, tampered, root)


@FAST
@given(n=sizes, salt=salts, data=st.data())
def test_inclusion_proof_fails_when_index_or_size_is_wrong(n, salt, data):
    leaves = _leaves(n, salt)
    root = root_from_leaf_hashes(leaves)
    i = data.draw(st.integers(0, n - 1), label="index")
    proof = inclusion_proof(leaves, i, n)
    wrong_index = data.draw(st.integers(-2, n + 2).filter(lambda j: j != i), label="wrong")
    assert not verify_inclusion(leaves[i], wrong_index, n, proof, root)
    # The path, not the root, fixes the leaf's position, so any other index fails. Sizes are
    # different: index 0 has the same path shape in trees of 3 and 4 leaves, so only the root
    # tells those apart. Doubling or halving always changes the path length, so those fail.
    assert not verify_inclusion(leaves[i], i, n * 2, proof, root)
    assert not verify_inclusion(leaves[i], i, n // 2, proof, root)
    assert not verify_inclusion(leaves[i], i, n, [*proof, root], root)
    if proof:
        assert not verify_inclusion(leaves[i], i, n, proof[:-1], root)


# --- Properties: consistency ----------------------------------------------------------------


@SLOW
@given(n=sizes, salt=salts)
def test_consistency_proof_verifies_when_checked_for_every_old_size(n, salt):
    leaves = _leaves(n, salt)
    roots = _prefix_roots(leaves)
    for m in range(n + 1):
        proof = consistency_proof(leaves, m, n)
        assert verify_consistency(m, n, roots[m], roots[n], proof)


@FAST
@given(n=sizes, salt=salts, data=st.data())
def test_consistency_proof_fails_when_a_leaf_below_old_size_is_rewritten(n, salt, data):
    leaves = _leaves(n, salt)
    m = data.draw(st.integers(1, n), label="old_size")
    j = data.draw(st.integers(0, m - 1), label="rewritten leaf")
    old_root = root_from_leaf_hashes(leaves[:m])
    forged = list(leaves)
    forged[j] = _flip(forged[j], data.draw(st.integers(0, 255), label="bit"))
    forged_root = root_from_leaf_hashes(forged)
    forged_proof = consistency_proof(forged, m, n)
    assert not verify_consistency(m, n, old_root, forged_root, forged_proof)
    honest_proof = consistency_proof(leaves, m, n)
    assert not verify_consistency(m, n, old_root, forged_root, honest_proof)


@FAST
@given(n=st.integers(2, 300), salt=salts, data=st.data())
def test_consistency_proof_fails_when_a_new_leaf_changes_after_the_root_was_taken(n, salt, data):
    leaves = _leaves(n, salt)
    m = data.draw(st.integers(1, n - 1), label="old_size")
    j = data.draw(st.integers(m, n - 1), label="changed leaf")
    old_root = root_from_leaf_hashes(leaves[:m])
    new_root_before = root_from_leaf_hashes(leaves)
    changed = list(leaves)
    changed[j] = _flip(changed[j], data.draw(st.integers(0, 255), label="bit"))
    proof = consistency_proof(changed, m, n)
    # The changed tree is itself a valid extension of the old one...
    assert verify_consistency(m, n, old_root, root_from_leaf_hashes(changed), proof)
    # ...but not of the root published before the change.
    assert not verify_consistency(m, n, old_root, new_root_before, proof)


@FAST
@given(n=st.integers(2, 300), salt=salts, data=st.data())
def test_consistency_proof_fails_when_any_proof_element_is_flipped(n, salt, data):
    leaves = _leaves(n, salt)
    m = data.draw(st.integers(1, n - 1), label="old_size")
    bit = data.draw(st.integers(0, 255), label="bit")
    old_root, new_root = root_from_leaf_hashes(leaves[:m]), root_from_leaf_hashes(leaves)
    proof = consistency_proof(leaves, m, n)
    for k in range(len(proof)):
        tampered = [*proof[:k], _flip(proof[k], bit), *proof[k + 1 :]]
        assert not verify_consistency(m, n, old_root, new_root, tampered)
    assert not verify_consistency(m, n, old_root, new_root, proof[:-1])
    assert not verify_consistency(m, n, old_root, new_root, [*proof, new_root])
    assert not verify_consistency(m, n, new_root, old_root, proof)


# --- Properties: compact range --------------------------------------------------------------


@FAST
@given(n=sizes, salt=salts)
def test_compact_range_root_matches_full_root_when_checked_at_every_prefix(n, salt):
    leaves = _leaves(n, salt)
    cr = CompactRange()
    for size in range(1, n + 1):
        cr.append(leaves[size - 1])
        assert cr.size == size
        assert len(cr.frontier) == size.bit_count()
        assert cr.root() == root_from_leaf_hashes(leaves[:size])


@FAST
@given(n=sizes, salt=salts, data=st.data())
def test_compact_range_continues_correctly_when_rebuilt_from_size_and_frontier(n, salt, data):
    leaves = _leaves(n, salt)
    k = data.draw(st.integers(0, n), label="checkpoint size")
    cr = CompactRange()
    for h in leaves[:k]:
        cr.append(h)
    # The frontier is the roots of the perfect subtrees covering [0, k), largest first.
    start = 0
    expected = []
    for bit in reversed(range(k.bit_length())):
        if k >> bit & 1:
            expected.append(root_from_leaf_hashes(leaves[start : start + (1 << bit)]))
            start += 1 << bit
    assert cr.frontier == expected

    restored = CompactRange(cr.size, [bytes(h) for h in cr.frontier])
    assert restored.root() == cr.root()
    for h in leaves[k:]:
        restored.append(h)
    assert restored.size == n
    assert restored.root() == root_from_leaf_hashes(leaves)


def test_module_has_no_third_party_or_django_imports_when_loaded():
    tree = ast.parse(Path(merkle.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
