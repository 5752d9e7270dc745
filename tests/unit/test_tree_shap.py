"""The TreeSHAP kernel (candor.models.tree_shap) is exact: equal to LightGBM's own ``pred_contrib``
within 1e-9 in float64, and additive (contributions + base value == the raw margin) on every row.

Property-based: hypothesis draws small boosters (binary and regression; depth 1-8, 2-63 leaves,
1-40 trees; numeric, boolean, categorical and constant inputs; NaN, Zero and None missing types)
and the tests query them where LightGBM's decision rules have edges: NaN, exact and tiny zeros,
the split thresholds themselves (``<=``) and their neighbours, +/-inf, and categorical codes never
seen in training (larger, negative, fractional, NaN, beyond int32).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from candor.models.tree_shap import TreeShap, TreeShapUnsupported

TOLERANCE = 1e-9

# deterministic and bounded: the same examples on every run, no example database written
EXACTNESS = settings(
    derandomize=True,
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# values a categorical input can take at predict time that no training row had
UNSEEN_CATEGORIES = (
    -1.0,
    -0.5,
    -3.0,
    0.999,
    2.7,
    31.0,
    32.0,
    63.0,
    64.0,
    1000.0,
    2147483647.0,
    2147483648.0,
    -2147483648.0,
    -2147483649.0,
    1e10,
    -1e10,
    1e300,
    np.inf,
    -np.inf,
    np.nan,
)
# numeric edge values: zero and its neighbours under kZeroThreshold (1e-35), infinities, extremes
NUMERIC_EDGES = (
    0.0,
    -0.0,
    1e-36,
    -1e-36,
    1e-35,
    5e-324,
    np.nan,
    np.inf,
    -np.inf,
    1e300,
    -1e300,
)


@dataclass(frozen=True)
class Inputs:
    """A generated training set: which columns are of which kind."""

    x: np.ndarray
    y: np.ndarray
    categorical: list[int]
    boolean: list[int]


def _inputs(
    seed: int,
    *,
    rows: int = 200,
    numeric: int = 2,
    boolean: int = 0,
    categorical: int = 0,
    constant: int = 0,
    n_categories: int = 4,
    nan_share: float = 0.0,
    zero_share: float = 0.0,
    regression: bool = False,
) -> Inputs:
    rng = np.random.default_rng(seed)
    columns: list[np.ndarray] = []
    kinds: list[str] = []
    for j in range(numeric):
        if j % 2:  # coarse values: many rows tie with the thresholds
            columns.append(rng.integers(-5, 6, rows) / 2.0)
        else:
            columns.append(rng.normal(0.0, 3.0, rows))
        kinds.append("numeric")
    for _ in range(boolean):
        columns.append(rng.integers(0, 2, rows).astype(float))
        kinds.append("boolean")
    for _ in range(categorical):
        columns.append(rng.integers(0, n_categories, rows).astype(float))
        kinds.append("categorical")
    for _ in range(constant):
        columns.append(np.full(rows, 1.5))
        kinds.append("constant")
    x = np.column_stack(columns)
    signal = np.zeros(rows)
    for j, kind in enumerate(kinds):
        if kind == "numeric":
            signal += np.sin(x[:, j] * (j + 1))
        elif kind == "boolean":
            signal += 1.5 * x[:, j] - 0.75
        elif kind == "categorical":
            effect = rng.normal(0.0, 1.5, n_categories)
            signal += effect[x[:, j].astype(int)]
    for j, kind in enumerate(kinds):  # holes and zeros after the signal: missingness is noise
        if kind == "constant":
            continue
        x[rng.random(rows) < nan_share, j] = np.nan
        if kind != "categorical":
            x[rng.random(rows) < zero_share, j] = 0.0
    if regression:
        y = signal + rng.normal(0.0, 0.5, rows)
    else:
        y = (rng.random(rows) < 1.0 / (1.0 + np.exp(-signal))).astype(float)
        y[:2] = [0.0, 1.0]  # both classes, whatever the draw
    return Inputs(
        x,
        y,
        [j for j, k in enumerate(kinds) if k == "categorical"],
        [j for j, k in enumerate(kinds) if k == "boolean"],
    )


def _train(inputs: Inputs, params: dict[str, Any], rounds: int) -> lgb.Booster:
    base = {"verbose": -1, "num_threads": 1, "deterministic": True, "seed": 7}
    dataset = lgb.Dataset(
        inputs.x,
        inputs.y,
        categorical_feature=inputs.categorical or "auto",
        free_raw_data=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lightgbm's notes on small data and categorical codes
        return lgb.train({**base, **params}, dataset, num_boost_round=rounds)


def _splits(booster: lgb.Booster) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def visit(node: dict[str, Any]) -> None:
        if "split_index" in node:
            out.append(node)
            visit(node["left_child"])
            visit(node["right_child"])

    for tree in booster.dump_model()["tree_info"]:
        visit(tree["tree_structure"])
    return out


def _open_ended_columns(booster: lgb.Booster) -> set[int]:
    """Columns with a split on threshold +inf (LightGBM's "NaN or not" split of a NaN-missing
    column), which ``dump_model`` writes as 1e300."""
    return {
        int(s["split_feature"])
        for s in _splits(booster)
        if s["decision_type"] == "<=" and float(s["threshold"]) >= 1e300
    }


def _queries(booster: lgb.Booster, inputs: Inputs, seed: int) -> np.ndarray:
    """Training rows, then one row per (column, edge value) on a random training row: NaN,
    zeros, thresholds and their float neighbours, infinities, unseen categories."""
    rng = np.random.default_rng(seed + 1)
    x = inputs.x
    n_cols = x.shape[1]
    edges: dict[int, set[float]] = {j: set(NUMERIC_EDGES) for j in range(n_cols)}
    for j in inputs.categorical:
        edges[j] = set(UNSEEN_CATEGORIES) | {float(c) for c in range(int(np.nanmax(x[:, j])) + 3)}
    for split in _splits(booster):
        j = int(split["split_feature"])
        if split["decision_type"] == "<=":
            t = float(split["threshold"])
            edges[j] |= {t, np.nextafter(t, np.inf), np.nextafter(t, -np.inf)}
        else:  # the categories that go left, and their neighbours
            for c in str(split["threshold"]).split("||"):
                edges[j] |= {float(c), float(c) + 0.5, float(c) - 0.5}
    rows = [x[: min(len(x), 150)]]
    for j in range(n_cols):
        values = np.array(sorted(edges[j], key=lambda v: (np.isnan(v), v)))
        block = x[rng.integers(0, len(x), len(values))].copy()
        block[:, j] = values
        rows.append(block)
    rows.append(np.full((1, n_cols), np.nan))
    rows.append(np.zeros((1, n_cols)))
    rows.append(np.full((1, n_cols), np.inf))
    rows.append(np.full((1, n_cols), -np.inf))
    return np.vstack(rows)


def assert_exact(
    booster: lgb.Booster, queries: np.ndarray, explainer: TreeShap | None = None
) -> None:
    """The kernel equals ``pred_contrib`` within 1e-9 and adds up to the raw margin on every row."""
    explainer = explainer or TreeShap(booster)
    got = explainer.contributions(queries)
    want = np.asarray(booster.predict(queries, pred_contrib=True), dtype=np.float64)
    assert got.shape == want.shape == (len(queries), booster.num_feature() + 1)
    assert got.dtype == np.float64
    assert np.all(np.isfinite(got))
    gap = np.abs(got - want)
    worst = np.unravel_index(int(np.argmax(gap)), gap.shape)
    assert gap.max() <= TOLERANCE, (
        f"kernel differs from pred_contrib by {gap.max():.3g} at row {worst[0]} column "
        f"{worst[1]}; row values {queries[worst[0]].tolist()}"
    )
    margin = np.asarray(booster.predict(queries, raw_score=True), dtype=np.float64)
    additivity = np.abs(got.sum(axis=1) - margin)
    assert additivity.max() <= TOLERANCE, (
        f"contributions + base value miss the raw margin by {additivity.max():.3g} "
        f"at row {int(np.argmax(additivity))}"
    )


@st.composite
def boosters(draw: st.DrawFn) -> tuple[lgb.Booster, Inputs, int]:
    """A small booster. Hypothesis draws the seed and the kinds that must all be reached; the
    sizes come from a generator seeded by it, because hypothesis's own draws favour small and
    boundary values, and the point here is trees of every shape (2-63 leaves, depth 1-8)."""
    seed = draw(st.integers(0, 2**32 - 1))
    missing = draw(st.sampled_from(["nan", "zero", "none"]))
    objective = draw(st.sampled_from(["binary", "regression"]))
    rng = np.random.default_rng(seed)
    inputs = _inputs(
        seed,
        rows=int(rng.integers(100, 401)),
        numeric=int(rng.integers(1, 5)),
        boolean=int(rng.integers(0, 3)),
        categorical=int(rng.integers(0, 3)),
        constant=int(rng.integers(0, 2)),
        n_categories=int(rng.integers(2, 71)),
        nan_share=float(rng.choice([0.05, 0.1, 0.3])) if missing == "nan" else 0.0,
        zero_share=float(rng.choice([0.0, 0.2])) if missing != "zero" else 0.2,
        regression=objective == "regression",
    )
    if missing == "none":  # NaN in training too: use_missing=False must read it as 0.0
        inputs.x[rng.random(inputs.x.shape) < 0.05] = np.nan
    depth = int(rng.integers(1, 9))
    params = {
        "objective": objective,
        "max_depth": depth,
        "num_leaves": int(rng.integers(2, min(63, 2**depth) + 1)),
        "learning_rate": float(rng.choice([0.1, 0.3, 1.0])),
        "min_data_in_leaf": int(rng.integers(1, 11)),
        "min_sum_hessian_in_leaf": 0.0,
        "min_data_per_group": int(rng.integers(1, 11)),
        "cat_smooth": float(rng.choice([0.0, 1.0, 10.0])),
        "cat_l2": 1.0,
        "max_cat_to_onehot": int(rng.choice([1, 4, 8])),
        "use_missing": missing != "none",
        "zero_as_missing": missing == "zero",
        "feature_fraction": float(rng.choice([1.0, 0.7])),
    }
    return _train(inputs, params, int(rng.integers(1, 41))), inputs, seed


@EXACTNESS
@given(drawn=boosters())
def test_random_boosters_are_explained_exactly(drawn: tuple[lgb.Booster, Inputs, int]) -> None:
    booster, inputs, seed = drawn
    assert_exact(booster, _queries(booster, inputs, seed))


@EXACTNESS
@given(
    seed=st.integers(0, 2**16),
    rows=st.integers(1, 64),
    values=st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from([*UNSEEN_CATEGORIES, *NUMERIC_EDGES]),
        ),
        min_size=1,
        max_size=64,
    ),
)
def test_arbitrary_float_matrices_are_explained_exactly(
    mixed_booster: tuple[lgb.Booster, Inputs], seed: int, rows: int, values: list[float]
) -> None:
    """Any float64 matrix, subnormals and +/-inf included, on one booster of every input kind."""
    booster, inputs = mixed_booster
    rng = np.random.default_rng(seed)
    n_cols = inputs.x.shape[1]
    queries = inputs.x[rng.integers(0, len(inputs.x), rows)].copy()
    cells = rng.integers(0, rows * n_cols, len(values))
    queries.flat[cells] = values
    assert_exact(booster, queries)


# --- fixed cases: each edge on purpose, and proof that the generated models reach it ----------


@pytest.fixture(scope="module")
def mixed_booster() -> tuple[lgb.Booster, Inputs]:
    inputs = _inputs(
        11,
        rows=400,
        numeric=3,
        boolean=2,
        categorical=2,
        constant=1,
        n_categories=70,
        nan_share=0.1,
        zero_share=0.2,
    )
    params = {
        "objective": "binary",
        "num_leaves": 31,
        "max_depth": 8,
        "min_data_in_leaf": 3,
        "min_data_per_group": 2,
        "cat_smooth": 1.0,
        "max_cat_to_onehot": 4,
        "learning_rate": 0.3,
    }
    return _train(inputs, params, 30), inputs


def _missing_types(booster: lgb.Booster) -> set[str]:
    return {s["missing_type"] for s in _splits(booster) if s["decision_type"] == "<="}


@pytest.mark.parametrize(
    ("params", "missing_type"),
    [
        ({}, "NaN"),  # NaN seen in training: missing_type NaN, default_left learned
        ({"zero_as_missing": True}, "Zero"),
        ({"use_missing": False}, "None"),  # NaN at predict time counts as 0.0
    ],
)
@pytest.mark.parametrize("objective", ["binary", "regression"])
def test_each_missing_type(params: dict[str, Any], missing_type: str, objective: str) -> None:
    inputs = _inputs(
        3,
        rows=300,
        numeric=4,
        boolean=1,
        categorical=1,
        n_categories=12,
        nan_share=0.25,
        zero_share=0.2,
        regression=objective == "regression",
    )
    booster = _train(
        inputs,
        {"objective": objective, "num_leaves": 15, "min_data_in_leaf": 5, **params},
        20,
    )
    assert missing_type in _missing_types(booster)
    assert_exact(booster, _queries(booster, inputs, 3))


def test_categorical_bitsets_beyond_one_word(mixed_booster: tuple[lgb.Booster, Inputs]) -> None:
    """Categories >= 32 live in a second bitset word; codes past the last word go right."""
    booster, inputs = mixed_booster
    left_sets = [
        [int(c) for c in str(s["threshold"]).split("||")]
        for s in _splits(booster)
        if s["decision_type"] == "=="
    ]
    assert any(max(cs) >= 32 for cs in left_sets)
    assert any(len(cs) > 1 for cs in left_sets)  # a many-vs-many split, not one-hot
    assert_exact(booster, _queries(booster, inputs, 11))


def test_unseen_categories_go_where_lightgbm_sends_them(
    mixed_booster: tuple[lgb.Booster, Inputs],
) -> None:
    booster, inputs = mixed_booster
    for j in inputs.categorical:
        queries = np.repeat(inputs.x[:1], len(UNSEEN_CATEGORIES), axis=0)
        queries[:, j] = UNSEEN_CATEGORIES
        assert_exact(booster, queries)


def test_values_on_the_thresholds(mixed_booster: tuple[lgb.Booster, Inputs]) -> None:
    """``value <= threshold`` goes left: each threshold itself, and one ulp either side."""
    booster, inputs = mixed_booster
    numeric = [s for s in _splits(booster) if s["decision_type"] == "<="]
    assert numeric
    queries = []
    for s in numeric:
        t = float(s["threshold"])
        for v in (t, np.nextafter(t, np.inf), np.nextafter(t, -np.inf)):
            row = inputs.x[0].copy()
            row[int(s["split_feature"])] = v
            queries.append(row)
    assert_exact(booster, np.array(queries))


def test_values_within_the_zero_threshold_read_as_zero() -> None:
    """LightGBM reads |x| <= kZeroThreshold (1e-35f, as a double 1.0000000180025095e-35) as 0.0,
    whatever the missing type, and its splits around zero sit exactly on +/-kZeroThreshold."""
    k = 1.0000000180025095e-35
    x = np.tile(np.array([[-1.0], [0.0], [1.0]]), (60, 1))
    y = np.array([0.0, 1.0, 2.0] * 60)
    for params in ({}, {"zero_as_missing": True}, {"use_missing": False}):
        booster = _train(
            Inputs(x, y, [], []),
            {"objective": "regression", "num_leaves": 3, "min_data_in_leaf": 1, **params},
            1,
        )
        assert {float(s["threshold"]) for s in _splits(booster)} <= {k, -k}
        tiny = [-k, np.nextafter(-k, 0.0), -1e-36, -5e-324, -0.0, 0.0, 5e-324, 1e-36, k]
        assert_exact(booster, np.array([[v] for v in [*tiny, np.nextafter(k, 1.0), -1e-34]]))


def test_a_threshold_of_inf_sends_huge_values_left() -> None:
    """A NaN-missing column split "NaN or not" has threshold +inf (model_to_string says
    ``inf``): every number, inf included, goes left; only NaN goes right."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 1))
    x[:60, 0] = np.nan
    y = np.isnan(x[:, 0]).astype(float)
    booster = _train(Inputs(x, y, [], []), {"objective": "regression", "num_leaves": 2}, 1)
    assert _open_ended_columns(booster) == {0}
    assert_exact(booster, np.array([[np.inf], [1e308], [1e300], [1.0], [np.nan]]))


def test_boolean_inputs_split_between_zero_and_one() -> None:
    inputs = _inputs(5, numeric=0, boolean=3, n_categories=2)
    booster = _train(inputs, {"objective": "binary", "num_leaves": 8, "min_data_in_leaf": 5}, 10)
    assert _splits(booster)
    assert_exact(booster, _queries(booster, inputs, 5))


def test_constant_features_get_zero() -> None:
    inputs = _inputs(8, constant=1, n_categories=2, regression=True)
    booster = _train(inputs, {"objective": "regression", "num_leaves": 7}, 10)
    queries = _queries(booster, inputs, 8)
    assert_exact(booster, queries)
    constant = inputs.x.shape[1] - 1
    assert np.all(TreeShap(booster).contributions(queries)[:, constant] == 0.0)


def test_a_single_tree() -> None:
    inputs = _inputs(
        9,
        rows=150,
        numeric=3,
        boolean=1,
        categorical=1,
        n_categories=6,
        nan_share=0.1,
        zero_share=0.1,
    )
    booster = _train(inputs, {"objective": "binary", "num_leaves": 31, "min_data_in_leaf": 3}, 1)
    assert booster.num_trees() == 1
    assert_exact(booster, _queries(booster, inputs, 9))


def test_trees_without_a_split() -> None:
    """A constant target grows single-leaf trees: all of it is base value."""
    x = np.random.default_rng(0).normal(size=(120, 3))
    booster = lgb.train(
        {"objective": "regression", "verbose": -1, "num_threads": 1},
        lgb.Dataset(x, np.full(120, 2.5)),
        num_boost_round=3,
    )
    assert not _splits(booster)
    got = TreeShap(booster).contributions(x)
    assert np.all(got[:, :-1] == 0.0)
    assert_exact(booster, x)


def test_many_trees() -> None:
    inputs = _inputs(
        13,
        rows=400,
        numeric=4,
        boolean=1,
        categorical=1,
        n_categories=9,
        nan_share=0.05,
        zero_share=0.05,
    )
    booster = _train(
        inputs,
        {"objective": "binary", "num_leaves": 7, "max_depth": 3, "learning_rate": 0.05},
        400,
    )
    assert booster.num_trees() == 400
    assert_exact(booster, _queries(booster, inputs, 13))


def test_deep_trees_get_tables_per_leaf() -> None:
    """63 leaves at depth 8: more splits than one table per tree allows."""
    inputs = _inputs(
        17,
        rows=400,
        numeric=6,
        boolean=1,
        categorical=1,
        n_categories=20,
        nan_share=0.1,
        zero_share=0.1,
        regression=True,
    )
    booster = _train(
        inputs,
        {
            "objective": "regression",
            "num_leaves": 63,
            "max_depth": 8,
            "min_data_in_leaf": 1,
            "min_data_per_group": 1,
        },
        5,
    )
    assert max(t["num_leaves"] for t in booster.dump_model()["tree_info"]) == 63
    explainer = TreeShap(booster)
    assert explainer.info.method == "tables"
    assert_exact(booster, _queries(booster, inputs, 17), explainer)


def test_float32_and_fortran_order_inputs(mixed_booster: tuple[lgb.Booster, Inputs]) -> None:
    """A float32 or Fortran-ordered matrix is explained as LightGBM reads it."""
    booster, inputs = mixed_booster
    x32 = inputs.x.astype(np.float32)
    assert_exact(booster, x32)
    assert_exact(booster, np.asfortranarray(inputs.x))


def test_an_empty_matrix(mixed_booster: tuple[lgb.Booster, Inputs]) -> None:
    booster, inputs = mixed_booster
    got = TreeShap(booster).contributions(inputs.x[:0])
    assert got.shape == (0, inputs.x.shape[1] + 1)


# --- refusals and the fallback --------------------------------------------------------------


def test_linear_trees_are_refused() -> None:
    inputs = _inputs(1, numeric=3, n_categories=2, regression=True)
    booster = _train(inputs, {"objective": "regression", "linear_tree": True}, 5)
    with pytest.raises(TreeShapUnsupported, match=r"linear trees \(linear_tree=true\)"):
        TreeShap(booster)


def test_multiclass_boosters_are_refused() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(150, 3))
    y = rng.integers(0, 3, 150)
    booster = lgb.train(
        {"objective": "multiclass", "num_class": 3, "verbose": -1, "num_threads": 1},
        lgb.Dataset(x, y),
        num_boost_round=3,
    )
    with pytest.raises(TreeShapUnsupported, match="multi-class"):
        TreeShap(booster)


@pytest.mark.parametrize("shape", [(4, 7), (4, 9), (4,), (4, 8, 1)])
def test_a_wrong_shape_names_the_expected_columns(
    mixed_booster: tuple[lgb.Booster, Inputs], shape: tuple[int, ...]
) -> None:
    booster, inputs = mixed_booster
    assert inputs.x.shape[1] == 8
    with pytest.raises(ValueError, match=r"expected a matrix of 8 columns, got shape"):
        TreeShap(booster).contributions(np.zeros(shape))


def test_tables_over_the_budget_fall_back_to_pred_contrib(
    mixed_booster: tuple[lgb.Booster, Inputs],
) -> None:
    booster, inputs = mixed_booster
    explainer = TreeShap(booster, max_table_bytes=1)
    assert explainer.info.method == "pred_contrib"
    assert explainer.info.reason
    assert "pred_contrib" in explainer.info.reason
    assert explainer.info.table_bytes == 0
    assert explainer.info.to_dict()["method"] == "pred_contrib"
    queries = _queries(booster, inputs, 11)
    assert_exact(booster, queries, explainer)


def test_info_describes_the_tables(mixed_booster: tuple[lgb.Booster, Inputs]) -> None:
    booster, _ = mixed_booster
    info = TreeShap(booster).info
    assert info.method == "tables"
    assert info.reason is None
    assert info.trees == booster.num_trees()
    assert info.table_bytes > 0
    assert info.build_seconds >= 0.0
