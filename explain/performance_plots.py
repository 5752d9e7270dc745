"""A PNG of real-world accuracy over time: ROC-AUC and Brier score per month (matplotlib).

Each month's figure with its 95% interval (DeLong's for ROC-AUC, the normal approximation for
the Brier score; ``models.monitoring.performance``), and a dashed line at the holdout figure
of each model version that made the scores. A month with too few outcomes has no figure: it is
marked at the foot of the panel with its count.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # a server has no display; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from candor.models.monitoring.performance import Estimate

POINT = "#1f5fa8"
HOLDOUT_COLOURS = ("#b03a2e", "#7d3c98", "#117a65", "#b9770e")


@dataclass(frozen=True)
class MonthPoint:
    """One month's figures over its counted scores (None: too small or undefined)."""

    month: str  # YYYY-MM
    count: int
    roc_auc: Estimate | None
    brier: Estimate | None


@dataclass(frozen=True)
class HoldoutLine:
    """One model version's holdout figures (None: not available)."""

    model: str  # name@version
    roc_auc: float | None
    brier: float | None


def _panel(
    ax: Axes,
    points: Sequence[MonthPoint],
    holdout: Sequence[HoldoutLine],
    *,
    metric: str,
    label: str,
) -> None:
    x = np.arange(len(points))
    for i, p in enumerate(points):
        estimate: Estimate | None = getattr(p, metric)
        if estimate is None or estimate.value is None:
            ax.annotate(
                f"too small\n(n={p.count})" if estimate is None else "undefined",
                (i, 0.02),
                xycoords=("data", "axes fraction"),
                ha="center",
                fontsize=7,
                color="grey",
            )
            continue
        interval = estimate.interval
        if interval is None:
            ax.plot([i], [estimate.value], marker="o", color=POINT)
        else:
            below, above = estimate.value - interval[0], interval[1] - estimate.value
            ax.errorbar(
                [i], [estimate.value], yerr=[[below], [above]], fmt="o", color=POINT, capsize=4
            )
    for colour, line in zip(HOLDOUT_COLOURS, holdout, strict=False):
        value = getattr(line, metric)
        if value is not None:
            ax.axhline(
                value, color=colour, linestyle="--", linewidth=1, label=f"holdout {line.model}"
            )
    ax.set_ylabel(label, fontsize=9)
    ax.set_xticks(x, [p.month for p in points], rotation=45, ha="right", fontsize=8)
    ax.set_xlim(-0.5, max(len(points), 1) - 0.5)
    ax.set_ylim(0, 1)
    ax.tick_params(axis="y", labelsize=8)
    if any(getattr(h, metric) is not None for h in holdout):
        ax.legend(fontsize=7, loc="upper right")


def performance_png(
    points: Sequence[MonthPoint], holdout: Sequence[HoldoutLine], *, title: str
) -> bytes:
    """ROC-AUC (top) and Brier score (bottom) per month, with intervals and holdout lines."""
    fig, (auc_ax, brier_ax) = plt.subplots(2, 1, figsize=(8.0, 6.0), sharex=True)
    if points:
        _panel(auc_ax, points, holdout, metric="roc_auc", label="ROC-AUC (95% DeLong)")
        _panel(brier_ax, points, holdout, metric="brier", label="Brier score (95%)")
        brier_ax.set_ylim(0, max(0.3, _highest(points) * 1.2))
    else:
        for ax in (auc_ax, brier_ax):
            ax.text(
                0.5,
                0.5,
                "no scores with a recorded outcome in this window",
                ha="center",
                va="center",
                transform=ax.transAxes,
                color="grey",
            )
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def _highest(points: Sequence[MonthPoint]) -> float:
    """The highest Brier figure or interval end drawn (the panel's scale)."""
    tops = [
        p.brier.high if p.brier.high is not None else p.brier.value
        for p in points
        if p.brier is not None and p.brier.value is not None
    ]
    return max((t for t in tops if t is not None), default=0.0)
