"""Per-group rates, calibration and interval coverage (probabilities throughout).

Per group:
    count, positives, base_rate: leads, converted leads, and the conversion rate.
    selection_rate: share of leads with ``score >= threshold``; the pipeline passes the B
        cut-off of the scoring policy, so "selected" means graded A or B.
    true_positive_rate / false_positive_rate: share of converted / not converted leads that
        were selected (``None`` where the group has no such leads).
    calibration_error: expected calibration error of the calibrated score within the group
        (``training.metrics.expected_calibration_error``, 10 equal-width bins).
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


def _mean_width(
    y_true: np.ndarray, y_pred: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> float:
    return float(np.mean(np.asarray(upper) - np.asarray(lower)))


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
    bins = np.array_split(order, max(1, n // bin_size))
    covered = 0
    for rows in bins:
        observed = float(outcome[rows].mean())
        p = float(score[rows].mean())
        se = math.sqrt(p * (1.0 - p) / len(rows))
        if lower[rows].mean() - z * se <= observed <= upper[rows].mean() + z * se:
            covered += 1
    return covered / len(bins), len(bins)


def group_metric_functions(coverage_bin: int) -> dict[str, Callable[..., float]]:
    """The MetricFrame callables, one per column of :class:`GroupMetrics` that it computes.

    Sample params: ``calibration_error`` takes ``score``; ``coverage`` takes ``score``,
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
        "coverage": coverage,
        "coverage_bins": coverage_bins,
        "mean_interval_width": _mean_width,
    }
