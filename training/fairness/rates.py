"""Per-group rates, calibration and interval coverage (probabilities throughout).

Per group:
    count, positives, base_rate: leads, converted leads, and the conversion rate.
    selection_rate: share of leads with ``score >= threshold``; the pipeline passes the B
        cut-off of the scoring policy, so "selected" means graded A or B.
    true_positive_rate / false_positive_rate: share of converted / not converted leads that
        were selected (``None`` where the group has no such leads).
    calibration_error: expected calibration error of the calibrated score within the group
        (``training.metrics.expected_calibration_error``, 10 equal-width bins). Reported, not
        compared: over a small group's few leads per bin it is large by noise alone.
    mean_score, calibration_gap, calibration_gap_se: the group's mean calibrated score, its
        conversion rate minus that mean (positive: the group converts more often than its scores
        say, it is under-scored), and the standard error of that gap, ``sd(y - score) / sqrt(n)``
        (sample sd; ``None`` under two leads). ``training.fairness.disparity`` compares the gaps.
    coverage, coverage_bins, mean_interval_width: whether the Venn-Abers interval
        ``[lower, upper]`` holds for this group. The group's leads are sorted by score and cut
        into ``max(1, count // coverage_bin)`` consecutive bins of nearly equal size (each at least
        ``coverage_bin`` leads when the group has that many). A bin is covered when its observed
        conversion rate lies in ``[mean lower - z*se, mean upper + z*se]``, where
        ``se = sqrt(p * (1 - p) / n)`` is the binomial standard error of a rate over the bin's
        ``n`` leads at the bin's mean score ``p`` (the mean score, not the observed rate, so that
        a bin with no conversions still gets a band) and ``z = 1.96``. ``coverage`` is the share
        of the group's bins that are covered: a group whose interval holds should be near 1 (at
        least about 0.95); an interval that holds for one group and not for another is itself
        unfair, so each attribute reports the minimum and maximum coverage across its compared
        groups. ``mean_interval_width`` is the mean of ``upper - lower``.
    small_group: fewer than ``min_group_size`` leads. Reported, never compared.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from fairlearn.metrics import count, selection_rate

from candor.models.intervals import Z_95
from candor.training.fairness.bootstrap import Interval
from candor.training.metrics import expected_calibration_error

COVERAGE_BIN = 30
COVERAGE_Z = Z_95  # bins are covered within a two-sided 95% band


@dataclass(frozen=True)
class GroupMetrics:
    """One group of one attribute; rates are probabilities, ``None`` where undefined."""

    group: str
    count: int
    positives: int
    base_rate: float
    selection_rate: float
    selection_rate_ci: Interval | None
    true_positive_rate: float | None
    true_positive_rate_ci: Interval | None
    false_positive_rate: float | None
    calibration_error: float
    mean_score: float
    calibration_gap: float
    calibration_gap_se: float | None
    coverage: float
    coverage_bins: int
    mean_interval_width: float
    small_group: bool


# --- Fairlearn MetricFrame callables: (y_true, y_pred, **per-lead sample params) -> float ----


def _base_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true)) if len(y_true) else math.nan


def _rate_among(y_pred: np.ndarray, among: np.ndarray) -> float:
    return float(np.mean(y_pred[among])) if among.any() else math.nan


def true_positive_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of converted leads selected; nan without any."""
    return _rate_among(np.asarray(y_pred, bool), np.asarray(y_true) == 1)


def _false_positive_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return _rate_among(np.asarray(y_pred, bool), np.asarray(y_true) == 0)


def _calibration_error(y_true: np.ndarray, y_pred: np.ndarray, score: np.ndarray) -> float:
    return expected_calibration_error(np.asarray(y_true), np.asarray(score))


def _mean_score(y_true: np.ndarray, y_pred: np.ndarray, score: np.ndarray) -> float:
    return float(np.mean(np.asarray(score)))


def calibration_gap_se(y_true: np.ndarray, y_pred: np.ndarray, score: np.ndarray) -> float:
    """Standard error of a group's mean of ``y - score`` (nan under two leads)."""
    if len(y_true) < 2:
        return math.nan
    residual = np.asarray(y_true, float) - np.asarray(score, float)
    return float(np.std(residual, ddof=1) / math.sqrt(len(residual)))


def _mean_width(
    y_true: np.ndarray, y_pred: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> float:
    return float(np.mean(np.asarray(upper) - np.asarray(lower)))


def _bin_means(values: np.ndarray, bins: int) -> np.ndarray:
    """The mean of each of ``np.array_split(values, bins)``, without a loop over the bins.

    ``array_split`` gives its first ``n % bins`` bins one value more than the others, so the
    bins are the rows of two rectangular blocks; a row's mean sums it in the same order as the
    mean of that bin alone, so the means are bit for bit the same.
    """
    size, extra = divmod(len(values), bins)
    cut = extra * (size + 1)
    return np.concatenate(
        [
            values[:cut].reshape(extra, size + 1).mean(axis=1),
            values[cut:].reshape(bins - extra, size).mean(axis=1),
        ]
    )


def _bin_sizes(n: int, bins: int) -> np.ndarray:
    size, extra = divmod(n, bins)
    return np.r_[np.full(extra, size + 1), np.full(bins - extra, size)]


def interval_coverage(
    outcome: np.ndarray,
    score: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    bin_size: int = COVERAGE_BIN,
    z: float = COVERAGE_Z,
) -> tuple[float, int]:
    """(share of score-sorted bins whose observed rate the widened interval covers, bins).

    See the module docstring for the definition. All inputs are probabilities except
    ``outcome`` (0/1); an empty input gives ``(nan, 0)``.
    """
    n = len(score)
    if n == 0:
        return math.nan, 0
    outcome, score = np.asarray(outcome, float), np.asarray(score, float)
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    order = np.argsort(score, kind="stable")
    bins = max(1, n // bin_size)
    observed = _bin_means(outcome[order], bins)
    p = _bin_means(score[order], bins)
    se = np.sqrt(p * (1.0 - p) / _bin_sizes(n, bins))
    low = _bin_means(lower[order], bins) - z * se
    high = _bin_means(upper[order], bins) + z * se
    covered = int(np.count_nonzero((low <= observed) & (observed <= high)))
    return covered / bins, bins


COLUMNS = (
    "count",
    "positives",
    "base_rate",
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "calibration_error",
    "mean_score",
    "calibration_gap_se",
    "coverage",
    "coverage_bins",
    "mean_interval_width",
)


def group_rates(
    *,
    groups: np.ndarray,
    n_groups: int,
    outcome: np.ndarray,
    selected: np.ndarray,
    score: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    coverage_bin: int = COVERAGE_BIN,
) -> dict[str, np.ndarray]:
    """Every group's metrics of :data:`COLUMNS`, one value per group code ``0 .. n_groups - 1``.

    ``groups`` holds each lead's group code. These are the values Fairlearn's ``MetricFrame``
    gives with :func:`group_metric_functions` (``by_group``, groups in sorted order), computed
    from counts and one pass over each group's leads, in their order, instead of through the
    frame: its per-call ``np.stack`` of every column converts each value on its own and costs
    seconds at a real holdout's size (``tests/unit/test_fairness_speed_equivalence.py`` checks
    that the two agree).
    """
    groups = np.asarray(groups, np.intp)
    outcome = np.asarray(outcome)
    selected = np.asarray(selected, bool)
    converted = outcome == 1

    def per_group(mask: np.ndarray | None = None) -> np.ndarray:
        chosen = groups if mask is None else groups[mask]
        return np.bincount(chosen, minlength=n_groups)

    count_ = per_group()
    positives = per_group(converted)
    negatives = per_group(outcome == 0)
    chosen = per_group(selected)
    hits = per_group(selected & converted)
    false_hits = per_group(selected & (outcome == 0))

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / np.maximum(den, 1), math.nan)

    # each group's leads in their order in the holdout, as the frame hands them to a metric
    order = np.argsort(groups, kind="stable")
    ends = np.cumsum(count_)
    calibration = np.full(n_groups, math.nan)
    mean_score = np.full(n_groups, math.nan)
    gap_se = np.full(n_groups, math.nan)
    coverage = np.full(n_groups, math.nan)
    width = np.full(n_groups, math.nan)
    for j in range(n_groups):
        rows = order[ends[j] - count_[j] : ends[j]]
        if not len(rows):
            continue
        y, s, lo, hi = outcome[rows], score[rows], lower[rows], upper[rows]
        calibration[j] = expected_calibration_error(y, s)
        mean_score[j] = _mean_score(y, y, s)
        gap_se[j] = calibration_gap_se(y, y, s)
        coverage[j] = interval_coverage(y, s, lo, hi, bin_size=coverage_bin)[0]
        width[j] = float(np.mean(np.asarray(hi) - np.asarray(lo)))
    return {
        "count": count_.astype(float),
        "positives": positives.astype(float),
        "base_rate": ratio(positives, count_),
        "selection_rate": ratio(chosen, count_),
        "true_positive_rate": ratio(hits, positives),
        "false_positive_rate": ratio(false_hits, negatives),
        "calibration_error": calibration,
        "mean_score": mean_score,
        "calibration_gap_se": gap_se,
        "coverage": coverage,
        "coverage_bins": np.maximum(1, count_ // coverage_bin).astype(float),
        "mean_interval_width": width,
    }


def group_metric_functions(coverage_bin: int) -> dict[str, Callable[..., float]]:
    """The MetricFrame callables, one per column of :class:`GroupMetrics` that it computes: the
    definitions :func:`group_rates` computes at once (and is checked against).

    Sample params: ``calibration_error``, ``mean_score`` and ``calibration_gap_se`` take
    ``score``; ``coverage`` takes ``score``,
    ``lower`` and ``upper``; ``mean_interval_width`` takes ``lower`` and ``upper``.
    """

    def coverage(y_true: Any, y_pred: Any, score: Any, lower: Any, upper: Any) -> float:
        return interval_coverage(y_true, score, lower, upper, bin_size=coverage_bin)[0]

    def coverage_bins(y_true: Any, y_pred: Any) -> float:
        return float(max(1, len(y_true) // coverage_bin))

    return {
        "count": count,
        "positives": lambda y_true, y_pred: float(np.sum(np.asarray(y_true) == 1)),
        "base_rate": _base_rate,
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": _false_positive_rate,
        "calibration_error": _calibration_error,
        "mean_score": _mean_score,
        "calibration_gap_se": calibration_gap_se,
        "coverage": coverage,
        "coverage_bins": coverage_bins,
        "mean_interval_width": _mean_width,
    }
