"""The Merkle tree of the audit log, as Certificate Transparency defines it (RFC 6962 / 9162).

Pure functions over bytes, no database. A leaf is one event's canonical bytes; the tree of
``n`` leaves has the root ``MTH(D[n])`` of RFC 9162 section 2.1.1. :class:`Frontier` keeps
the roots of the perfect subtrees that make up a tree (one per set bit of its size), so a
writer extends the tree and computes the new root from O(log n) hashes, without re-reading
the log; :func:`inclusion_path` and :func:`verify_inclusion` are the audit path of section
2.1.3, which anyone holding a signed tree head can check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (already hashed with :func:`leaf_hash`)."""
    if not hashes:
        return EMPTY_ROOT
    return Frontier.of(hashes).root()


@dataclass
class Frontier:
    """The perfect subtrees of a tree of ``size`` leaves, largest (leftmost) first."""

    size: int = 0
    subtrees: list[bytes] = field(default_factory=list)

    @classmethod
    def of(cls, hashes: Sequence[bytes]) -> Frontier:
        frontier = cls()
        frontier.extend(hashes)
        return frontier

    def copy(self) -> Frontier:
        return Frontier(self.size, list(self.subtrees))

    def append(self, hashed_leaf: bytes) -> None:
        node, size = hashed_leaf, self.size
        # a carry: merge with each subtree of the same size (the low set bits of ``size``)
        while size & 1:
            node = node_hash(self.subtrees.pop(), node)
            size >>= 1
        self.subtrees.append(node)
        self.size += 1

    def extend(self, hashes: Sequence[bytes]) -> None:
        for h in hashes:
            self.append(h)

    def root(self) -> bytes:
        """RFC 9162 MTH: the perfect subtrees folded from the right."""
        if not self.subtrees:
            return EMPTY_ROOT
        node = self.subtrees[-1]
        for left in reversed(self.subtrees[:-1]):
            node = node_hash(left, node)
        return node

    def to_hex(self) -> list[str]:
        return [h.hex() for h in self.subtrees]

    @classmethod
    def from_hex(cls, size: int, subtrees: Sequence[str]) -> Frontier:
        frontier = cls(size, [bytes.fromhex(h) for h in subtrees])
        if len(frontier.subtrees) != bin(size).count("1"):
            raise ValueError(f"a tree of {size} leaves has {bin(size).count('1')} subtrees")
        return frontier


def inclusion_path(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) of RFC 9162 2.1.3.1, over the leaf hashes of the whole tree."""
    if not 0 <= index < len(hashes):
        raise IndexError(f"leaf {index} is not in a tree of {len(hashes)} leaves")
    path: list[bytes] = []
    lo, hi = 0, len(hashes)
    # walk down from the root, collecting the sibling subtree of each step; leaf-first order
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            path.append(root_of(hashes[lo + k : hi]))
            hi = lo + k
        else:
            path.append(root_of(hashes[lo : lo + k]))
            lo += k
    path.reverse()
    return path


def verify_inclusion(
    hashed_leaf: bytes, index: int, tree_size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does ``path`` prove leaf ``index`` is in the tree with ``root``?"""
    if not 0 <= index < tree_size:
        return False
    fn, sn, node = index, tree_size - 1, hashed_leaf
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node == root
