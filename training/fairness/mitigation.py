"""Mitigations: Kamiran-Calders reweighing for the fit, and Fairlearn's ThresholdOptimizer as a
report (per-group thresholds beside the single cut-off; never used for serving)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from candor.models.contract import Contract
from candor.models.errors import ErrorDetail, OptionError
from candor.models.leads.features import build_features
from candor.training.fairness.audit import MIN_GROUP_SIZE
from candor.training.fairness.disparity import RATIO
from candor.training.fairness.groups import attribute_labels, audited_attributes, group_codes
from candor.training.fairness.jsonsafe import finite_or_none, json_safe
from candor.training.fairness.rates import true_positive_rate
from candor.training.fit import FitResult

MITIGATIONS = ("reweight", "thresholds")


def check_mitigation(
    contract: Contract,
    columns: Mapping[str, Any],
    mitigate: str | None,
    mitigate_by: str | None,
) -> None:
    """Fail before training when a mitigation is unknown or names no audited column."""
    if mitigate is None and mitigate_by is None:
        return
    if mitigate not in MITIGATIONS:
        raise OptionError(
            f"--mitigate must be one of {list(MITIGATIONS)}, got {mitigate!r}",
            [ErrorDetail("mitigate", "unknown mitigation")],
        )
    audited = [name for name, _ in audited_attributes(contract)]
    if mitigate_by not in audited or mitigate_by not in columns:
        raise OptionError(
            f"--mitigate-by must name an audited column of the data (a protected attribute or "
            f"an audit segment of contract {contract.name!r}): got {mitigate_by!r}; audited "
            f"columns present: {[n for n in audited if n in columns]}",
            [ErrorDetail("mitigate_by", f"not an audited column: {mitigate_by!r}")],
        )


def reweighing_weights(groups: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """Kamiran-Calders reweighing: ``w(g, y) = P(g) P(y) / P(g, y)`` for each row.

    Weighted, the outcome is independent of the group: every group gets the overall
    conversion rate. Estimated on the rows given (the training split).
    """
    codes, names = group_codes(np.asarray(groups, dtype=object))
    outcome = np.asarray(outcome).astype(int)
    n = len(outcome)
    weights = np.ones(n)
    if n == 0:
        return weights
    k = len(names)
    in_group = np.bincount(codes, minlength=k) / n  # P(g)
    for y in (0, 1):
        is_y = outcome == y
        cells = np.bincount(codes[is_y], minlength=k)  # leads of (g, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = in_group * is_y.mean() / (cells / n)
        weights[is_y] = w[codes[is_y]]
    return weights


def training_weights(
    columns: Mapping[str, Any],
    outcome: np.ndarray,
    train_rows: np.ndarray,
    by: str,
    contract: Contract | None = None,
) -> np.ndarray:
    """Kamiran-Calders weights on the training rows (1 elsewhere: those rows are not fitted).

    ``columns[by]`` may be a list, a numpy array or a pyarrow array; with ``contract``, a
    banded column's groups are its bands (``training.fairness.bands``), as in the audit.
    """
    groups = attribute_labels(columns, by, contract)
    weights = np.ones(len(outcome))
    weights[train_rows] = reweighing_weights(groups[train_rows], outcome[train_rows])
    return weights


class _ScoreColumn(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A "prefit estimator" whose probability of conversion is the first column of X."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> _ScoreColumn:
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        score = np.asarray(X, float)[:, 0]
        return np.column_stack([1.0 - score, score])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, float)[:, 0] >= 0.5).astype(int)


@dataclass(frozen=True)
class SelectionSummary:
    """One way of selecting leads, on the holdout: rates are probabilities."""

    accuracy: float
    selection_rate: float
    selection_rate_by_group: dict[str, float]  # groups of at least ``min_group_size`` leads
    disparate_impact_ratio: float | None  # None: fewer than two such groups, or none selected
    true_positive_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "selection_rate": self.selection_rate,
            "selection_rate_by_group": self.selection_rate_by_group,
            RATIO: self.disparate_impact_ratio,
            "true_positive_rate": self.true_positive_rate,
        }


@dataclass(frozen=True)
class ThresholdReport:
    """Per-group thresholds against the single cut-off: ``fairness/threshold_optimizer.json``."""

    attribute: str
    method: str
    threshold: float  # the single cut-off (probability)
    single_cutoff: SelectionSummary
    per_group_thresholds: SelectionSummary

    def to_dict(self) -> dict[str, Any]:
        return json_safe(
            {
                "attribute": self.attribute,
                "method": self.method,
                "single_cutoff": {"threshold": self.threshold, **self.single_cutoff.to_dict()},
                "per_group_thresholds": self.per_group_thresholds.to_dict(),
            }
        )


def threshold_optimizer_report(
    *,
    attribute: str,
    fit_score: np.ndarray,
    fit_outcome: np.ndarray,
    fit_groups: np.ndarray,
    score: np.ndarray,
    outcome: np.ndarray,
    groups: np.ndarray,
    threshold: float,
    seed: int = 0,
    min_group_size: int = MIN_GROUP_SIZE,
) -> ThresholdReport:
    """Per-group thresholds (Fairlearn's ``ThresholdOptimizer``, demographic parity) as a report.

    The optimizer is fitted on one split's calibrated scores (``fit_*``, the calibration split)
    and evaluated on another (the holdout), beside the single cut-off the service uses. Nothing
    here changes the model or serving.
    """
    from fairlearn.postprocessing import ThresholdOptimizer

    optimizer = ThresholdOptimizer(
        estimator=_ScoreColumn(),
        constraints="demographic_parity",
        objective="accuracy_score",
        prefit=True,
        predict_method="predict_proba",
    )
    optimizer.fit(
        np.asarray(fit_score, float).reshape(-1, 1),
        np.asarray(fit_outcome).astype(int),
        sensitive_features=np.asarray(fit_groups, dtype=object),
    )
    outcome = np.asarray(outcome).astype(int)
    groups = np.asarray(groups, dtype=object)
    post = np.asarray(
        optimizer.predict(
            np.asarray(score, float).reshape(-1, 1),
            sensitive_features=groups,
            random_state=seed,
        )
    ).astype(bool)
    single = np.asarray(score) >= threshold

    def summary(selected: np.ndarray) -> SelectionSummary:
        rates = {
            str(g): float(selected[groups == g].mean())
            for g in sorted(set(groups.tolist()))
            if (groups == g).sum() >= min_group_size
        }
        values = np.array(list(rates.values()))
        return SelectionSummary(
            accuracy=float(np.mean(selected == (outcome == 1))),
            selection_rate=float(selected.mean()),
            selection_rate_by_group=rates,
            disparate_impact_ratio=float(values.min() / values.max())
            if len(values) >= 2 and values.max() > 0
            else None,
            true_positive_rate=finite_or_none(true_positive_rate(outcome, selected)),
        )

    return ThresholdReport(
        attribute=attribute,
        method="fairlearn ThresholdOptimizer(constraints=demographic_parity, "
        "objective=accuracy_score), fitted on the calibration split, applied to the holdout",
        threshold=threshold,
        single_cutoff=summary(single),
        per_group_thresholds=summary(post),
    )


def _rows_of(values: Any, rows: np.ndarray) -> Any:
    """``rows`` of one column, in the column's own kind: a list stays a list, a numpy array or
    a pyarrow array stays one (``build_features`` reads all three)."""
    if isinstance(values, np.ndarray):
        return values[rows]
    if hasattr(values, "to_pylist") and hasattr(values, "take"):  # pyarrow
        return values.take(np.asarray(rows, np.intp))
    if isinstance(values, Sequence):
        return [values[i] for i in np.asarray(rows).tolist()]
    return np.asarray(values)[rows]


def _scores_of(result: FitResult, columns: Mapping[str, Any], rows: np.ndarray) -> np.ndarray:
    """Calibrated probabilities of the new scorer for ``rows`` of the training frame."""
    subset = {k: _rows_of(v, rows) for k, v in columns.items()}
    matrix = build_features(subset, schema=result.scorer.schema_, n_rows=len(rows))
    return result.scorer.predict_proba(matrix.values)


def holdout_threshold_report(
    result: FitResult,
    columns: Mapping[str, Any],
    outcome: np.ndarray,
    *,
    by: str,
    threshold: float,
    min_group_size: int,
    contract: Contract | None = None,
) -> ThresholdReport:
    """Per-group thresholds fitted on the calibration split, evaluated on the holdout (by band
    where ``contract`` bands ``by``)."""
    groups = attribute_labels(columns, by, contract)
    splits = result.splits
    return threshold_optimizer_report(
        attribute=by,
        fit_score=_scores_of(result, columns, splits.calibration),
        fit_outcome=outcome[splits.calibration],
        fit_groups=groups[splits.calibration],
        score=result.holdout_score,
        outcome=result.holdout_outcome,
        groups=groups[splits.holdout],
        threshold=threshold,
        seed=int(result.scorer.meta_["seed"]),
        min_group_size=min_group_size,
    )
