"""PNG plots for MLflow runs and model cards (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # a server has no display; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np


def importance_plot(importance: Sequence[tuple[str, float]], path: Path, *, top: int = 20) -> Path:
    """Horizontal bars of mean |SHAP| (log-odds), largest on top."""
    items = list(importance)[:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(items) + 1.2))
    ax.barh([name for name, _ in items], [value for _, value in items], color="#3b6ea8")
    ax.set_xlabel("mean |SHAP contribution| (log-odds)")
    ax.set_title("Global feature importance (holdout)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def calibration_plot(
    curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, *, title: str
) -> Path:
    """Reliability diagram: mean predicted vs observed rate per bin, one line per curve."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    for label, (predicted, observed) in curves.items():
        ax.plot(predicted, observed, marker="o", label=label)
    ax.set_xlabel("predicted probability of conversion")
    ax.set_ylabel("observed conversion rate")
    ax.set_title(title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
