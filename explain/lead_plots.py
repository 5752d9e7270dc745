"""PNG plots for MLflow runs and model cards (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

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


class GroupBar(NamedTuple):
    """One group's selection rate (probability) and its 95% interval, for :func:`fairness_plot`."""

    group: str
    rate: float
    low: float | None
    high: float | None
    small: bool = False  # too few leads to be compared: drawn pale


def fairness_plot(
    panels: Mapping[str, Sequence[GroupBar]], path: Path, *, floor: float, title: str
) -> Path:
    """Selection rate per group with interval bars, one panel per attribute.

    The dashed line in each panel is ``floor`` times the highest selection rate of the groups
    that are compared (not small): a compared group left of it breaks the floor on the
    disparate-impact ratio.
    """
    names = list(panels)
    columns = 2 if len(names) > 1 else 1
    rows = max(1, -(-len(names) // columns))
    heights = [max(len(panels[n]), 2) for n in names] + [2] * (rows * columns - len(names))
    row_heights = [max(heights[r * columns : (r + 1) * columns]) for r in range(rows)]
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(6.0 * columns, 0.32 * sum(row_heights) + 1.1 * rows + 0.6),
        gridspec_kw={"height_ratios": row_heights},
        squeeze=False,
    )
    for ax, name in zip(axes.flat, names, strict=False):
        bars = list(panels[name])[::-1]
        y = np.arange(len(bars))
        rates = np.array([b.rate for b in bars])
        lows = np.array([b.rate - b.low if b.low is not None else 0.0 for b in bars])
        highs = np.array([b.high - b.rate if b.high is not None else 0.0 for b in bars])
        colours = ["#c9d3e0" if b.small else "#3b6ea8" for b in bars]
        ax.barh(y, rates, color=colours, xerr=[np.maximum(lows, 0), np.maximum(highs, 0)])
        ax.set_yticks(y, [f"{b.group} (small)" if b.small else b.group for b in bars])
        compared = [b.rate for b in bars if not b.small]
        if compared:
            ax.axvline(floor * max(compared), color="#b03a2e", linestyle="--")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("selection rate (share graded A or B)")
        ax.set_xlim(0, max(1e-3, float(np.max(rates + highs)) * 1.15))
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.suptitle(
        f"{title}\ndashed: {floor:g} x the highest rate among compared groups; pale: too few "
        "leads to compare",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
