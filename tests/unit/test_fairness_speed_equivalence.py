"""The fast fairness audit computes what the slow one did.

Per-group rates come from counts and one pass per group instead of through Fairlearn's
``MetricFrame`` (they must be the very same numbers), and the bootstrap draws each group's four
kinds of lead as one multinomial per resample instead of drawing its leads one by one (it must be
the same procedure: the same distribution of the resampled rates, so intervals within Monte Carlo
error of each other).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from fairlearn.metrics import MetricFrame

from candor.models.leads.features import is_missing
from candor.training.fairness import MISSING_GROUP, audit_scores, group_labels, percentile_interval
from candor.training.fairness.bootstrap import ResampledRates, attribute_rng, resample_rates
from candor.training.fairness.groups import group_codes, take_rows
from candor.training.fairness.mitigation import reweighing_weights
from candor.training.fairness.rates import (
    COLUMNS,
    COVERAGE_Z,
    group_metric_functions,
    group_rates,
    interval_coverage,
)
from candor.training.metrics import expected_calibration_error


def leads(n: int, k: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` leads in ``k`` groups of uneven size and one tiny group; calibrated scores."""
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.full(k, 2.0))
    names = np.array([f"g{i:02d}" for i in range(k)], dtype=object)
    groups = names[rng.choice(k, size=n, p=shares)]
    groups[rng.choice(n, size=5, replace=False)] = "tiny"
    score = rng.beta(1.5, 6.0, n)
    outcome = (rng.uniform(size=n) < score).astype(int)
    half = 0.03 + 0.2 * np.sqrt(score * (1 - score) / 40)
    return {
        "groups": groups,
        "outcome": outcome,
        "score": score,
        "lower": np.clip(score - half, 0, 1),
        "upper": np.clip(score + half, 0, 1),
    }


def coverage_by_loop(
    outcome: np.ndarray, score: np.ndarray, lower: np.ndarray, upper: np.ndarray, bin_size: int
) -> tuple[float, int]:
    """The coverage as it was written before: one bin at a time."""
    order = np.argsort(score, kind="stable")
    bins = np.array_split(order, max(1, len(score) // bin_size))
    covered = 0
    for rows in bins:
        observed = float(np.asarray(outcome, float)[rows].mean())
        p = float(score[rows].mean())
        se = math.sqrt(p * (1.0 - p) / len(rows))
        if lower[rows].mean() - COVERAGE_Z * se <= observed <= upper[rows].mean() + COVERAGE_Z * se:
            covered += 1
    return covered / len(bins), len(bins)


def resample_by_row(
    codes: np.ndarray,
    n_groups: int,
    selected: np.ndarray,
    outcome: np.ndarray,
    resamples: int,
    rng: np.random.Generator,
) -> ResampledRates:
    """The bootstrap as it was written before: each resample draws the group's leads."""
    boot_sel = np.full((resamples, n_groups), np.nan)
    boot_tpr = np.full((resamples, n_groups), np.nan)
    boot_base = np.full((resamples, n_groups), np.nan)
    for j in range(n_groups):
        rows = np.flatnonzero(codes == j)
        draw = rng.integers(0, len(rows), size=(resamples, len(rows)))
        sel, pos = selected[rows][draw], outcome[rows][draw] == 1
        boot_sel[:, j] = sel.mean(axis=1)
        boot_base[:, j] = pos.mean(axis=1)
        positives = pos.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            boot_tpr[:, j] = np.where(positives > 0, (sel & pos).sum(axis=1) / positives, np.nan)
    return ResampledRates(boot_sel, boot_tpr, boot_base)


# --- point estimates: the very same numbers -----------------------------------------------


def test_group_rates_equal_fairlearn_metric_frame_by_group() -> None:
    data = leads(4000, 5, seed=1)
    selected = data["score"] >= 0.3
    frame = MetricFrame(
        metrics=group_metric_functions(30),
        y_true=data["outcome"],
        y_pred=selected,
        sensitive_features=data["groups"],
        sample_params={
            "calibration_error": {"score": data["score"]},
            "mean_score": {"score": data["score"]},
            "calibration_gap_se": {"score": data["score"]},
            "coverage": {"score": data["score"], "lower": data["lower"], "upper": data["upper"]},
            "mean_interval_width": {"lower": data["lower"], "upper": data["upper"]},
        },
    ).by_group
    codes, names = group_codes(data["groups"])
    table = group_rates(
        groups=codes,
        n_groups=len(names),
        outcome=data["outcome"],
        selected=selected,
        score=data["score"],
        lower=data["lower"],
        upper=data["upper"],
        coverage_bin=30,
    )
    assert names == [str(g) for g in frame.index]
    for column in COLUMNS:
        want = frame[column].to_numpy(float)
        np.testing.assert_allclose(table[column], want, rtol=0, atol=1e-12, err_msg=column)
        assert np.array_equal(table[column], want, equal_nan=True), column  # bit for bit


def test_audit_point_estimates_equal_a_direct_numpy_computation() -> None:
    data = leads(20_000, 7, seed=2)
    threshold = 0.3
    result = audit_scores(
        outcome=data["outcome"],
        score=data["score"],
        lower=data["lower"],
        upper=data["upper"],
        sensitive={"g": data["groups"]},
        protected={"g"},
        threshold=threshold,
        resamples=50,
    )["g"]
    assert [g.group for g in result.groups] == sorted(set(data["groups"].tolist()))
    for g in result.groups:
        rows = data["groups"] == g.group
        y, s = data["outcome"][rows], data["score"][rows]
        lo, hi = data["lower"][rows], data["upper"][rows]
        chosen = s >= threshold
        assert g.count == rows.sum() and g.positives == (y == 1).sum()
        assert g.base_rate == np.mean(y)
        assert g.selection_rate == np.mean(chosen)
        tpr = np.mean(chosen[y == 1]) if (y == 1).any() else None
        fpr = np.mean(chosen[y == 0]) if (y == 0).any() else None
        assert g.true_positive_rate == tpr and g.false_positive_rate == fpr
        assert g.calibration_error == expected_calibration_error(y, s)
        assert g.mean_score == np.mean(s) and g.calibration_gap == np.mean(y) - np.mean(s)
        assert g.calibration_gap_se == pytest.approx(np.std(y - s, ddof=1) / math.sqrt(len(y)))
        assert (g.coverage, g.coverage_bins) == coverage_by_loop(y, s, lo, hi, 30)
        assert g.mean_interval_width == np.mean(hi - lo)
        assert g.small_group == (g.count < 30)
    compared = [g for g in result.groups if not g.small_group]
    low = min(compared, key=lambda g: g.selection_rate)
    high = max(compared, key=lambda g: g.selection_rate)
    assert result.disparate_impact is not None
    assert result.disparate_impact.value == low.selection_rate / high.selection_rate


@pytest.mark.parametrize("seed", range(4))
def test_vectorised_coverage_equals_the_bin_by_bin_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(50):
        n = int(rng.integers(1, 3000))
        bin_size = int(rng.integers(1, 120))
        score = rng.uniform(0.01, 0.99, n)
        if rng.uniform() < 0.3:
            score = np.round(score, 1)  # ties: the stable sort must keep them in order
        outcome = (rng.uniform(size=n) < score).astype(int)
        shift = rng.normal(0, 0.05)
        lower, upper = score - 0.02 + shift, score + 0.02 + shift
        assert interval_coverage(outcome, score, lower, upper, bin_size=bin_size) == (
            coverage_by_loop(outcome, score, lower, upper, bin_size)
        )
    empty = np.array([])
    share, bins = interval_coverage(empty, empty, empty, empty)
    assert math.isnan(share) and bins == 0


# --- the bootstrap: the same procedure ----------------------------------------------------


def test_multinomial_resample_gives_the_per_row_interval_within_monte_carlo_error() -> None:
    rng = np.random.default_rng(3)
    sizes = (400, 120, 50)  # the last holds a single converter: often none in a resample
    codes = np.repeat(np.arange(len(sizes)), sizes)
    selected = rng.uniform(size=codes.size) < np.array([0.3, 0.5, 0.2])[codes]
    outcome = (rng.uniform(size=codes.size) < np.array([0.2, 0.4, 0.0])[codes]).astype(int)
    outcome[np.flatnonzero(codes == 2)[0]] = 1
    selected[np.flatnonzero(codes == 2)[0]] = True
    resamples = 8000
    args: dict[str, Any] = {
        "groups": codes,
        "n_groups": len(sizes),
        "selected": selected,
        "outcome": outcome,
    }
    fast = resample_rates(**args, resamples=resamples, rng=np.random.default_rng(10))
    rng_slow = np.random.default_rng(11)
    slow = resample_by_row(codes, len(sizes), selected, outcome, resamples, rng_slow)
    assert fast.selection.shape == slow.selection.shape == (resamples, len(sizes))
    assert fast.true_positive.shape == slow.true_positive.shape

    for j, n in enumerate(sizes):
        rows = codes == j
        p = selected[rows].mean()
        sd = math.sqrt(p * (1 - p) / n)  # of a resampled selection rate, exactly
        for rates in (fast.selection[:, j], slow.selection[:, j]):
            assert abs(rates.mean() - p) < 4 * sd / math.sqrt(resamples)
            assert rates.std() == pytest.approx(sd, rel=0.06)
        base = outcome[rows].mean()
        base_sd = math.sqrt(base * (1 - base) / n)
        for rates in (fast.base_rate[:, j], slow.base_rate[:, j]):
            assert abs(rates.mean() - base) < 4 * base_sd / math.sqrt(resamples) + 1e-12
            if base_sd:
                assert rates.std() == pytest.approx(base_sd, rel=0.06)
        # a 2.5% quantile of R draws moves by about sqrt(q(1-q)/R)/density: 0.042 sd here;
        # the difference of two by 0.06 sd; allow 4 of those and one step of 1/n either side
        tolerance = 4 * 0.06 * sd + 1 / n
        a = percentile_interval(fast.selection[:, j])
        b = percentile_interval(slow.selection[:, j])
        assert a is not None and b is not None
        assert abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance

    # the true-positive rate: the same share of resamples without a converter (nan) ...
    converters = int(outcome[codes == 2].sum())
    no_converter = (1 - converters / sizes[2]) ** sizes[2]  # about 0.36
    se = math.sqrt(no_converter * (1 - no_converter) / resamples)
    for rates in (fast.true_positive[:, 2], slow.true_positive[:, 2]):
        assert abs(np.isnan(rates).mean() - no_converter) < 4 * se
    # ... and the same interval where converters are many
    for j in (0, 1):
        a = percentile_interval(fast.true_positive[:, j])
        b = percentile_interval(slow.true_positive[:, j])
        assert a is not None and b is not None
        sd = np.nanstd(slow.true_positive[:, j])
        tolerance = 4 * 0.06 * sd + 1 / int(outcome[codes == j].sum())
        assert abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance


def test_resamples_repeat_with_the_seed_and_differ_between_attributes() -> None:
    data = leads(5000, 4, seed=4)
    codes, names = group_codes(data["groups"])
    args: dict[str, Any] = {
        "groups": codes,
        "n_groups": len(names),
        "selected": data["score"] >= 0.3,
        "outcome": data["outcome"],
        "resamples": 300,
    }
    first = resample_rates(**args, rng=attribute_rng(7, "gender"))
    again = resample_rates(**args, rng=attribute_rng(7, "gender"))
    other = resample_rates(**args, rng=attribute_rng(7, "age_band"))
    assert np.array_equal(first.selection, again.selection)
    assert np.array_equal(first.true_positive, again.true_positive, equal_nan=True)
    assert not np.array_equal(first.selection, other.selection)
    none = resample_rates(**{**args, "resamples": 0}, rng=attribute_rng(7, "g"))
    assert none.selection.shape == none.true_positive.shape == (0, len(names))


# --- group labels from lists, numpy and pyarrow columns ------------------------------------


def labels_one_by_one(values: list[object]) -> list[str]:
    """The labelling as it was written before: one value at a time."""
    return [MISSING_GROUP if is_missing(v) else str(v) for v in values]


@pytest.mark.parametrize(
    "values",
    [
        ["b", "a", None, "b"],
        ["x", "", "y", "x"],
        [1, 2, 2, 3],
        [1.5, float("nan"), 2.0, 1.5],
        [0.0, -0.0, 1.0, 0.0],
        [True, False, True, None],
        [1, 1.0, True, "1"],
        ["55-64", "<35", "65+", "<35"],
        ["a", None, None, "a"],
        [3, 1, 2, 1],
    ],
)
def test_group_labels_of_every_kind_of_column_match_labelling_each_value(
    values: list[object],
) -> None:
    rows = np.array([3, 0, 0, 2, 1])
    rows = rows[rows < len(values)]
    want = labels_one_by_one([values[i] for i in rows])
    columns: list[object] = [values, np.array(values, dtype=object)]
    if all(isinstance(v, float) for v in values) or all(type(v) is int for v in values):
        columns.append(np.array(values))  # float64 / int64
    if all(v is None or isinstance(v, str) for v in values) or all(type(v) is int for v in values):
        columns.append(pa.array(values))
        columns.append(pa.chunked_array([values[:2], values[2:]]))
    for column in columns:
        assert group_labels(take_rows(column, rows)).tolist() == want, type(column)
        assert group_labels(column).tolist() == labels_one_by_one(list(values)), type(column)


def test_a_pyarrow_integer_column_with_nulls_keeps_integer_labels() -> None:
    column = pa.array([1, None, 3])
    labels = group_labels(take_rows(column, np.array([2, 1, 0])))
    assert labels.tolist() == ["3", MISSING_GROUP, "1"]
    text = np.array(["b", "a", "b"])  # a numpy str column
    assert group_labels(take_rows(text, np.array([1, 0]))).tolist() == ["a", "b"]


def test_missing_group_labels_are_refused_rather_than_dropped() -> None:
    with pytest.raises(ValueError, match="missing"):
        group_codes(np.array(["a", None], dtype=object))


def test_vectorised_reweighing_equals_the_cell_by_cell_loop() -> None:
    data = leads(30_000, 6, seed=6)
    groups, outcome = data["groups"], data["outcome"]
    want = np.ones(len(outcome))
    n = len(outcome)
    for g in np.unique(groups):
        in_group = groups == g
        for y in (0, 1):
            cell = in_group & (outcome == y)
            if cell.any():
                want[cell] = in_group.mean() * (outcome == y).mean() / (cell.sum() / n)
    assert np.array_equal(reweighing_weights(groups, outcome), want)
