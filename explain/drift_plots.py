"""PNG bar charts of one input's drift: the holdout's share in each bin beside the window's."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # a server has no display; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from candor.models.monitoring.drift import InputDrift

COLOURS = {"reference": "#9aa7b8", "observed": "#1f5fa8"}


def drift_figure(drift: InputDrift, *, scores: int, title: str) -> Figure:
    """Paired bars per bin: the reference (holdout at training) and the observed window."""
    x = np.arange(len(drift.labels))
    width = 0.4
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(x) + 2.0), 4.2))
    ax.bar(
        x - width / 2,
        drift.reference_shares,
        width,
        color=COLOURS["reference"],
        label="training holdout",
    )
    ax.bar(
        x + width / 2,
        drift.observed_shares,
        width,
        color=COLOURS["observed"],
        label=f"audited scores ({scores})",
    )
    ax.set_xticks(x, drift.labels, rotation=35, ha="right", fontsize=7)
    ax.set_ylabel("share of leads")
    verdict = (
        f"PSI {drift.psi:.3f}: {drift.status}"
        if drift.psi is not None
        else f"{drift.status}: too few scores to judge"
    )
    ax.set_title(f"{drift.name} — {verdict}\n{title}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def drift_plot(drift: InputDrift, path: Path, *, scores: int, title: str) -> Path:
    """Write :func:`drift_figure` to ``path`` (PNG)."""
    fig = drift_figure(drift, scores=scores, title=title)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def drift_png(drift: InputDrift, *, scores: int, title: str) -> bytes:
    """:func:`drift_figure` as PNG bytes (for an HTTP answer)."""
    fig = drift_figure(drift, scores=scores, title=title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()
