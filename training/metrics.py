"""Evaluation metrics for a probability of conversion (all inputs are probabilities)."""

from __future__ import annotations

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score


def expected_calibration_error(
    outcome: np.ndarray, probability: np.ndarray, *, bins: int = 10
) -> float:
    """Weighted mean |observed rate - mean prediction| over equal-width probability bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probability, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            gap = abs(float(outcome[in_bin].mean()) - float(probability[in_bin].mean()))
            total += gap * in_bin.sum()
    return total / len(outcome)


def classification_metrics(outcome: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    clipped = np.clip(probability, 1e-6, 1 - 1e-6)
    return {
        "roc_auc": float(roc_auc_score(outcome, probability)),
        "pr_auc": float(average_precision_score(outcome, probability)),
        "brier": float(brier_score_loss(outcome, probability)),
        "log_loss": float(log_loss(outcome, clipped, labels=[0, 1])),
        "ece": expected_calibration_error(outcome, probability),
    }


def reliability_curve(
    outcome: np.ndarray, probability: np.ndarray, *, bins: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """(mean predicted, observed rate) per quantile bin."""
    observed, predicted = calibration_curve(outcome, probability, n_bins=bins, strategy="quantile")
    return predicted, observed
