"""The audit log's Merkle tree against RFC 9162's recursive definitions, for every small size."""

from __future__ import annotations

import hashlib

import pytest

from candor.serving.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    inclusion_path,
    leaf_hash,
    node_hash,
    root_of,
    verify_inclusion,
)


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 2.1.1, written as the RFC does."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


LEAVES = [f"event {i}".encode() for i in range(33)]


@pytest.mark.parametrize("n", range(34))
def test_roots_match_the_rfc_definition(n: int) -> None:
    hashes = [leaf_hash(leaf) for leaf in LEAVES[:n]]
    assert root_of(hashes) == mth(LEAVES[:n])
    grown = Frontier()
    for h in hashes:  # one leaf at a time, as the writer extends the tree
        grown.append(h)
    assert grown.root() == mth(LEAVES[:n])
    assert Frontier.from_hex(n, grown.to_hex()).root() == grown.root()


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 21, 33])
def test_every_leaf_has_a_proof_and_no_other_leaf_fits_it(n: int) -> None:
    hashes = [leaf_hash(leaf) for leaf in LEAVES[:n]]
    root = root_of(hashes)
    for index in range(n):
        path = inclusion_path(hashes, index)
        assert verify_inclusion(hashes[index], index, n, path, root)
        assert not verify_inclusion(leaf_hash(b"forged"), index, n, path, root)
        if n > 1:
            other = (index + 1) % n
            assert not verify_inclusion(hashes[index], other, n, path, root)


def test_an_empty_tree_and_a_malformed_frontier() -> None:
    assert root_of([]) == EMPTY_ROOT == Frontier().root()
    with pytest.raises(ValueError, match="subtrees"):
        Frontier.from_hex(3, [node_hash(b"a", b"b").hex()])
