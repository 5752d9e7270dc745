"""Exact path-dependent TreeSHAP for a LightGBM booster, from tables built once per model.

Path-dependent TreeSHAP (the algorithm of LightGBM's ``pred_contrib``) gives leaf ``l`` of a tree,
whose path to the root splits on the distinct features ``P`` (``d = |P|``), this share of
feature ``i``'s Shapley value for a row ``x``::

    v_l * (o_i - z_i) * sum over S subset of P - {i} of  w(|S|, d) * prod_{j in S} o_j
                                                          * prod_{j in P - S - {i}} z_j

where ``v_l`` is the leaf value, ``z_j`` the product of the cover fractions (data counts) of
the path's splits on ``j``, ``o_j`` is 1 when ``x`` meets every one of the path's conditions
on ``j`` (else 0) and ``w(s, d) = s! (d - s - 1)! / d!``. The ``o`` are bits, so the value
depends on ``x`` only through which of the path's features it "follows": a pattern ``Q`` of
``d`` bits. Tables of the exact value for every pattern are computed once, when a model is
loaded; explaining a row is then one decision per split and one table lookup per leaf (or per
tree: a tree with at most ``MAX_TREE_PATTERN_SPLITS`` splits gets one table indexed by the
outcome of all its splits, the fastest form). Decisions follow LightGBM's rules exactly:
``value <= threshold``, missing values by ``missing_type`` (NaN, zero) and ``default_left``,
categorical splits as bitsets (negative, NaN and unseen categories go right).

A model whose tables would exceed ``max_table_bytes`` is explained by ``pred_contrib`` instead
(``TreeShap.info`` says which and why). Linear trees and multi-class models are refused.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numba
import numpy as np

MAX_TREE_PATTERN_SPLITS = 10  # a tree with more splits gets tables per leaf instead
MAX_PATH_FEATURES = 16  # distinct features on one root-to-leaf path (2^d table rows)
DEFAULT_MAX_TABLE_BYTES = 512 * 2**20
ZERO_THRESHOLD = 1.0000000180025095e-35  # LightGBM's kZeroThreshold, 1e-35f: a float32 literal
MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2
_MISSING = {"None": MISSING_NONE, "Zero": MISSING_ZERO, "NaN": MISSING_NAN}


class TreeShapUnsupported(ValueError):
    """A booster this kernel cannot explain (linear trees, several classes)."""


@dataclass(frozen=True)
class TreeShapInfo:
    """How a model is explained, for its metadata and model card."""

    method: str  # "tables" (this kernel) or "pred_contrib" (LightGBM's own, the fallback)
    trees: int
    table_bytes: int
    build_seconds: float
    reason: str | None = None  # why the fallback was taken

    def describe(self) -> str:
        """In words, for the model card."""
        if self.method == "tables":
            return (
                f"exact path-dependent TreeSHAP from precomputed tables ({self.table_bytes:,} "
                f"bytes for {self.trees} trees, built in {self.build_seconds:.2f} s); equal to "
                "LightGBM's pred_contrib within 1e-9"
            )
        return f"LightGBM's pred_contrib ({self.reason})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "trees": self.trees,
            "table_bytes": self.table_bytes,
            "build_seconds": round(self.build_seconds, 3),
            "reason": self.reason,
        }


# --- reading the booster ------------------------------------------------------------------


@dataclass
class _Tree:
    """One tree as flat arrays; internal nodes 0..n-1, leaves as ~index (LightGBM's layout)."""

    feature: np.ndarray  # int64 per split
    threshold: np.ndarray  # float64 per split (numeric)
    categorical: np.ndarray  # bool per split
    cat_bits: list[np.ndarray]  # per split: uint32 bitset of the categories that go left
    missing: np.ndarray  # int64 per split: MISSING_NONE / ZERO / NAN
    default_left: np.ndarray  # bool per split
    left: np.ndarray  # int64 child per split (>= 0 a split, < 0 the leaf ~child)
    right: np.ndarray
    count: np.ndarray  # float64 data count per split
    leaf_value: np.ndarray
    leaf_count: np.ndarray


def _category_bits(threshold: str) -> np.ndarray:
    categories = [int(c) for c in str(threshold).split("||")]
    bits = np.zeros(max(categories) // 32 + 1, dtype=np.uint32)
    for c in categories:
        bits[c // 32] |= np.uint32(1) << np.uint32(c % 32)
    return bits


def _read_tree(structure: dict[str, Any]) -> _Tree:
    splits: list[dict[str, Any]] = []
    leaves: list[dict[str, Any]] = []

    def visit(node: dict[str, Any]) -> int:
        if "leaf_value" in node:
            leaves.append(node)
            return ~(len(leaves) - 1)
        index = len(splits)
        splits.append(node)
        node["_left"] = visit(node["left_child"])
        node["_right"] = visit(node["right_child"])
        return index

    visit(structure)
    categorical = [s["decision_type"] == "==" for s in splits]
    return _Tree(
        feature=np.array([s["split_feature"] for s in splits], dtype=np.int64),
        threshold=np.array(
            [
                0.0 if c else _threshold(float(s["threshold"]))
                for s, c in zip(splits, categorical, strict=True)
            ]
        ),
        categorical=np.array(categorical, dtype=bool),
        cat_bits=[
            _category_bits(s["threshold"]) if c else np.zeros(0, dtype=np.uint32)
            for s, c in zip(splits, categorical, strict=True)
        ],
        missing=np.array([_MISSING[s["missing_type"]] for s in splits], dtype=np.int64),
        default_left=np.array([bool(s["default_left"]) for s in splits], dtype=bool),
        left=np.array([s["_left"] for s in splits], dtype=np.int64),
        right=np.array([s["_right"] for s in splits], dtype=np.int64),
        count=np.array([float(s["internal_count"]) for s in splits]),
        leaf_value=np.array([float(leaf["leaf_value"]) for leaf in leaves]),
        leaf_count=np.array([float(leaf.get("leaf_count", 0)) for leaf in leaves]),
    )


def _threshold(dumped: float) -> float:
    """The split's real threshold: ``dump_model`` writes +-inf as +-1e300 (LightGBM's
    AvoidInf), so a "NaN or not" split would send (1e300, inf] the wrong way."""
    if dumped >= 1e300:
        return math.inf
    if dumped <= -1e300:
        return -math.inf
    return dumped


def _paths(tree: _Tree) -> list[tuple[list[int], list[bool]]]:
    """Per leaf (in leaf order): the splits from the root and whether the path goes left."""
    out: list[tuple[list[int], list[bool]]] = [([], [])] * len(tree.leaf_value)

    def walk(node: int, nodes: list[int], lefts: list[bool]) -> None:
        if node < 0:
            out[~node] = (nodes, lefts)
            return
        walk(int(tree.left[node]), [*nodes, node], [*lefts, True])
        walk(int(tree.right[node]), [*nodes, node], [*lefts, False])

    if len(tree.feature):
        walk(0, [], [])
    return out


# --- the tables ---------------------------------------------------------------------------


@numba.njit(cache=True)
def _leaf_table(value: float, zeros: np.ndarray) -> np.ndarray:
    """Table (2^d, d): feature slot s's contribution for each pattern Q of followed slots."""
    d = zeros.shape[0]
    weights = np.empty(d)  # w(s, d) = s! (d - s - 1)! / d!
    for s in range(d):
        weights[s] = math.exp(math.lgamma(s + 1) + math.lgamma(d - s) - math.lgamma(d + 1))
    table = np.zeros((1 << d, d))
    poly = np.empty(d + 1)
    for pattern in range(1 << d):
        for i in range(d):
            followed_i = (pattern >> i) & 1
            # sum over S subset of Q - {i}: w(|S|) * prod_{Q - {i} - S} z * prod_{P - Q - {i}} z
            # = prod_{P - Q - {i}} z * sum_k w(m - k) e_k(z of Q - {i}), m = |Q - {i}|
            outside = 1.0
            poly[0] = 1.0
            m = 0
            for j in range(d):
                if j == i:
                    continue
                if (pattern >> j) & 1:
                    m += 1
                    poly[m] = 0.0
                    for k in range(m, 0, -1):  # multiply the polynomial by (1 + z_j t)
                        poly[k] += zeros[j] * poly[k - 1]
                else:
                    outside *= zeros[j]
            total = 0.0
            for k in range(m + 1):
                total += weights[m - k] * poly[k]
            table[pattern, i] = value * (followed_i - zeros[i]) * outside * total
    return table


@dataclass
class _LeafTables:
    """Every leaf of one tree: its path slots and the table per pattern of followed slots."""

    slot_feature: list[np.ndarray]  # per leaf: the feature of each slot
    slot_mask: list[np.ndarray]  # per leaf: bitmask of the path's splits on that slot's feature
    direction: list[int]  # per leaf: bitmask of the path's splits that go left
    table: list[np.ndarray]


def _leaf_tables(tree: _Tree) -> _LeafTables:
    out = _LeafTables([], [], [], [])
    for leaf, (nodes, lefts) in enumerate(_paths(tree)):
        features: list[int] = []
        zeros: list[float] = []
        masks: list[int] = []
        direction = 0
        for node, left in zip(nodes, lefts, strict=True):
            child = int(tree.left[node] if left else tree.right[node])
            child_count = tree.count[child] if child >= 0 else tree.leaf_count[~child]
            fraction = child_count / tree.count[node] if tree.count[node] > 0 else 0.0
            direction |= int(left) << node
            feature = int(tree.feature[node])
            if feature in features:
                slot = features.index(feature)
                zeros[slot] *= fraction
                masks[slot] |= 1 << node
            else:
                features.append(feature)
                zeros.append(fraction)
                masks.append(1 << node)
        if len(features) > MAX_PATH_FEATURES:
            raise _TooLarge(f"a path splits on {len(features)} features")
        out.slot_feature.append(np.array(features, dtype=np.int64))
        out.slot_mask.append(np.array(masks, dtype=np.int64))
        out.direction.append(direction)
        out.table.append(_leaf_table(float(tree.leaf_value[leaf]), np.array(zeros)))
    return out


class _TooLarge(Exception):
    pass


def _tree_pattern_table(tree: _Tree, leaves: _LeafTables) -> tuple[np.ndarray, np.ndarray]:
    """For a small tree: its distinct features and a table (2^splits, features)."""
    features = np.unique(tree.feature)
    n_splits = len(tree.feature)
    table = np.zeros((1 << n_splits, len(features)))
    column = {int(f): c for c, f in enumerate(features)}
    # every outcome at once (bit n set: split n's condition sends the row left); the additions
    # into each cell happen leaf by leaf, slot by slot, as in a loop over outcomes
    outcomes = np.arange(1 << n_splits, dtype=np.int64)
    for leaf, direction in enumerate(leaves.direction):
        pattern = np.zeros(len(outcomes), dtype=np.int64)
        for slot, mask in enumerate(leaves.slot_mask[leaf].tolist()):
            pattern |= (((outcomes ^ direction) & mask) == 0).astype(np.int64) << slot
        rows = np.asarray(leaves.table[leaf])[pattern]
        for slot, feature in enumerate(leaves.slot_feature[leaf].tolist()):
            table[:, column[int(feature)]] += rows[:, slot]
    return features, table


# --- the kernel ---------------------------------------------------------------------------


# how a split decides, precomputed once: most splits are numeric with no missing rule
SPLIT_NUMERIC, SPLIT_NUMERIC_ZERO, SPLIT_NUMERIC_NAN, SPLIT_CATEGORICAL = 0, 1, 2, 3


@numba.njit(cache=True, parallel=True)
def _explain(
    x: np.ndarray,
    out: np.ndarray,
    split_start: np.ndarray,
    tree_cat_start: np.ndarray,
    split_bit: np.ndarray,
    split_feature: np.ndarray,
    split_kind: np.ndarray,
    split_threshold: np.ndarray,
    split_bit_start: np.ndarray,
    split_bit_count: np.ndarray,
    split_default_left: np.ndarray,
    bits: np.ndarray,
    tree_mode: np.ndarray,
    tree_table_start: np.ndarray,
    tree_feature_start: np.ndarray,
    tree_n_features: np.ndarray,
    tree_features: np.ndarray,
    tree_leaf_start: np.ndarray,
    leaf_direction: np.ndarray,
    leaf_slot_start: np.ndarray,
    leaf_n_slots: np.ndarray,
    leaf_table_start: np.ndarray,
    slot_feature: np.ndarray,
    slot_mask: np.ndarray,
    tables: np.ndarray,
) -> None:
    n_rows = x.shape[0]
    n_trees = tree_mode.shape[0]
    n_out = out.shape[1]
    for r in numba.prange(n_rows):
        # a row's sums in a local array: stores into ``out`` inside the loop would make the
        # compiler reload every table's address after each one (it cannot rule out aliasing)
        acc = np.zeros(n_out)
        row = x[r]
        for t in range(n_trees):
            # a tree's numeric splits come first, then its categorical ones: no branch on the
            # kind of split per decision (mispredicted, it cost more than the decision itself)
            first, middle, last = split_start[t], tree_cat_start[t], split_start[t + 1]
            outcome = 0
            for s in range(first, middle):  # LightGBM's numerical decision, branch-free
                value = row[split_feature[s]]
                is_nan = value != value
                known = 0.0 if is_nan or abs(value) <= ZERO_THRESHOLD else value
                kind = split_kind[s]
                missing = (is_nan & (kind == SPLIT_NUMERIC_NAN)) | (
                    (kind == SPLIT_NUMERIC_ZERO) & (abs(known) <= ZERO_THRESHOLD)
                )
                left = split_default_left[s] if missing else known <= split_threshold[s]
                outcome |= np.int64(left) << split_bit[s]
            for s in range(middle, last):  # categorical: the category's bit in the left set
                value = row[split_feature[s]]
                # NaN, negative, out-of-range and unseen categories go right
                if value == value and -1.0 < value < 2147483648.0:
                    category = int(value)  # truncates toward zero, as static_cast<int>
                    word = category >> 5
                    if (
                        word < split_bit_count[s]
                        and (bits[split_bit_start[s] + word] >> (category & 31)) & 1
                    ):
                        outcome |= np.int64(1) << split_bit[s]
            if tree_mode[t] == 0:  # one table for the tree, indexed by the outcome
                width = tree_n_features[t]
                base = tree_table_start[t] + outcome * width
                f0 = tree_feature_start[t]
                for c in range(width):
                    acc[tree_features[f0 + c]] += tables[base + c]
            else:  # one table per leaf, indexed by the pattern of followed slots
                for leaf in range(tree_leaf_start[t], tree_leaf_start[t + 1]):
                    wrong = outcome ^ leaf_direction[leaf]
                    n_slots = leaf_n_slots[leaf]
                    s0 = leaf_slot_start[leaf]
                    pattern = 0
                    for k in range(n_slots):
                        if (wrong & slot_mask[s0 + k]) == 0:
                            pattern |= 1 << k
                    base = leaf_table_start[leaf] + pattern * n_slots
                    for k in range(n_slots):
                        acc[slot_feature[s0 + k]] += tables[base + k]
        for j in range(n_out):
            out[r, j] = acc[j]


# The same loop compiled without threads, for small batches: an HTTP request of one lead would
# otherwise start a parallel region per call, and concurrent requests would contend for the
# cores. Not cached on disk (one compile per process, at model load: see TreeShap.__init__).
_explain_serial = numba.njit(_explain.py_func)
PARALLEL_FROM_ROWS = 256  # batches at least this large use every core


class TreeShap:
    """Exact path-dependent SHAP contributions of one booster, equal to ``pred_contrib``."""

    def __init__(self, booster: lgb.Booster, *, max_table_bytes: int = DEFAULT_MAX_TABLE_BYTES):
        started = time.perf_counter()
        model = booster.dump_model()
        if int(model.get("num_class", 1)) > 1:
            raise TreeShapUnsupported("a multi-class booster: explain one class at a time")
        trees = [info for info in model["tree_info"]]
        if any(info.get("is_linear") or "leaf_coeff" in _first_leaf(info) for info in trees):
            raise TreeShapUnsupported(
                "linear trees (linear_tree=true): their leaves are models, not values, and "
                "path-dependent TreeSHAP does not apply"
            )
        self.booster = booster
        self.n_features = booster.num_feature()
        self._arrays: tuple[np.ndarray, ...] | None = None
        reason = None
        try:
            self._arrays, self.base_value = self._build(trees, max_table_bytes)
        except _TooLarge as exc:
            reason = f"{exc}: explained by LightGBM's pred_contrib instead"
            self.base_value = 0.0
        if self._arrays is not None:  # compile both loops now, not on the first request
            self.contributions(np.zeros((1, self.n_features)))
            self.contributions(np.zeros((PARALLEL_FROM_ROWS, self.n_features)))
        table_bytes = 0 if self._arrays is None else int(self._arrays[-1].nbytes)
        self.info = TreeShapInfo(
            method="tables" if self._arrays is not None else "pred_contrib",
            trees=len(trees),
            table_bytes=table_bytes,
            build_seconds=time.perf_counter() - started,
            reason=reason,
        )

    def _build(
        self, trees: list[dict[str, Any]], max_bytes: int
    ) -> tuple[tuple[np.ndarray, ...], float]:
        split_start = [0]
        tree_cat_start: list[int] = []
        split_cols: dict[str, list[Any]] = {
            k: [] for k in ("bit", "feature", "kind", "threshold", "bit_start", "bit_count", "left")
        }
        bits: list[np.ndarray] = []
        n_bits = 0
        tree_mode, tree_table_start, tree_feature_start, tree_n_features = [], [], [], []
        tree_features: list[int] = []
        tree_leaf_start = [0]
        leaf_direction, leaf_slot_start, leaf_n_slots, leaf_table_start = [], [], [], []
        slot_feature: list[int] = []
        slot_mask: list[int] = []
        tables: list[np.ndarray] = []
        n_table = 0
        base_value = 0.0
        for info in trees:
            tree = _read_tree(info["tree_structure"])
            n_splits = len(tree.feature)
            if n_splits > 62:
                raise _TooLarge(f"a tree has {n_splits} splits")
            counts = tree.leaf_count
            root = tree.count[0] if n_splits else 1.0
            base_value += (
                float(np.sum(counts / root * tree.leaf_value)) if n_splits else tree.leaf_value[0]
            )
            numeric = [s for s in range(n_splits) if not tree.categorical[s]]
            tree_cat_start.append(split_start[-1] + len(numeric))
            split_start.append(split_start[-1] + n_splits)
            for s in numeric + [s for s in range(n_splits) if tree.categorical[s]]:
                split_cols["bit"].append(s)  # the split's bit in the tree's outcome
                split_cols["feature"].append(int(tree.feature[s]))
                split_cols["kind"].append(_split_kind(bool(tree.categorical[s]), tree.missing[s]))
                split_cols["threshold"].append(float(tree.threshold[s]))
                split_cols["bit_start"].append(n_bits)
                split_cols["bit_count"].append(len(tree.cat_bits[s]))
                split_cols["left"].append(bool(tree.default_left[s]))
                bits.append(tree.cat_bits[s])
                n_bits += len(tree.cat_bits[s])
            leaves = _leaf_tables(tree) if n_splits else _LeafTables([], [], [], [])
            if n_splits and n_splits <= MAX_TREE_PATTERN_SPLITS:
                features, table = _tree_pattern_table(tree, leaves)
                tree_mode.append(0)
                tree_table_start.append(n_table)
                tree_feature_start.append(len(tree_features))
                tree_n_features.append(len(features))
                tree_features.extend(int(f) for f in features)
                tables.append(table.ravel())
                n_table += table.size
            else:  # per-leaf tables (a single-leaf tree has none: its value is all base)
                tree_mode.append(1)
                tree_table_start.append(0)
                tree_feature_start.append(len(tree_features))
                tree_n_features.append(0)
                for leaf in range(len(leaves.table)):
                    leaf_direction.append(leaves.direction[leaf])
                    leaf_slot_start.append(len(slot_feature))
                    leaf_n_slots.append(len(leaves.slot_feature[leaf]))
                    leaf_table_start.append(n_table)
                    slot_feature.extend(int(f) for f in leaves.slot_feature[leaf])
                    slot_mask.extend(int(m) for m in leaves.slot_mask[leaf])
                    tables.append(leaves.table[leaf].ravel())
                    n_table += leaves.table[leaf].size
            tree_leaf_start.append(len(leaf_direction))
            if n_table * 8 > max_bytes:
                raise _TooLarge(f"the tables would exceed {max_bytes // 2**20} MiB")

        def ints(values: list[Any]) -> np.ndarray:
            return np.array(values, dtype=np.int64)

        arrays = (
            ints(split_start),
            ints(tree_cat_start),
            ints(split_cols["bit"]),
            ints(split_cols["feature"]),
            ints(split_cols["kind"]),
            np.array(split_cols["threshold"], dtype=np.float64),
            ints(split_cols["bit_start"]),
            ints(split_cols["bit_count"]),
            np.array(split_cols["left"], dtype=np.bool_),
            np.concatenate(bits) if bits else np.zeros(1, dtype=np.uint32),
            ints(tree_mode),
            ints(tree_table_start),
            ints(tree_feature_start),
            ints(tree_n_features),
            ints(tree_features or [0]),
            ints(tree_leaf_start),
            ints(leaf_direction or [0]),
            ints(leaf_slot_start or [0]),
            ints(leaf_n_slots or [0]),
            ints(leaf_table_start or [0]),
            ints(slot_feature or [0]),
            ints(slot_mask or [0]),
            np.concatenate(tables) if tables else np.zeros(1),
        )
        return arrays, base_value

    def contributions(self, values: np.ndarray) -> np.ndarray:
        """SHAP values (n, k + 1) in the booster's raw units, the last column the base value,
        as ``booster.predict(values, pred_contrib=True)``."""
        x = np.ascontiguousarray(values, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(
                f"expected a matrix of {self.n_features} columns, got shape {values.shape}"
            )
        if self._arrays is None:
            return np.asarray(self.booster.predict(x, pred_contrib=True), dtype=np.float64)
        out = np.zeros((x.shape[0], self.n_features + 1))
        kernel = _explain if x.shape[0] >= PARALLEL_FROM_ROWS else _explain_serial
        kernel(x, out, *self._arrays)
        out[:, -1] = self.base_value
        return out


def _split_kind(categorical: bool, missing: int) -> int:
    if categorical:
        return SPLIT_CATEGORICAL
    return {MISSING_NONE: SPLIT_NUMERIC, MISSING_ZERO: SPLIT_NUMERIC_ZERO}.get(
        int(missing), SPLIT_NUMERIC_NAN
    )


def _first_leaf(info: dict[str, Any]) -> dict[str, Any]:
    node = info["tree_structure"]
    while "leaf_value" not in node:
        node = node["left_child"]
    return node
